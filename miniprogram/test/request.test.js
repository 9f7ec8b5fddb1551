// The one request wrapper: statusCode checks, error envelope → message, network failures, 401 re-login.
const { installWx, restoreWx } = require('./helpers/fake-wx')
const api = require('./fixtures/api')
const { ERROR_CODES } = require('../utils/contract')

let fake
function setup(options) {
  fake = installWx(Object.assign({ storage: { 'lixiao.token': 'old-token' } }, options))
  return {
    request: require('../utils/request').request,
    errors: require('../utils/errors'),
  }
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

function mintRoute() {
  fake.server.on('POST', '/_control/wx/code', (req) => ({ statusCode: 200, data: { code: 'minted-for-' + req.data.openid } }))
}

// For the 401 codes: the re-login succeeds but the retried call still answers the same error.
function loginRoutes() {
  mintRoute()
  fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 200, data: { token: 'again', bound: true } })
}

test('success: builds the URL from the develop base, sends the token and language, returns the body', async () => {
  const { request } = setup()
  fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: { ok: 1 } })
  await expect(request({ path: '/api/v1/me/clearance' })).resolves.toEqual({ ok: 1 })
  const [req] = fake.server.requests
  expect(req.fullUrl).toBe('http://127.0.0.1:8000/api/v1/me/clearance')
  expect(req.header.Authorization).toBe('Bearer old-token')
  expect(req.header['Accept-Language']).toBe('zh-CN')
})

test('trial and release builds use their own base URLs from config', async () => {
  for (const envVersion of ['trial', 'release']) {
    jest.resetModules()
    const { request } = setup({ envVersion })
    fake.server.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: {} })
    await request({ path: '/api/v1/me/clearance' })
    expect(fake.server.requests[0].fullUrl).toBe(require('../config/index')[envVersion].apiBase + '/api/v1/me/clearance')
  }
})

test('204 No Content resolves to null', async () => {
  const { request } = setup()
  fake.server.on('DELETE', '/api/v1/me/binding', { statusCode: 204, data: '' })
  await expect(request({ path: '/api/v1/me/binding', method: 'DELETE' })).resolves.toBeNull()
})

test('judges by statusCode, never by a `code` field in the body', async () => {
  const { request } = setup()
  fake.server.on('GET', '/a', { statusCode: 200, data: { code: 500 } })
  fake.server.on('GET', '/b', { statusCode: 500, data: { code: 0 } })
  await expect(request({ path: '/a' })).resolves.toEqual({ code: 500 })
  await expect(request({ path: '/b' })).rejects.toMatchObject({ status: 500, code: 'HTTP_500' })
})

test.each(Object.entries(ERROR_CODES))('%s (%i) becomes an ApiError with the server message', async (code, status) => {
  const { request, errors } = setup()
  loginRoutes()
  fake.server.on('POST', '/x', { statusCode: status, data: api.error(code, '中文说明 ' + code, 'English text ' + code) })
  const err = await request({ path: '/x', method: 'POST' }).catch((e) => e)
  expect(err).toBeInstanceOf(errors.ApiError)
  expect(err).toMatchObject({ status, code, message: '中文说明 ' + code, messageEn: 'English text ' + code })
})

test('the English message is shown when the phone is in English', async () => {
  const { request } = setup({ language: 'en' })
  fake.server.on('POST', '/x', { statusCode: 409, data: api.error('ALREADY_SUBMITTED', '已提交', 'Already submitted') })
  await expect(request({ path: '/x', method: 'POST' })).rejects.toMatchObject({ message: 'Already submitted' })
  expect(fake.server.requests[0].header['Accept-Language']).toBe('en')
})

test.each(Object.keys(ERROR_CODES))('%s without a server message falls back to our own text', async (code) => {
  const { request } = setup()
  const zh = require('../i18n/zh')
  loginRoutes()
  fake.server.on('GET', '/x', { statusCode: ERROR_CODES[code], data: { error: { code } } })
  await expect(request({ path: '/x' })).rejects.toMatchObject({ code, message: zh.errors[code] })
})

test('a non-JSON error page gives a generic message with the HTTP status', async () => {
  const { request } = setup()
  fake.server.on('GET', '/x', { statusCode: 502, data: '<html>Bad Gateway</html>' })
  await expect(request({ path: '/x' })).rejects.toMatchObject({ status: 502, message: '请求失败（HTTP 502），请稍后重试。' })
})

test('no answer at all is a network error with a clear message', async () => {
  const { request } = setup()
  fake.server.on('GET', '/x', { fail: { errMsg: 'request:fail net::ERR_CONNECTION_REFUSED' } })
  fake.server.on('GET', '/y', { fail: { errMsg: 'request:fail timeout' } })
  await expect(request({ path: '/x' })).rejects.toMatchObject({ status: 0, code: 'NETWORK', message: '网络连接失败，请检查网络后重试。' })
  await expect(request({ path: '/y' })).rejects.toMatchObject({ code: 'TIMEOUT' })
})

describe('401 → re-login once → retry', () => {
  test('release: wx.login, POST wx-login, retry with the new token', async () => {
    const { request } = setup({ envVersion: 'release' })
    fake.server.on('GET', '/api/v1/me/clearance', (req) =>
      req.header.Authorization === 'Bearer new-token'
        ? { statusCode: 200, data: { fresh: true } }
        : { statusCode: 401, data: api.error('TOKEN_EXPIRED', '登录已过期', 'Expired') },
    )
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 200, data: { token: 'new-token', bound: true } })
    await expect(request({ path: '/api/v1/me/clearance' })).resolves.toEqual({ fresh: true })
    expect(fake.log.logins).toBe(1)
    expect(fake.server.calls('POST', '/api/v1/auth/wx-login').map((r) => r.data)).toEqual([{ code: 'wxcode-1' }])
    expect(fake.server.calls('GET', '/api/v1/me/clearance')).toHaveLength(2)
    expect(fake.storage['lixiao.token']).toBe('new-token')
  })

  test('develop: the login code is minted by the emulator for the configured openid', async () => {
    const { request } = setup()
    mintRoute()
    fake.server.on('GET', '/x', (req) =>
      req.header.Authorization === 'Bearer t2' ? { statusCode: 200, data: {} } : { statusCode: 401, data: api.error('UNAUTHORIZED', '请登录', 'Sign in') },
    )
    fake.server.on('POST', '/api/v1/auth/wx-login', (req) => ({ statusCode: 200, data: { token: 't2', bound: true, code_seen: req.data.code } }))
    await request({ path: '/x' })
    const mint = fake.server.calls('POST', '/_control/wx/code')
    expect(mint).toHaveLength(1)
    expect(mint[0].fullUrl).toBe('http://127.0.0.1:8001/_control/wx/code')
    expect(mint[0].data).toEqual({ openid: 'o_devtools_student' })
    expect(fake.server.calls('POST', '/api/v1/auth/wx-login')[0].data).toEqual({ code: 'minted-for-o_devtools_student' })
    expect(fake.log.logins).toBe(0)
  })

  test('relogin: false answers a 401 as an error at once, with no sign-in', async () => {
    const { request } = setup({ envVersion: 'release' })
    fake.server.on('DELETE', '/x', { statusCode: 401, data: api.error('TOKEN_EXPIRED', '登录已过期', 'Expired') })
    await expect(request({ path: '/x', method: 'DELETE', relogin: false })).rejects.toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' })
    expect(fake.server.calls('DELETE', '/x')).toHaveLength(1)
    expect(fake.log.logins).toBe(0)
  })

  test('a second 401 after re-login is returned as an error, not retried again', async () => {
    const { request } = setup({ envVersion: 'release' })
    fake.server.on('GET', '/x', { statusCode: 401, data: api.error('UNAUTHORIZED', '请重新登录', 'Sign in again') })
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 200, data: { token: 'n', bound: true } })
    await expect(request({ path: '/x' })).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: '请重新登录' })
    expect(fake.server.calls('GET', '/x')).toHaveLength(2)
    expect(fake.server.calls('POST', '/api/v1/auth/wx-login')).toHaveLength(1)
  })

  test('concurrent 401s share one login', async () => {
    const { request } = setup({ envVersion: 'release' })
    fake.server.on('GET', '/x', (req) =>
      req.header.Authorization === 'Bearer n' ? { statusCode: 200, data: 1 } : { statusCode: 401, data: api.error('TOKEN_EXPIRED', '过期', 'Expired') },
    )
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 200, data: { token: 'n', bound: true } })
    await Promise.all([request({ path: '/x' }), request({ path: '/x' }), request({ path: '/x' })])
    expect(fake.server.calls('POST', '/api/v1/auth/wx-login')).toHaveLength(1)
  })

  test('a failing re-login surfaces its own error', async () => {
    const { request } = setup({ envVersion: 'release' })
    fake.server.on('GET', '/x', { statusCode: 401, data: api.error('TOKEN_EXPIRED', '过期', 'Expired') })
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 503, data: api.error('PLATFORM_UNAVAILABLE', '微信平台暂时不可用', 'WeChat down') })
    await expect(request({ path: '/x' })).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE', message: '微信平台暂时不可用' })
    expect(fake.server.calls('GET', '/x')).toHaveLength(1)
  })

  test('requests made without auth (the login itself) are never retried', async () => {
    const { request } = setup({ envVersion: 'release' })
    fake.server.on('POST', '/api/v1/auth/wx-login', { statusCode: 401, data: api.error('UNAUTHORIZED', '无效的登录凭证', 'Bad code') })
    await expect(request({ path: '/api/v1/auth/wx-login', method: 'POST', auth: false })).rejects.toMatchObject({ status: 401 })
    expect(fake.server.requests).toHaveLength(1)
    expect(fake.server.requests[0].header.Authorization).toBeUndefined()
  })
})
