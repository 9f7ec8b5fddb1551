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

test('revoked: says so with the reason', async () => {
  setup({ statusCode: 200, data: api.certificate({ status: 'revoked', revoked_reason: '档案信息有误，已重新办理' }) })
  const page = await openCertificate()
  expect(text(page, '.certificate__status')).toBe('已撤销')
  expect(text(page, '.certificate__revoked')).toBe('撤销原因：档案信息有误，已重新办理')
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
  expect(text(page, '.certificate__status')).toBe('已领取')
  expect(texts(page, '.certificate__handover')).toEqual(['毕业证书counter · 2027-06-20 09:00', '学位证书counter · 2027-06-20 09:00'])
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
  expect(allText(page)).toContain('还没有离校证明。四个事项全部通过并提交离校申请后即可获得。')
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
  expect(allText(page)).toContain('Printing on a PC')
})
