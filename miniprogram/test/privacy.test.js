// Privacy as WeChat requires since 2023-10-17: every privacy-scoped call declared, the prompt WeChat asks for
// (wx.onNeedPrivacyAuthorization), a visible failure when a call is refused, the privacy statement page; and the
// project config's minify flags, and no dead services/auth.js.
const fs = require('fs')
const path = require('path')
const { installWx, restoreWx, settle } = require('./helpers/fake-wx')
const { ROOT, renderPage, text, texts, allText } = require('./helpers/render')
const api = require('./fixtures/api')

// WeChat's privacy-scoped interfaces (用户隐私保护指引 categories) that a clearance app could plausibly call.
const PRIVACY_SCOPED = [
  'setClipboardData', 'getClipboardData', 'scanCode', 'chooseImage', 'chooseMedia', 'chooseVideo',
  'saveImageToPhotosAlbum', 'chooseMessageFile', 'getLocation', 'chooseLocation', 'startLocationUpdate',
  'getFuzzyLocation', 'chooseAddress', 'getUserProfile', 'getUserInfo', 'chooseInvoice', 'chooseInvoiceTitle',
  'getWeRunData', 'startRecord', 'getRecorderManager', 'createCameraContext', 'authorize', 'searchContacts',
  'addPhoneContact', 'getBluetoothDevices', 'openBluetoothAdapter', 'startWifi', 'chooseContact',
]

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'test', 'scripts', 'vendor'].includes(entry.name)) return []
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return /\.(js|wxml)$/.test(entry.name) ? [full] : []
  })
}

let fake
beforeEach(() => jest.resetModules())
afterEach(() => {
  jest.restoreAllMocks()
  restoreWx()
})

test('every privacy-scoped interface the code calls is declared, and the statement names each one', () => {
  const { DECLARED } = require('../utils/privacy')
  const used = new Set()
  for (const file of sourceFiles(ROOT)) {
    const code = fs.readFileSync(file, 'utf8')
    for (const name of PRIVACY_SCOPED) if (new RegExp('\\bwx\\.' + name + '\\b').test(code)) used.add(name)
    if (/open-type="(chooseAvatar|getPhoneNumber|getRealtimePhoneNumber)"/.test(code)) used.add('button:' + file)
  }
  expect([...used].sort()).toEqual(Object.keys(DECLARED).sort())
  for (const lang of ['zh', 'en']) {
    const dict = require('../i18n/' + lang)
    for (const { scope } of Object.values(DECLARED)) expect(dict.privacy.apis[scope]).toBeTruthy()
  }
})

test('the project config minifies WXML and WXSS, and services/auth.js is gone', () => {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'))
  expect(config.setting.minifyWXML).toBe(true)
  expect(config.setting.minifyWXSS).toBe(true)
  expect(fs.existsSync(path.join(ROOT, 'services', 'auth.js'))).toBe(false)
  for (const file of sourceFiles(ROOT)) expect(fs.readFileSync(file, 'utf8')).not.toMatch(/services\/auth['"]/)
})

test('app.js listens for privacy authorization at launch', () => {
  fake = installWx()
  let config
  global.App = (c) => {
    config = c
  }
  try {
    require('../app')
    config.onLaunch()
  } finally {
    delete global.App
  }
  expect(fake.log.privacyHandlers).toHaveLength(1)
})

async function openCertificate(options) {
  fake = installWx(Object.assign({ storage: { 'lixiao.token': 't' } }, options))
  fake.server.on('GET', '/api/v1/me/certificate', { statusCode: 200, data: api.certificate() })
  const page = renderPage('certificate')
  await page.instance.onLoad()
  await settle()
  return page
}

test('a privacy-scoped call waits for our prompt; agreeing lets it go on', async () => {
  const page = await openCertificate({ privacy: 'ask' })
  const popup = page.querySelector('#privacy-popup')
  expect(popup.querySelector('.privacy-popup')).toBeFalsy()
  page.instance.copyLink()
  await settle()
  expect(fake.log.privacyAsked).toEqual(['setClipboardData'])
  expect(popup.querySelector('.privacy-popup')).toBeTruthy()
  expect(allText(popup)).toContain('请先同意隐私保护指引')
  expect(allText(popup)).toContain('剪切板或摄像头')
  popup.querySelector('.privacy-popup__agree').dispatchEvent('agreeprivacyauthorization')
  await settle()
  expect(fake.log.clipboard).toEqual(['http://127.0.0.1:8000/verify/LX2027-000031'])
  expect(popup.querySelector('.privacy-popup')).toBeFalsy()
  expect(fake.log.toasts).toEqual([])
})

test('disagreeing hides the prompt and the page says why nothing was copied', async () => {
  const page = await openCertificate({ privacy: 'ask' })
  const popup = page.querySelector('#privacy-popup')
  page.instance.copyLink()
  await settle()
  popup.querySelector('.privacy-popup__disagree').dispatchEvent('tap')
  await settle()
  expect(popup.querySelector('.privacy-popup')).toBeFalsy()
  expect(fake.log.clipboard).toEqual([])
  expect(fake.log.toasts).toEqual(['无法复制：需要先同意隐私保护指引。也可以长按链接手动复制。'])
})

test('a clipboard refused by the platform (scope not declared) is visible too', async () => {
  const page = await openCertificate({ clipboardFail: 'setClipboardData:fail api scope is not declared in the privacy agreement' })
  page.instance.copyLink()
  await settle()
  expect(fake.log.toasts).toEqual(['无法复制：需要先同意隐私保护指引。也可以长按链接手动复制。'])
})

test('the prompt opens the full guide and our statement', async () => {
  const page = await openCertificate({ privacy: 'ask' })
  const popup = page.querySelector('#privacy-popup')
  page.instance.copyLink()
  await settle()
  popup.querySelector('.privacy-popup__contract').dispatchEvent('tap')
  popup.querySelector('.privacy-popup__statement').dispatchEvent('tap')
  await settle()
  expect(fake.log.privacyContract).toBe(1)
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/privacy/index' }])
})

describe('counter scanner', () => {
  const STAFF = { 'lixiao.token': 't', 'lixiao.profile': { bound: true, staff: { username: 'c1', name: '窗口', role: 'counter', department: null } } }

  async function scanWith(options) {
    fake = installWx(Object.assign({ storage: STAFF }, options))
    const page = renderPage('counter')
    page.instance.onLoad()
    page.querySelector('.counter__scan').dispatchEvent('tap')
    await settle()
    return page
  }

  test('camera only, and a refused camera says so and points to manual entry', async () => {
    const page = await scanWith({ privacy: 'ask' })
    expect(fake.log.scanOptions).toMatchObject({ scanType: ['qrCode'], onlyFromCamera: true })
    page.querySelector('#privacy-popup').querySelector('.privacy-popup__disagree').dispatchEvent('tap')
    await settle()
    expect(fake.log.toasts).toEqual(['无法扫码：需要同意隐私保护指引并允许使用摄像头。也可以手动输入二维码内容。'])
  })

  test('a camera permission denied is visible', async () => {
    await scanWith({ scanFail: 'scanCode:fail auth deny' })
    expect(fake.log.toasts).toEqual(['无法扫码：需要同意隐私保护指引并允许使用摄像头。也可以手动输入二维码内容。'])
  })

  test('closing the scanner is not an error', async () => {
    await scanWith({})
    expect(fake.log.toasts).toEqual([])
  })
})

test('the privacy statement says what is kept, how long and who can see it', async () => {
  fake = installWx()
  const page = renderPage('privacy')
  page.instance.onLoad()
  const all = allText(page)
  for (const words of ['openid', '学号', '订阅授权记录', '通知记录', '解除绑定', '保存期限', '研究生院的管理员', '窗口工作人员']) {
    expect(all).toContain(words)
  }
  expect(texts(page, '.privacy__api')).toHaveLength(2)
  expect(fake.log.titles).toEqual(['隐私说明'])
  page.querySelector('.privacy__contract').dispatchEvent('tap')
  await settle()
  expect(fake.log.privacyContract).toBe(1)
})

test('the statement is in English for an English phone', () => {
  fake = installWx({ language: 'en' })
  const page = renderPage('privacy')
  page.instance.onLoad()
  expect(text(page, '.privacy__kept .section-title')).toBe('What we keep')
  expect(allText(page)).toContain('Clipboard: only when you tap')
})

test('settings and the binding page link to the statement', async () => {
  fake = installWx({ storage: { 'lixiao.token': 't' } })
  const settings = renderPage('settings')
  settings.instance.onLoad()
  settings.querySelector('.settings__privacy').dispatchEvent('tap')
  await settle()
  const bind = renderPage('bind')
  bind.instance.onLoad()
  expect(text(bind, '.bind__privacy')).toBe('隐私说明：我们保存什么、保存多久、谁能看到')
  bind.querySelector('.bind__privacy').dispatchEvent('tap')
  await settle()
  expect(fake.log.navigations.map((n) => n.url)).toEqual(['/pages/privacy/index', '/pages/privacy/index'])
})
