// Item detail: every field of every item in every state, reasons, next steps, department, card cancellation.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, text, texts, allText } = require('../helpers/render')
const api = require('../fixtures/api')

const SESSION = { 'lixiao.token': 'tok', 'lixiao.profile': { bound: true, student: {}, staff: null } }

let fake
function setup(options) {
  fake = installWx(Object.assign({ storage: SESSION }, options))
  return fake
}

function serve(items) {
  const data = api.clearance()
  data.items = data.items.map((it) => items[it.key] || it)
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data })
}

async function openItem(key) {
  const page = renderPage('item')
  await page.instance.onLoad({ key })
  await settle()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

const EXPECTED_ROWS = {
  library: {
    passed: ['欠书0 本', '欠费¥0.00', '违章0 次', '借书证状态已注销', '论文提交状态记录审核通过'],
    not_passed: ['欠书2 本', '欠费¥12.50', '违章1 次', '借书证状态有效（未注销）', '论文提交状态已提交，待审核'],
    unavailable: ['欠书—', '欠费—', '违章—', '借书证状态—', '论文提交状态—'],
  },
  archives: {
    passed: ['论文提交状态已审核'],
    not_passed: ['论文提交状态未提交'],
    unavailable: ['论文提交状态—'],
  },
  apartment: {
    passed: ['是否住校是', '楼宇紫荆 3 号楼', '退宿日期2027-06-20', '退宿办理人王老师'],
    not_passed: ['是否住校是', '楼宇紫荆 3 号楼', '退宿日期—', '退宿办理人—'],
    unavailable: ['是否住校—', '楼宇—', '退宿日期—', '退宿办理人—'],
  },
  finance: {
    passed: ['欠费金额¥0.00'],
    not_passed: ['欠费金额¥1200.00'],
    unavailable: ['欠费金额—'],
  },
}

const STATUS_TEXT = { passed: '通过', not_passed: '未通过', unavailable: '暂不可查' }

describe.each(['library', 'archives', 'apartment', 'finance'])('%s', (key) => {
  test.each(['passed', 'not_passed', 'unavailable'])('%s: every field, status, department', async (status) => {
    setup()
    serve({ [key]: api.item(key, status) })
    const page = await openItem(key)
    expect(text(page, '.item__status')).toBe(STATUS_TEXT[status])
    expect(texts(page, '.item__field')).toEqual(EXPECTED_ROWS[key][status])
    expect(text(page, '.item__dept-place')).toBeTruthy()
    if (status === 'passed') {
      expect(page.querySelector('.item__reasons')).toBeFalsy()
      expect(text(page, '.item__updated')).toBe('更新于 2027-06-01 10:30')
    } else {
      expect(texts(page, '.item__reason').length).toBeGreaterThan(0)
      expect(texts(page, '.item__next-step')[0]).toMatch(/^1\. /)
    }
    if (status === 'unavailable') expect(text(page, '.item__updated')).toBe('尚无数据')
  })
})

test('library not passed: reasons, next steps, place and tap-to-call', async () => {
  setup()
  serve({ library: api.item('library', 'not_passed') })
  const page = await openItem('library')
  expect(text(page, '.item__title')).toBe('图书馆')
  expect(texts(page, '.item__reason')).toEqual(['有 2 本书未归还'])
  expect(texts(page, '.item__next-step')).toEqual(['1. 归还图书并缴清欠费'])
  expect(text(page, '.item__dept-name')).toBe('图书馆')
  expect(text(page, '.item__dept-place')).toBe('图书馆一楼总服务台')
  expect(text(page, '.item__source')).toBe('数据来源：import')
  expect(page.querySelector('.item__cancel-button')).toBeFalsy()
  page.querySelector('.item__call').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.calls).toEqual(['010-00000001'])
})

test('finance lists its fee records', async () => {
  setup()
  serve({ finance: api.item('finance', 'not_passed') })
  const page = await openItem('finance')
  expect(texts(page, '.item__fee')).toEqual(['2026 学年住宿费应缴 ¥1200.00 · 已缴 ¥0.00'])
})

test('English: bilingual fields switch to _en', async () => {
  setup({ language: 'en' })
  serve({ apartment: api.item('apartment', 'not_passed') })
  const page = await openItem('apartment')
  expect(text(page, '.item__status')).toBe('Not passed')
  expect(texts(page, '.item__reason')).toEqual(['Move-out not recorded'])
  expect(text(page, '.item__dept-place')).toBe('Apartment office')
  expect(texts(page, '.item__field')).toEqual(['Lived on campusYes', 'Building紫荆 3 号楼', 'Move-out date—', 'Move-out handled by—'])
})

test('an unknown key shows "no such item"', async () => {
  setup()
  serve({})
  const page = await openItem('gym')
  expect(allText(page)).toContain('没有这个事项')
})

describe('library card cancellation', () => {
  function serveCancellable() {
    serve({ library: api.item('library', 'not_passed', 'cancellable') })
  }

  test('asks first (cannot be undone), then shows the new library item', async () => {
    setup()
    serveCancellable()
    fake.server.on('POST', '/api/v1/me/library-card/cancel', { statusCode: 200, data: api.item('library', 'passed') })
    const page = await openItem('library')
    expect(texts(page, '.item__field')[3]).toBe('借书证状态有效（未注销）')
    page.querySelector('.item__cancel-button').dispatchEvent('tap')
    await settle()
    expect(fake.log.modals[0]).toEqual({ title: '确认注销借书证？', content: '注销后借书证不能再使用，此操作无法撤销。' })
    expect(fake.server.calls('POST', '/api/v1/me/library-card/cancel')).toHaveLength(1)
    expect(texts(page, '.item__field')[3]).toBe('借书证状态已注销')
    expect(text(page, '.item__status')).toBe('通过')
    expect(page.querySelector('.item__cancel-button')).toBeFalsy()
    expect(fake.log.toasts).toEqual(['借书证已注销'])
  })

  test('nothing is sent when the student declines', async () => {
    setup({ modalConfirm: false })
    serveCancellable()
    const page = await openItem('library')
    await page.instance.cancelCard()
    await settle()
    expect(fake.server.calls('POST', '/api/v1/me/library-card/cancel')).toHaveLength(0)
  })

  test.each([
    [409, 'CARD_ALREADY_CANCELLED', '借书证已经注销过了。', false],
    [422, 'CARD_CANCEL_NOT_ALLOWED', '有欠书、欠费或违章时不能注销借书证。', false],
    [422, 'LIBRARY_REFUSED', '图书馆未能注销借书证，请联系图书馆。', true],
    [503, 'SOURCE_UNAVAILABLE', '部门数据暂时无法读取，请稍后再试。', true],
    [429, 'RATE_LIMITED', '操作太频繁，请稍后再试。', true],
  ])('%i %s: says why (and whom to call), then reloads', async (status, code, message, withPhone) => {
    setup()
    serveCancellable()
    fake.server.on('POST', '/api/v1/me/library-card/cancel', { statusCode: status, data: { error: { code } } })
    const page = await openItem('library')
    await page.instance.cancelCard()
    await settle()
    const shown = fake.log.modals[1].content
    expect(shown.startsWith(message)).toBe(true)
    expect(shown.includes('请联系图书馆：010-00000001')).toBe(withPhone)
    expect(fake.server.calls('GET', '/api/v1/me/clearance')).toHaveLength(2)
  })
})
