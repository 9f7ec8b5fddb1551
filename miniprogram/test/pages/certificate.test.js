// Certificate: valid / revoked / handed over, none yet, errors, printing guidance, copy link.
const jsQR = require('jsqr')
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { canvas2d } = require('../helpers/canvas')
const { renderPage, text, texts, allText } = require('../helpers/render')
const api = require('../fixtures/api')

let fake
function setup(response, options) {
  fake = installWx(Object.assign({ storage: { 'lixiao.token': 't' } }, options))
  fake.server.on('GET', '/api/v1/me/certificate', response)
}

// WeChat fires `ready` on a component inserted later (wx:if) once it is laid out; the simulator
// only does so on the first attach, so the test fires it for the QR code as WeChat would.
async function openCertificate() {
  const page = renderPage('certificate')
  await page.instance.onLoad()
  await settle()
  const qr = page.querySelector('.certificate__qr')
  if (qr) qr.triggerLifeTime('ready')
  await settle()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(() => {
  jest.restoreAllMocks()
  restoreWx()
})

test('valid: status, serial, issue time, QR from qr_text, printing steps, copyable link', async () => {
  setup({ statusCode: 200, data: api.certificate() })
  const canvases = canvas2d()
  const page = await openCertificate()
  expect(text(page, '.certificate__status')).toBe('有效')
  expect(text(page, '.certificate__serial')).toBe('LX2027-000031')
  expect(allText(page)).toContain('签发时间2027-06-02 09:00')
  const canvas = canvases[canvases.length - 1]
  expect(jsQR(canvas.data, canvas.width, canvas.height).data).toBe(api.certificate().qr_text)
  expect(page.querySelector('.certificate__qr-failed')).toBeFalsy()
  expect(texts(page, '.certificate__print .list-item')).toHaveLength(2)
  expect(text(page, '.certificate__url')).toBe('http://127.0.0.1:8000/verify/LX2027-000031')
  page.instance.copyLink()
  expect(fake.log.clipboard).toEqual(['http://127.0.0.1:8000/verify/LX2027-000031'])
  expect(page.querySelector('.certificate__revoked')).toBeFalsy()
})

test('revoked: no QR and nothing to show or print; why, and what to do, as the web page says', async () => {
  setup({ statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: '档案信息有误，已重新办理',
    revoked_at: '2027-06-05T02:00:00+00:00' }) })
  const canvases = canvas2d()
  const page = await openCertificate()
  expect(text(page, '.certificate__status')).toBe('已撤销')
  expect(text(page, '.certificate__revoked-title')).toBe('本证明已撤销，不能再用于办理离校。')
  expect(text(page, '.certificate__revoked')).toBe('撤销原因：档案信息有误，已重新办理')
  expect(text(page, '.certificate__what-to-do')).toBe(
    '怎么办：请联系研究生院核实；核实后管理员会重新签发证明，新证明会显示在本页。')
  expect(page.querySelector('.certificate__qr')).toBeFalsy()
  expect(page.querySelector('.certificate__qr-failed')).toBeFalsy()
  expect(canvases).toHaveLength(0)
  expect(allText(page)).not.toContain('出示')
  expect(page.querySelector('.certificate__print')).toBeFalsy()
  expect(text(page, '.certificate__serial')).toBe('LX2027-000031')
})

// Not a dead end: the help line (LIXIAO_HELP_PHONE on the server, config/index.js helpPhone here), one tap to call.
test('revoked: the graduate school\'s help line, tap to call', async () => {
  setup({ statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: '学籍信息有误' }) })
  const page = await openCertificate()
  expect(text(page, '.certificate__help')).toBe('研究生院电话：0516-00000000')
  page.querySelector('.certificate__call').dispatchEvent('tap')
  await settle()
  expect(fake.log.calls).toEqual(['0516-00000000'])
})

test('a valid certificate has no help line; an environment without a number shows none', async () => {
  setup({ statusCode: 200, data: api.certificate() })
  let page = await openCertificate()
  expect(page.querySelector('.certificate__help')).toBeFalsy()

  jest.resetModules()
  restoreWx()
  // config/index.js leaves the release number empty until the university's help line is filled in.
  setup({ statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: '学籍信息有误' }) }, { envVersion: 'release' })
  page = await openCertificate()
  expect(text(page, '.certificate__revoked')).toBe('撤销原因：学籍信息有误')
  expect(page.querySelector('.certificate__help')).toBeFalsy()
})

test('revoked without a reason given: no empty "reason" line, still what to do', async () => {
  setup({ statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: null }) })
  const page = await openCertificate()
  expect(page.querySelector('.certificate__revoked')).toBeFalsy()
  expect(text(page, '.certificate__what-to-do')).toMatch(/^怎么办：/)
  expect(page.querySelector('.certificate__qr')).toBeFalsy()
})

test('a re-issued certificate is simply the valid one the server answers with', async () => {
  setup({ statusCode: 200, data: api.certificate({ serial: 'LX2027-000032', replaces: 'LX2027-000031',
    qr_text: 'http://127.0.0.1:8000/verify/LX2027-000032', verify_url: 'http://127.0.0.1:8000/verify/LX2027-000032' }) })
  const canvases = canvas2d()
  const page = await openCertificate()
  expect(text(page, '.certificate__status')).toBe('有效')
  expect(text(page, '.certificate__serial')).toBe('LX2027-000032')
  const canvas = canvases[canvases.length - 1]
  expect(jsQR(canvas.data, canvas.width, canvas.height).data).toBe('http://127.0.0.1:8000/verify/LX2027-000032')
  expect(page.querySelector('.certificate__revoked-card')).toBeFalsy()
  expect(allText(page)).toContain('到窗口办理时出示此二维码')
})

test('handed over: lists what was collected, by whom and when', async () => {
  setup({
    statusCode: 200,
    data: api.certificate({
      status: 'handed_over',
      handed_over: [
        { item: 'diploma', by: 'counter', at: '2027-06-20T01:00:00+00:00' },
        { item: 'degree_certificate', by: 'counter', at: '2027-06-20T01:00:00+00:00' },
      ],
    }),
  })
  const page = await openCertificate()
  expect(text(page, '.certificate__status')).toBe('有效（已办理交接）')
  expect(texts(page, '.certificate__handover')).toEqual(['毕业证书counter · 2027-06-20 09:00', '学位证书counter · 2027-06-20 09:00'])
})

test('a hand-over the app has no words for is named by the server, never by its code', async () => {
  setup({
    statusCode: 200,
    data: api.certificate({
      status: 'handed_over',
      handed_over: [{ item: 'party_transfer', title: '党组织关系转接', title_en: 'Party membership transfer',
        by: '王老师', by_username: 'counter', at: '2027-06-20T01:00:00+00:00' }],
    }),
  })
  const page = await openCertificate()
  expect(texts(page, '.certificate__handover')).toEqual(['党组织关系转接王老师 · 2027-06-20 09:00'])
  expect(allText(page)).not.toContain('party_transfer')
})

test('handed_over given as one object is understood too', async () => {
  setup({ statusCode: 200, data: api.certificate({ status: 'handed_over', handed_over: { items: ['archive_transfer'], by: 'counter', at: '2027-06-21T02:00:00+00:00' } }) })
  const page = await openCertificate()
  expect(texts(page, '.certificate__handover')).toEqual(['档案转递counter · 2027-06-21 10:00'])
})

test('if the canvas cannot draw, the serial number is offered instead', async () => {
  setup({ statusCode: 200, data: api.certificate() })
  const page = await openCertificate() // no canvas2d(): the simulator's canvas has no 2d node
  expect(text(page, '.certificate__qr-failed')).toBe('二维码无法显示，请出示证明编号：LX2027-000031')
})

test.each(['CERTIFICATE_NOT_FOUND', 'NOT_FOUND'])('%s: the "no certificate yet" empty state', async (code) => {
  setup({ statusCode: 404, data: api.error(code, '没有离校证明', 'No certificate') })
  const page = await openCertificate()
  expect(allText(page)).toContain('还没有离校证明。全部事项通过并提交离校申请后即可获得。')
  expect(allText(page)).not.toContain('重试')
})

test('a server failure is an error with retry, not the empty state', async () => {
  setup({ statusCode: 503, data: { error: { code: 'SOURCE_UNAVAILABLE' } } })
  const page = await openCertificate()
  expect(allText(page)).toContain('部门数据暂时无法读取，请稍后再试。')
  expect(allText(page)).toContain('重试')
  expect(allText(page)).not.toContain('还没有离校证明')
})

test('English', async () => {
  setup({ statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: 'issued in error' }) }, { language: 'en' })
  const page = await openCertificate()
  expect(text(page, '.certificate__status')).toBe('Revoked')
  expect(text(page, '.certificate__revoked')).toBe('Reason: issued in error')
  expect(text(page, '.certificate__revoked-title')).toBe('This certificate has been revoked and can no longer be used.')
  expect(text(page, '.certificate__what-to-do')).toBe('What to do: contact the graduate school; once they have '
    + 'checked, an administrator issues a new certificate, which then shows on this page.')
  expect(allText(page)).not.toContain('Printing on a PC')
  expect(text(page, '.certificate__help')).toBe('Graduate school: 0516-00000000')
})

test('English: a valid certificate has its printing steps', async () => {
  setup({ statusCode: 200, data: api.certificate() }, { language: 'en' })
  const page = await openCertificate()
  expect(allText(page)).toContain('Printing on a PC')
})

// A way out: the certificate may be the only page (opened from a notification); home is then started anew.
describe.each([
  ['zh_CN', '返回首页'],
  ['en', 'Back to home'],
])('back home (%s)', (language, word) => {
  test.each([
    ['opened from home', ['pages/home/index', 'pages/certificate/index'], { type: 'navigateBack', delta: 1 }],
    ['the only page', ['pages/certificate/index'], { type: 'reLaunch', url: '/pages/home/index' }],
  ])('%s', async (name, pages, navigation) => {
    setup({ statusCode: 200, data: api.certificate() }, { language, pages, storage: { 'lixiao.token': 't',
      'lixiao.profile': { bound: true, student: { name: '张三' }, staff: null } } })
    canvas2d()
    const page = await openCertificate()
    expect(texts(page, '.page-actions .btn')).toEqual([word])
    page.querySelector('.page-actions__home').dispatchEvent('tap')
    await settle()
    expect(fake.log.navigations).toEqual([navigation])
  })

  test.each([
    ['revoked', { statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: '学籍信息有误' }) }],
    ['none yet', { statusCode: 404, data: api.error('CERTIFICATE_NOT_FOUND', '没有证明', 'No certificate') }],
  ])('there too when %s', async (name, answer) => {
    setup(answer, { language })
    expect(texts(await openCertificate(), '.page-actions .btn')).toEqual([word])
  })
})
