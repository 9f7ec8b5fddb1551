// Submit: confirmation, 201, and every refusal (409 ALREADY_SUBMITTED, 422 ITEMS_NOT_PASSED, 403 BATCH_CLOSED…).
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, text, texts, allText } = require('../helpers/render')
const api = require('../fixtures/api')

let fake
function setup(options, clearance) {
  fake = installWx(Object.assign({ storage: { 'lixiao.token': 't', 'lixiao.profile': { bound: true, student: {} } } }, options))
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: clearance || api.clearance() })
  return fake
}

async function openSubmit() {
  const page = renderPage('submit')
  await page.instance.onLoad()
  await settle()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('all passed: confirm, POST {confirm: true}, 201 shows the submission and the way to the certificate', async () => {
  setup()
  fake.server.on('POST', '/api/v1/me/application', { statusCode: 201, data: api.application() })
  const page = await openSubmit()
  expect(texts(page, '.submit__item')).toEqual(['图书馆通过', '档案馆通过', '总务部公寓与物业中心通过', '财务资产部通过'])
  expect(text(page, '.submit__warning')).toContain('只能提交一次')
  page.querySelector('.submit__button').dispatchEvent('tap')
  await settle()
  expect(fake.log.modals[0]).toEqual({ title: '确认提交离校申请？', content: '只能提交一次，提交后不能修改。' })
  const posts = fake.server.calls('POST', '/api/v1/me/application')
  expect(posts.map((p) => p.data)).toEqual([{ confirm: true }])
  expect(text(page, '.submit__done .section-title')).toBe('离校申请已提交')
  expect(allText(page)).toContain('提交时间：2027-06-02 09:00')
  page.querySelector('.submit__certificate').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.navigations).toEqual([{ type: 'redirectTo', url: '/pages/certificate/index' }])
})

test('declining the confirmation sends nothing', async () => {
  setup({ modalConfirm: false })
  const page = await openSubmit()
  await page.instance.submit()
  await settle()
  expect(fake.server.calls('POST', '/api/v1/me/application')).toHaveLength(0)
})

test('can_submit false: says why, lists the items not passed, offers no button', async () => {
  setup({}, api.clearance({ library: 'not_passed', apartment: 'unavailable' }))
  const page = await openSubmit()
  expect(page.querySelector('.submit__button')).toBeFalsy()
  expect(texts(page, '.submit__blocker')).toEqual(['还有事项未通过'])
  expect(texts(page, '.submit__not-passed')).toEqual(['图书馆未通过', '总务部公寓与物业中心暂不可查'])
})

test('can_submit false because the batch is closed: the server blocker is shown', async () => {
  setup({}, api.clearance({}, {
    can_submit: false,
    submit_blockers: [{ code: 'BATCH_CLOSED', message: '“2027 年 6 月毕业生”不在办理时间内', message_en: 'Batch is not open now' }],
  }))
  const page = await openSubmit()
  expect(texts(page, '.submit__blocker')).toEqual(['“2027 年 6 月毕业生”不在办理时间内'])
  expect(page.querySelector('.submit__not-passed')).toBeFalsy()
})

test('already submitted before: says so instead of offering the button', async () => {
  setup({}, api.clearance({}, { can_submit: false, application: api.application() }))
  const page = await openSubmit()
  expect(text(page, '.submit__already')).toContain('你已经提交过离校申请。')
  expect(page.querySelector('.submit__button')).toBeFalsy()
})

test.each([
  [409, api.error('ALREADY_SUBMITTED', '离校申请已提交，不能重复提交', 'Already submitted'), '离校申请已提交，不能重复提交'],
  [422, api.error('ITEMS_NOT_PASSED', '还有事项未通过', 'Items not passed', { items: ['library', 'finance'], item_titles: [{ key: 'library', title: '图书馆', title_en: 'Library' }, { key: 'finance', title: '财务资产部', title_en: 'Finance' }] }), '还有事项未通过\n以下事项尚未通过：图书馆、财务资产部'],
  [403, api.error('BATCH_CLOSED', '离校批次已关闭', 'Batch closed'), '离校批次已关闭'],
  [403, api.error('NO_OPEN_BATCH', '您不在任何离校批次中', 'No batch'), '您不在任何离校批次中'],
  [503, { error: { code: 'SOURCE_UNAVAILABLE' } }, '部门数据暂时无法读取，请稍后再试。'],
])('%i refusal is explained and the page reloads', async (status, body, message) => {
  setup()
  fake.server.on('POST', '/api/v1/me/application', { statusCode: status, data: body })
  const page = await openSubmit()
  await page.instance.submit()
  await settle()
  expect(fake.log.modals[1].content).toBe(message)
  expect(fake.server.calls('GET', '/api/v1/me/clearance')).toHaveLength(2)
  expect(page.data.done).toBeNull()
})

test('ITEMS_NOT_PASSED in English names the items in English', async () => {
  setup({ language: 'en' })
  fake.server.on('POST', '/api/v1/me/application', { statusCode: 422, data: api.error('ITEMS_NOT_PASSED', '还有事项未通过', 'Items not passed', { items: ['archives', 'apartment'], item_titles: [{ key: 'archives', title: '档案馆', title_en: 'Archives' }, { key: 'apartment', title: '总务部公寓与物业中心', title_en: 'Apartment & Property Centre' }] }) })
  const page = await openSubmit()
  await page.instance.submit()
  await settle()
  expect(fake.log.modals[1].content).toBe('Items not passed\nThese items have not passed:Archives, Apartment & Property Centre')
})
