// utils/leave.js: the ways out of a page that the counter, certificate and settings pages share.
const { installWx, restoreWx, settle } = require('./helpers/fake-wx')
const api = require('./fixtures/api')

const STUDENT = { 'lixiao.token': 'tok', 'lixiao.profile': { bound: true, student: { name: '张三' }, staff: null } }
const COUNTER = { 'lixiao.token': 'tok', 'lixiao.profile': { bound: true, student: null, staff: { role: 'counter' } } }

let fake
function setup(options) {
  fake = installWx(Object.assign({ storage: Object.assign({}, STUDENT) }, options))
  return require('../utils/leave')
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

describe('logOut', () => {
  test('ends this token on the server, forgets it here, and waits at the launch page', async () => {
    const leave = setup()
    fake.server.on('DELETE', '/api/v1/me/session', { statusCode: 204, data: '' })
    await leave.logOut()
    expect(fake.server.calls('DELETE', '/api/v1/me/session').map((r) => r.header.Authorization)).toEqual(['Bearer tok'])
    expect(fake.storage['lixiao.token']).toBeUndefined()
    expect(fake.storage['lixiao.profile']).toBeUndefined()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index?signedOut=1' }])
  })

  test('a token the server no longer knows (401): no new sign-in to end it, logged out all the same', async () => {
    const leave = setup()
    fake.server.on('DELETE', '/api/v1/me/session', { statusCode: 401, data: api.error('TOKEN_EXPIRED', '登录已过期', 'Expired') })
    await leave.logOut()
    expect(fake.log.logins).toBe(0)
    expect(fake.server.calls('POST', '/api/v1/auth/wx-login')).toHaveLength(0)
    expect(fake.storage['lixiao.token']).toBeUndefined()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index?signedOut=1' }])
  })

  test('no network: logged out here all the same', async () => {
    const leave = setup()
    fake.server.on('DELETE', '/api/v1/me/session', { fail: { errMsg: 'request:fail' } })
    await leave.logOut()
    expect(fake.storage['lixiao.token']).toBeUndefined()
    expect(fake.log.navigations).toHaveLength(1)
  })

  test('signInAgain: the launch page signs in at once; endSession false: nothing sent (unbinding ended it)', async () => {
    const leave = setup()
    await leave.logOut({ signInAgain: true, endSession: false })
    expect(fake.server.requests).toHaveLength(0)
    expect(fake.storage['lixiao.token']).toBeUndefined()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index' }])
  })

  test('nothing to end without a token', async () => {
    const leave = setup({ storage: {} })
    await leave.logOut()
    expect(fake.server.requests).toHaveLength(0)
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index?signedOut=1' }])
  })
})

describe('goHome', () => {
  test.each([
    ['home under this page: back to it, as it was', ['pages/home/index', 'pages/certificate/index'], { type: 'navigateBack', delta: 1 }],
    ['home two pages under', ['pages/home/index', 'pages/applications/index', 'pages/certificate/index'], { type: 'navigateBack', delta: 2 }],
    ['this page alone (opened from a notification)', ['pages/certificate/index'], { type: 'reLaunch', url: '/pages/home/index' }],
    ['no stack known', undefined, { type: 'reLaunch', url: '/pages/home/index' }],
  ])('a student, %s', (name, pages, navigation) => {
    const leave = setup({ pages })
    leave.goHome()
    expect(fake.log.navigations).toEqual([navigation])
  })

  test('counter staff who are no student: their home is the counter, started anew', () => {
    const leave = setup({ storage: COUNTER, pages: ['pages/counter/index'] })
    leave.goHome()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/counter/index' }])
  })
})

test('settings opens over the page, to come back to it', async () => {
  const leave = setup()
  leave.openSettings()
  await settle()
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/settings/index' }])
})
