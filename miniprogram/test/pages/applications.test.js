// Completed items: list, empty, error.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, texts, allText } = require('../helpers/render')
const api = require('../fixtures/api')

let fake
function setup(response) {
  fake = installWx({ storage: { 'lixiao.token': 't' } })
  fake.server.on('GET', '/api/v1/me/applications', response)
}

async function openList() {
  const page = renderPage('applications')
  await page.instance.onLoad()
  await settle()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('lists each submission with its item snapshot and certificate', async () => {
  setup({ statusCode: 200, data: { applications: [api.application({ certificate: { serial: 'LX2027-000031', status: 'revoked' } })] } })
  const page = await openList()
  expect(texts(page, '.applications__entry .section-title')).toEqual(['2027 年 6 月毕业生'])
  expect(texts(page, '.applications__item')).toEqual(['图书馆通过', '档案馆通过', '总务部公寓与物业中心通过', '财务资产部通过'])
  expect(texts(page, '.applications__certificate')).toEqual(['离校证明 LX2027-000031已撤销'])
  expect(allText(page)).toContain('提交时间2027-06-02 09:00')
  expect(allText(page)).toContain('个人中心 → 已办事项')
  page.querySelector('.applications__certificate').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/certificate/index' }])
})

test('a submission without a certificate yet', async () => {
  setup({ statusCode: 200, data: { applications: [api.application({ certificate: null })] } })
  const page = await openList()
  expect(page.querySelector('.applications__certificate')).toBeFalsy()
})

test('empty list', async () => {
  setup({ statusCode: 200, data: { applications: [] } })
  const page = await openList()
  expect(allText(page)).toContain('还没有已办事项。')
})

test('error with retry', async () => {
  setup({ fail: { errMsg: 'request:fail timeout' } })
  const page = await openList()
  expect(allText(page)).toContain('服务器响应超时，请稍后重试。')
  fake.server.on('GET', '/api/v1/me/applications', { statusCode: 200, data: { applications: [api.application()] } })
  await page.instance.onPullDownRefresh()
  await settle()
  expect(texts(page, '.applications__entry')).toHaveLength(1)
  expect(fake.log.stopRefresh).toBe(1)
})
