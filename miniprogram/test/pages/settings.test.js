// Settings: language switch stored in storage, unbinding (DELETE → 204), the develop-only openid.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, texts, allText } = require('../helpers/render')

const SESSION = { 'lixiao.token': 'tok', 'lixiao.profile': { bound: true, student: { name: '张三' }, staff: null } }

let fake
function setup(options) {
  fake = installWx(Object.assign({ storage: Object.assign({}, SESSION) }, options))
}

function openSettings() {
  const page = renderPage('settings')
  page.instance.onLoad()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('language options with the current choice marked; picking one is stored and the app restarts in it', async () => {
  setup()
  const page = openSettings()
  await settle(2)
  expect(texts(page, '.settings__language')).toEqual(['跟随系统', '中文', 'English'])
  expect(page.data.languages.map((l) => l.checked)).toEqual([true, false, false])
  page.instance.onLanguageChange({ detail: { value: 'en' } })
  expect(fake.storage['lixiao.lang']).toBe('en')
  expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/home/index' }])
  expect(require('../../i18n/index').t('settings.title')).toBe('Settings')
})

test('a stored English choice shows the page in English even on a Chinese phone', async () => {
  setup({ storage: Object.assign({ 'lixiao.lang': 'en' }, SESSION) })
  const page = openSettings()
  await settle(2)
  expect(allText(page)).toContain('Unlink account')
  expect(page.data.languages.map((l) => l.checked)).toEqual([false, false, true])
})

test('unbind: confirm, DELETE /api/v1/me/binding → 204, session cleared, back to launch', async () => {
  setup()
  fake.server.on('DELETE', '/api/v1/me/binding', { statusCode: 204, data: '' })
  const page = openSettings()
  page.querySelector('.settings__unbind').dispatchEvent('tap')
  await settle()
  expect(fake.log.modals[0].title).toBe('确认解除绑定？')
  expect(fake.server.calls('DELETE', '/api/v1/me/binding')).toHaveLength(1)
  expect(fake.server.requests).toHaveLength(1) // unbinding ended every session: nothing more to end
  expect(fake.storage['lixiao.token']).toBeUndefined()
  expect(fake.storage['lixiao.profile']).toBeUndefined()
  expect(fake.log.toasts).toEqual(['已解除绑定'])
  expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index' }])
})

test('unbind declined sends nothing', async () => {
  setup({ modalConfirm: false })
  const page = openSettings()
  await page.instance.unbind()
  await settle()
  expect(fake.server.requests).toHaveLength(0)
  expect(fake.storage['lixiao.token']).toBe('tok')
})

test('unbind failure is explained and the session is kept', async () => {
  setup()
  fake.server.on('DELETE', '/api/v1/me/binding', { statusCode: 403, data: { error: { code: 'FORBIDDEN', message: '不能解除绑定', message_en: 'Cannot unbind' } } })
  const page = openSettings()
  await page.instance.unbind()
  await settle()
  expect(fake.log.modals[1].content).toBe('不能解除绑定')
  expect(fake.storage['lixiao.token']).toBe('tok')
  expect(page.data.busy).toBe(false)
})

test('develop build: the emulator openid can be changed, which signs in again', async () => {
  setup()
  const page = openSettings()
  await settle(2)
  expect(page.data.devOpenid).toBe('o_devtools_student')
  page.instance.onDevOpenidInput({ detail: { value: ' o_counter ' } })
  fake.server.on('DELETE', '/api/v1/me/session', { statusCode: 204, data: '' })
  await page.instance.saveDevOpenid()
  expect(fake.storage['lixiao.dev_openid']).toBe('o_counter')
  expect(fake.server.calls('DELETE', '/api/v1/me/session')).toHaveLength(1) // the old openid's token ends
  expect(fake.storage['lixiao.token']).toBeUndefined()
  expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index' }])
})

test('release build: no developer section', async () => {
  setup({ envVersion: 'release' })
  const page = openSettings()
  await settle(2)
  expect(page.querySelector('.settings__dev')).toBeFalsy()
  expect(allText(page)).toContain('运行环境: 正式版')
  expect(allText(page)).not.toContain('release')
})

test('the environment is named in words, in English too', async () => {
  setup({ envVersion: 'trial', language: 'en' })
  const page = openSettings()
  await settle(2)
  expect(allText(page)).toContain('Environment: Trial version')
  expect(allText(page)).not.toContain('trial')
})
