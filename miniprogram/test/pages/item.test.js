// Item detail, rendered from what the ITEM carries: its rows in every state, reasons, next steps, department, and
// its actions (the library card's cancellation) — the page knows no item.
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
    passed: ['欠书0', '欠费（元）0.00', '违章0', '借书证状态已注销', '论文提交状态记录审核通过'],
    not_passed: ['欠书2', '欠费（元）12.50', '违章1', '借书证状态未注销', '论文提交状态已提交，待审核'],
    unavailable: [],
  },
  archives: {
    passed: ['论文提交状态已审核'],
    not_passed: ['论文提交状态未提交'],
    unavailable: [],
  },
  apartment: {
    passed: ['在校住宿是', '宿舍楼紫荆 3 号楼', '退宿日期2027-06-20', '退宿办理人王老师'],
    not_passed: ['在校住宿是', '宿舍楼紫荆 3 号楼', '退宿日期—', '退宿办理人—'],
    unavailable: [],
  },
  finance: {
    passed: ['欠费（元）0.00', '2026 学年学费应缴 ¥8000.00 · 已缴 ¥8000.00'],
    not_passed: ['欠费（元）1200.00', '2026 学年住宿费应缴 ¥1200.00 · 已缴 ¥0.00'],
    unavailable: [],
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
    if (status === 'unavailable') {
      // Nothing was ever read: no time to give, and the details card says so instead of standing empty.
      expect(page.querySelector('.item__updated')).toBeFalsy()
      expect(text(page, '.item__nothing-known')).toBe(`尚未取得${api.item(key, status).department.name}的任何数据，暂无明细可显示。`)
      expect(page.querySelector('.item__source')).toBeFalsy()
    }
  })
})

describe('an unavailable item', () => {
  test('shows the last values read, labelled as such with their time, as the web page does', async () => {
    setup()
    serve({ apartment: api.item('apartment', 'unavailable', 'last_known') })
    const page = await openItem('apartment')
    expect(text(page, '.item__status')).toBe('暂不可查')
    expect(text(page, '.item__last-known')).toBe('以下为最后已知数据，截至 2027-06-01 10:30')
    expect(texts(page, '.item__field')).toEqual(EXPECTED_ROWS.apartment.not_passed)
    expect(page.querySelector('.item__details--stale')).toBeTruthy()
    expect(page.querySelector('.item__nothing-known')).toBeFalsy()
    // The time is said once, with the values it belongs to, not as an "updated" time of a grey item.
    expect(page.querySelector('.item__updated')).toBeFalsy()
    expect(texts(page, '.item__reason')).toEqual(['总务部公寓与物业中心系统暂时无法查询'])
  })

  // Grey is not red: the item has not failed, it cannot be checked now, and the heading and colour say so.
  test('its reasons are why it cannot be checked now, not why it failed', async () => {
    setup()
    serve({ apartment: api.item('apartment', 'unavailable', 'last_known') })
    const page = await openItem('apartment')
    expect(text(page, '.item__reasons-title')).toBe('暂不可查的原因')
    expect(allText(page)).not.toContain('未通过')
    expect(page.querySelector('.item__reasons .error-text')).toBeFalsy()
  })

  test('a not passed item\'s reasons are why it failed, in red', async () => {
    setup()
    serve({ library: api.item('library', 'not_passed') })
    const page = await openItem('library')
    expect(text(page, '.item__reasons-title')).toBe('未通过原因')
    expect(page.querySelector('.item__reasons .error-text')).toBeTruthy()
  })

  test('English', async () => {
    setup({ language: 'en' })
    serve({ apartment: api.item('apartment', 'unavailable', 'last_known') })
    const page = await openItem('apartment')
    expect(text(page, '.item__last-known')).toBe('Last known values, as of 2027-06-01 10:30')
    expect(text(page, '.item__reasons-title')).toBe('Why it cannot be checked now')
  })

  test('with nothing ever read says so in English too', async () => {
    setup({ language: 'en' })
    serve({ archives: api.item('archives', 'unavailable') })
    const page = await openItem('archives')
    expect(text(page, '.item__nothing-known')).toBe('Nothing has been read from Archives yet, so there are no details to show.')
  })

  test('a passed or not passed item is not called last known', async () => {
    setup()
    serve({ library: api.item('library', 'not_passed') })
    const page = await openItem('library')
    expect(page.querySelector('.item__last-known')).toBeFalsy()
    expect(page.querySelector('.item__details--stale')).toBeFalsy()
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
  expect(text(page, '.item__source')).toBe('数据来源：部门批量导入')
  expect(page.querySelector('.item__action-button')).toBeFalsy()
  page.querySelector('.item__call').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.calls).toEqual(['010-00000001'])
})

test('an item the app has never heard of renders from its rows and actions', async () => {
  setup()
  const college = Object.assign(api.item('archives', 'not_passed'), {
    key: 'college', title: '学院审核', title_en: 'College sign-off', status_label: '未通过',
    rows: [{ key: 'status', label: '学院审核', label_en: 'College', value: '尚欠', value_en: 'owes' },
      { key: 'note', label: '说明', label_en: 'Note', value: '实验室钥匙未交', value_en: '实验室钥匙未交' }],
  })
  const data = api.clearance()
  data.items.push(college)
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data })
  const page = await openItem('college')
  expect(text(page, '.item__title')).toBe('学院审核')
  expect(texts(page, '.item__field')).toEqual(['学院审核尚欠', '说明实验室钥匙未交'])
})

test('English: bilingual fields switch to _en', async () => {
  setup({ language: 'en' })
  serve({ apartment: api.item('apartment', 'not_passed') })
  const page = await openItem('apartment')
  expect(text(page, '.item__status')).toBe('Not passed')
  expect(texts(page, '.item__reason')).toEqual(['Move-out not recorded'])
  expect(text(page, '.item__dept-place')).toBe('Apartment office')
  expect(texts(page, '.item__field')).toEqual(['Lived on campusyes', 'Building紫荆 3 号楼', 'Move-out date—', 'Move-out handled by—'])
})

test('the source is said in words from the server, in English too, and never as its code', async () => {
  setup({ language: 'en' })
  serve({ library: api.item('library', 'passed') })
  const page = await openItem('library')
  expect(text(page, '.item__source')).toBe('Source: Imported by the department')
})

test('a server that sends no words for the source shows none rather than its code', async () => {
  setup()
  const library = api.item('library', 'passed')
  delete library.source_label
  delete library.source_label_en
  serve({ library })
  const page = await openItem('library')
  expect(page.querySelector('.item__source')).toBeFalsy()
  expect(allText(page)).not.toContain('import')
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
    expect(texts(page, '.item__field')[3]).toBe('借书证状态未注销')
    expect(text(page, '.item__action-button')).toBe('注销借书证')
    page.querySelector('.item__action-button').dispatchEvent('tap')
    await settle()
    expect(fake.log.modals[0]).toEqual({ title: '确认注销', content: '注销后不可恢复，之后将不能再借书。' })
    expect(fake.server.calls('POST', '/api/v1/me/library-card/cancel')).toHaveLength(1)
    expect(texts(page, '.item__field')[3]).toBe('借书证状态已注销')
    expect(text(page, '.item__status')).toBe('通过')
    expect(page.querySelector('.item__action-button')).toBeFalsy()
    expect(fake.log.toasts).toEqual(['借书证已注销'])
  })

  test('nothing is sent when the student declines', async () => {
    setup({ modalConfirm: false })
    serveCancellable()
    const page = await openItem('library')
    await page.instance.act('cancel-card')
    await settle()
    expect(fake.server.calls('POST', '/api/v1/me/library-card/cancel')).toHaveLength(0)
  })

  test.each([
    [409, 'CARD_ALREADY_CANCELLED', '借书证已经注销过了。', false, {}],
    [422, 'CARD_CANCEL_NOT_ALLOWED', '有欠书、欠费或违章时不能注销借书证。', false, { reasons: ['尚有 1 本图书未归还'] }],
    [422, 'LIBRARY_REFUSED', '图书馆未能注销借书证，请联系图书馆。', true, {}],
    [503, 'SOURCE_UNAVAILABLE', '部门数据暂时无法读取，请稍后再试。', true, {}],
    [429, 'RATE_LIMITED', '操作太频繁，请稍后再试。', true, {}],
  ])('%i %s: says why (and whom to call), then reloads', async (status, code, message, withPhone, extra) => {
    setup()
    serveCancellable()
    fake.server.on('POST', '/api/v1/me/library-card/cancel',
      { statusCode: status, data: { error: Object.assign({ code }, extra) } })
    const page = await openItem('library')
    await page.instance.act('cancel-card')
    await settle()
    const shown = fake.log.modals[1].content
    expect(shown.startsWith(message)).toBe(true)
    expect(shown.includes('请联系图书馆：010-00000001')).toBe(withPhone)
    expect(fake.server.calls('GET', '/api/v1/me/clearance')).toHaveLength(2)
  })
})
