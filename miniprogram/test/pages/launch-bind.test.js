// Launch (wx.login → wx-login → route), binding page with its re-check, and the CAS web-view page.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, text, allText } = require('../helpers/render')
const api = require('../fixtures/api')

let fake
beforeEach(() => jest.resetModules())
afterEach(restoreWx)

function routes(login) {
  fake.server.on('POST', '/_control/wx/code', (req) => ({ statusCode: 200, data: { code: 'code-for-' + req.data.openid } }))
  fake.server.on('POST', '/api/v1/auth/wx-login', typeof login === 'function' ? login : { statusCode: 200, data: login })
}

async function openLaunch() {
  const page = renderPage('launch')
  page.instance.onLoad()
  await settle()
  return page
}

describe('launch', () => {
  test.each([
    ['a bound student', api.LOGIN_BOUND, '/pages/home/index'],
    ['an unbound WeChat user', api.LOGIN_UNBOUND, '/pages/bind/index'],
    ['counter staff without a student record', api.LOGIN_COUNTER, '/pages/counter/index'],
  ])('%s lands on the right page and the token is stored', async (name, login, url) => {
    fake = installWx()
    routes(login)
    await openLaunch()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url }])
    expect(fake.storage['lixiao.token']).toBe(login.token)
    expect(fake.storage['lixiao.profile'].bound).toBe(login.bound)
  })

  test.each([
    ['zh_CN', '已退出登录', '重新登录'],
    ['en', 'You have logged out', 'Log in again'],
  ])('after logging out (%s): no sign-in until asked, then as usual', async (language, said, button) => {
    fake = installWx({ language })
    routes(api.LOGIN_COUNTER)
    const page = renderPage('launch')
    page.instance.onLoad({ signedOut: '1' })
    await settle()
    expect(fake.server.requests).toHaveLength(0)
    expect(fake.log.navigations).toEqual([])
    expect(text(page, '.launch__status')).toBe(said)
    expect(text(page, '.launch__sign-in')).toBe(button)
    page.querySelector('.launch__sign-in').dispatchEvent('tap')
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/counter/index' }])
  })

  test('release build: the code comes from wx.login and goes to the release server', async () => {
    fake = installWx({ envVersion: 'release' })
    routes(api.LOGIN_BOUND)
    await openLaunch()
    const [login] = fake.server.calls('POST', '/api/v1/auth/wx-login')
    expect(login.fullUrl).toBe('https://lixiao.example.com/api/v1/auth/wx-login')
    expect(login.data).toEqual({ code: 'wxcode-1' })
    expect(fake.server.calls('POST', '/_control/wx/code')).toHaveLength(0)
  })

  test('develop build: the openid chosen in settings is used to mint the code', async () => {
    fake = installWx({ storage: { 'lixiao.dev_openid': 'o_counter' } })
    routes(api.LOGIN_COUNTER)
    await openLaunch()
    expect(fake.server.calls('POST', '/api/v1/auth/wx-login')[0].data).toEqual({ code: 'code-for-o_counter' })
  })

  test('a network failure is explained and retry works', async () => {
    fake = installWx()
    fake.server.on('POST', '/_control/wx/code', { fail: { errMsg: 'request:fail net::ERR_CONNECTION_REFUSED' } })
    const page = await openLaunch()
    expect(text(page, '.launch__failed')).toBe('登录失败')
    expect(allText(page)).toContain('网络连接失败，请检查网络后重试。')
    expect(fake.log.navigations).toEqual([])
    routes(api.LOGIN_BOUND)
    await page.instance.signIn()
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/home/index' }])
  })

  test('PLATFORM_UNAVAILABLE from the server is shown in English on an English phone', async () => {
    fake = installWx({ language: 'en' })
    routes({})
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 503, data: api.error('PLATFORM_UNAVAILABLE', '微信平台暂时不可用', 'WeChat is unavailable') })
    const page = await openLaunch()
    expect(allText(page)).toContain('WeChat is unavailable')
  })
})

describe('bind', () => {
  async function openBind() {
    const page = renderPage('bind')
    page.instance.onLoad()
    page.instance.onShow()
    await settle()
    return page
  }

  test('opens the CAS web-view with a fresh token, and on return finds the binding done', async () => {
    fake = installWx({ storage: { 'lixiao.token': 'stale' } })
    let bound = false
    routes(() => ({ statusCode: 200, data: bound ? api.LOGIN_BOUND : api.LOGIN_UNBOUND }))
    const page = await openBind()
    expect(fake.server.requests).toHaveLength(0)
    page.querySelector('.bind__button').dispatchEvent('tap')
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/bind-cas/index' }])
    expect(fake.storage['lixiao.token']).toBe('tok-unbound')

    bound = true // the student signed in to CAS in the web-view and came back
    page.instance.onShow()
    await settle()
    expect(fake.log.navigations[1]).toEqual({ type: 'reLaunch', url: '/pages/home/index' })
  })

  test('coming back still unbound says so', async () => {
    fake = installWx()
    routes(api.LOGIN_UNBOUND)
    const page = await openBind()
    await page.instance.openSignIn()
    await settle()
    page.instance.onShow()
    await settle()
    expect(text(page, '.bind__message')).toBe('尚未完成绑定，请重新登录统一身份认证。')
  })

  test('already bound (e.g. bound on another visit): goes straight on', async () => {
    fake = installWx()
    routes(api.LOGIN_BOUND)
    const page = await openBind()
    await page.instance.openSignIn()
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/home/index' }])
  })

  test('a login failure is shown on the page', async () => {
    fake = installWx()
    routes({})
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 429, data: api.error('RATE_LIMITED', '操作太频繁', 'Too many') })
    const page = await openBind()
    await page.instance.openSignIn()
    await settle()
    expect(text(page, '.bind__message')).toBe('操作太频繁')
  })

  test('the web-view page opens ${base}/bind/cas?token=… with the token encoded', async () => {
    fake = installWx({ storage: { 'lixiao.token': 'a+b/c=' } })
    const page = renderPage('bind-cas')
    page.instance.onLoad()
    await settle(2)
    expect(page.data.src).toBe('http://127.0.0.1:8000/bind/cas?token=a%2Bb%2Fc%3D')
    expect(page.dom.innerHTML).toContain('web-view')
    expect(fake.log.titles).toEqual(['统一身份认证'])
  })
})
