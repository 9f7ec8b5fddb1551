// The words for codes the API sends without words are the server's own, exactly: each table of utils/vocabulary.js
// is compared with the table it mirrors in the server's source, and any difference (a word, a missing or an extra
// code) fails here.
const { serverTables } = require('./helpers/server-words')
const vocabulary = require('../utils/vocabulary')
const contract = require('../utils/contract')
const { installWx, restoreWx } = require('./helpers/fake-wx')

const MIRRORS = [
  ['STATUS_LABELS', 'server/vocabulary.py', 'STATUS_LABELS'],
  ['DEGREE_LABELS', 'server/vocabulary.py', 'DEGREE_LABELS'],
  ['CERTIFICATE_STATUS_LABELS', 'server/vocabulary.py', 'CERTIFICATE_STATUS_LABELS'],
  ['HANDOVER_LABELS', 'server/vocabulary.py', 'HANDOVER_LABELS'],
  // Keyed by not_pushed_reason; "null" (Python's None) is a notification that was pushed.
  ['DELIVERY_LABELS', 'server/web/student_pages.py', 'DELIVERY'],
]

function server(file, name) {
  return serverTables(file, [name])[name]
}

test.each(MIRRORS)('%s is %s %s, word for word', (ours, file, name) => {
  expect(vocabulary[ours]).toEqual(server(file, name))
})

test('the hand-over choices are every kind the server accepts, in its order, each with its words', () => {
  expect(contract.HANDOVER_ITEMS).toEqual(server('server/vocabulary.py', 'HANDOVER_ITEMS'))
  expect(Object.keys(vocabulary.HANDOVER_LABELS)).toEqual(contract.HANDOVER_ITEMS)
})

test.each([
  ['zh_CN', ['有效（已办理交接）', '学位证书', '已撤销']],
  ['en', ['Valid (hand-over recorded)', 'Degree certificate', 'Revoked']],
])('a certificate status and a hand-over are said in one language (phone %s), nothing for a code it lacks',
  (language, [handedOver, degree, revoked]) => {
    installWx({ language })
    try {
      expect(vocabulary.word(vocabulary.CERTIFICATE_STATUS_LABELS, 'handed_over')).toBe(handedOver)
      expect(vocabulary.word(vocabulary.CERTIFICATE_STATUS_LABELS, 'revoked')).toBe(revoked)
      expect(vocabulary.word(vocabulary.HANDOVER_LABELS, 'degree_certificate')).toBe(degree)
      expect(vocabulary.word(vocabulary.HANDOVER_LABELS, 'toaster')).toBe('')
    } finally {
      restoreWx()
    }
  })
