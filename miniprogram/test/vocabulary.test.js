// The words for codes the API sends without words are the server's own, exactly: each table of utils/vocabulary.js
// is compared with the table it mirrors in the server's source, and any difference (a word, a missing or an extra
// code) fails here.
const { serverTables } = require('./helpers/server-words')
const vocabulary = require('../utils/vocabulary')
const contract = require('../utils/contract')

const MIRRORS = [
  ['STATUS_LABELS', 'server/vocabulary.py', 'STATUS_LABELS'],
  ['DEGREE_LABELS', 'server/vocabulary.py', 'DEGREE_LABELS'],
  ['CERTIFICATE_STATUS_LABELS', 'server/web/certificate_pages.py', 'STATUS_TEXT'],
  ['HANDOVER_LABELS', 'server/certificates/models.py', 'HANDOVER_ITEMS'],
  // Keyed by not_pushed_reason; "null" (Python's None) is a notification that was pushed.
  ['DELIVERY_LABELS', 'server/web/student_pages.py', 'DELIVERY'],
]

function server(file, name) {
  return serverTables(file, [name])[name]
}

test.each(MIRRORS)('%s is %s %s, word for word', (ours, file, name) => {
  expect(vocabulary[ours]).toEqual(server(file, name))
})

test('the hand-over choices are every kind the server accepts, in its order', () => {
  expect(contract.HANDOVER_ITEMS).toEqual(Object.keys(server('server/certificates/models.py', 'HANDOVER_ITEMS')))
})

test('every degree level and certificate status the app knows has the server\'s words', () => {
  expect(contract.DEGREE_LEVELS).toEqual(Object.keys(vocabulary.DEGREE_LABELS))
  for (const status of Object.values(contract.CERTIFICATE_STATUS)) {
    expect(Object.keys(vocabulary.CERTIFICATE_STATUS_LABELS)).toContain(status)
  }
  for (const status of Object.values(contract.ITEM_STATUS)) expect(Object.keys(vocabulary.STATUS_LABELS)).toContain(status)
  expect(contract.NOT_PUSHED_REASONS.concat(['null']).sort()).toEqual(Object.keys(vocabulary.DELIVERY_LABELS).sort())
})

test('the reader refuses a name that is not there, rather than comparing with nothing', () => {
  expect(() => serverTables('server/vocabulary.py', ['NO_SUCH_TABLE'])).toThrow(/NO_SUCH_TABLE/)
})
