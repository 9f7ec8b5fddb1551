// Home: basic information, four item cards in every state, submit area, loading/error/empty states.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, text, texts, cards, allText } = require('../helpers/render')
const api = require('../fixtures/api')
const { ERROR_CODES } = require('../../utils/contract')

const STUDENT_SESSION = { 'lixiao.token': 'tok-bound', 'lixiao.profile': { bound: true, student: { name: '张三' }, staff: null } }

let fake
function setup(options) {
  fake = installWx(Object.assign({ storage: STUDENT_SESSION }, options))
  return fake
}

async function openHome() {
  const page = renderPage('home')
  page.instance.onLoad()
  await page.instance.onShow()
  await settle()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('shows basic information and the batch window in Asia/Shanghai time', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  const page = await openHome()
  expect(texts(page, '.home__student .row')).toEqual([
    '姓名张三', '学号2099000001', '学院计算机学院', '专业软件工程', '学位类别硕士研究生', '导师李四', '预计毕业2027-06', '住校是',
  ])
  expect(text(page, '.home__batch-name')).toBe('2027 年 6 月毕业生')
  expect(text(page, '.home__batch-window')).toBe('2027-06-01 00:00 至 2027-07-15 23:59')
  expect(fake.log.titles).toEqual(['离校服务'])
})

test('each item state has its own colour and label; updated_at or "no data yet" is shown', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({ library: 'not_passed', archives: 'passed', apartment: 'unavailable', finance: 'not_passed' }),
  })
  const page = await openHome()
  const shown = cards(page)
  expect(shown.map((c) => [c.title, c.cls, c.label])).toEqual([
    ['图书馆', 'not-passed', '未通过'],
    ['档案馆', 'passed', '通过'],
    ['总务部公寓与物业中心', 'unavailable', '暂不可查'],
    ['财务资产部', 'not-passed', '未通过'],
  ])
  expect(shown[0].text).toContain('有 2 本书未归还')
  expect(shown[0].text).toContain('更新于 2027-06-01 10:30')
  expect(shown[1].text).not.toContain('未归还')
  expect(shown[2].text).toContain('尚无数据')
  expect(shown[2].text).toContain('部门数据暂时无法读取')
})

test('an item\'s status words are the ones the server sends (status_label), the app\'s own only without them', async () => {
  const data = api.clearance({ library: 'not_passed', finance: 'unavailable' })
  Object.assign(data.items[0], { status_label: '未通过（服务器）', status_label_en: 'Not passed (server)' })
  delete data.items[3].status_label
  delete data.items[3].status_label_en
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data })
  const page = await openHome()
  expect(cards(page).map((c) => c.label)).toEqual(['未通过（服务器）', '通过', '通过', '暂不可查'])
  expect(texts(page, '.home__not-passed')).toEqual(['图书馆未通过（服务器）', '财务资产部暂不可查'])
})

test('all passed: the submit button leads to the submit page', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  const page = await openHome()
  expect(cards(page).every((c) => c.cls === 'passed')).toBe(true)
  page.querySelector('.home__submit-button').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/submit/index' }])
})

test('not all passed: the blockers and the items not passed are listed, no submit button', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({ archives: 'not_passed', finance: 'unavailable' }),
  })
  const page = await openHome()
  expect(page.querySelector('.home__submit-button')).toBeFalsy()
  expect(texts(page, '.home__blocker')).toEqual(['还有事项未通过'])
  expect(texts(page, '.home__not-passed')).toEqual(['档案馆未通过', '财务资产部暂不可查'])
})

test('already submitted: the submission time and the certificate link are shown', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({}, { can_submit: false, application: api.application() }),
  })
  const page = await openHome()
  expect(text(page, '.home__submitted')).toBe('已于 2027-06-02 09:00 提交离校申请')
  expect(page.querySelector('.home__submit-button')).toBeFalsy()
})

// The button says what the student will find: a QR code only while the certificate is good for the counter.
test.each([
  ['valid', '我的离校证明（二维码）'],
  ['handed_over', '我的离校证明（二维码）'],
  ['revoked', '查看证明状态（已撤销）'],
])('certificate %s: the certificate button says "%s"', async (status, label) => {
  setup().server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({}, { can_submit: false,
      application: api.application({ certificate: { serial: 'LX2027-000031', status } }) }),
  })
  const page = await openHome()
  expect(text(page, '.home__certificate')).toBe(label)
  page.querySelector('.home__certificate').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/certificate/index' }])
})

test('English: a revoked certificate\'s button names its state', async () => {
  setup({ language: 'en' }).server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({}, { can_submit: false,
      application: api.application({ certificate: { serial: 'LX2027-000031', status: 'revoked' } }) }),
  })
  const page = await openHome()
  expect(text(page, '.home__certificate')).toBe('Certificate status (revoked)')
})

test('no batch, and a closed batch', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance({}, { batch: null, can_submit: false }) })
  let page = await openHome()
  expect(text(page, '.home__batch-none')).toBe('当前没有开放的离校批次')

  jest.resetModules()
  setup().server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({}, { batch: Object.assign({}, api.BATCH, { is_open: false }), can_submit: false }),
  })
  page = await openHome()
  expect(allText(page)).toContain('未开放')
})

test('loading state before the answer arrives', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  const page = renderPage('home')
  page.instance.onLoad()
  const done = page.instance.onShow()
  expect(allText(page)).toContain('加载中…')
  await done
  await settle()
  expect(allText(page)).not.toContain('加载中…')
})

test.each(Object.keys(ERROR_CODES).filter((c) => c !== 'NOT_BOUND'))('error %s is shown with a retry', async (code) => {
  const zh = require('../../i18n/zh')
  setup()
  fake.server.on('POST', '/_control/wx/code', { statusCode: 200, data: { code: 'c' } })
  fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 200, data: api.LOGIN_BOUND })
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: ERROR_CODES[code], data: { error: { code } } })
  const page = await openHome()
  expect(allText(page)).toContain(zh.errors[code])
  expect(allText(page)).toContain('重试')
  expect(cards(page)).toEqual([])
})

test('retry after a network failure loads the page', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { fail: { errMsg: 'request:fail' } })
  const page = await openHome()
  expect(allText(page)).toContain('网络连接失败')
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  await page.instance.load()
  await settle()
  expect(cards(page)).toHaveLength(4)
  expect(allText(page)).not.toContain('网络连接失败')
})

test('NOT_BOUND sends the student to the binding page', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 403, data: api.error('NOT_BOUND', '请先绑定', 'Bind first') })
  await openHome()
  expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/bind/index' }])
})

test('pull-to-refresh reloads and stops the refresh animation', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance({ library: 'not_passed' }) })
  const page = await openHome()
  expect(cards(page)[0].cls).toBe('not-passed')
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  await page.instance.onPullDownRefresh()
  await settle()
  expect(cards(page)[0].cls).toBe('passed')
  expect(fake.log.stopRefresh).toBe(1)
})

test('in English the item titles and labels come from the _en fields and the English dictionary', async () => {
  setup({ language: 'en_US' }).server.on('GET', '/api/v1/me/clearance', {
    statusCode: 200,
    data: api.clearance({ library: 'not_passed', finance: 'unavailable' }),
  })
  const page = await openHome()
  expect(cards(page).map((c) => [c.title, c.label])).toEqual([
    ['Library', 'Not passed'],
    ['Archives', 'Passed'],
    ['Apartment & Property Centre', 'Passed'],
    ['Finance', 'Unavailable'],
  ])
  expect(cards(page)[0].text).toContain('2 books not returned')
  expect(texts(page, '.home__student .row')[4]).toBe("DegreeMaster's")
})

test('the counter entry appears only for counter or admin staff', async () => {
  setup().server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  let page = await openHome()
  expect(page.querySelector('.home__counter')).toBeFalsy()

  jest.resetModules()
  setup({ storage: { 'lixiao.token': 't', 'lixiao.profile': { bound: true, student: {}, staff: { role: 'admin' } } } })
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: api.clearance() })
  page = await openHome()
  expect(text(page, '.home__counter')).toBe('窗口核验（工作人员）')
})
