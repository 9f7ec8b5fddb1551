// Counter staff: scan → verify → certificate status, student, items → record the hand-over.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, text, texts, cards, allText } = require('../helpers/render')
const api = require('../fixtures/api')

const QR = 'LX1.eyJzIjoiTFgyMDI3LTAwMDAzMSJ9.c2lnbmF0dXJl'
const STAFF = { 'lixiao.token': 'tok-counter', 'lixiao.profile': { bound: true, student: null, staff: { role: 'counter' } } }

function verifyResult(certificate) {
  return {
    certificate: Object.assign({ serial: 'LX2027-000031', status: 'valid', revoked_reason: null, issued_at: '2027-06-02T01:00:05+00:00', handed_over: [] }, certificate),
    student: api.STUDENT,
    items: api.clearance().items,
  }
}

let fake
function setup(options) {
  fake = installWx(Object.assign({ storage: STAFF, scanResult: QR }, options))
}

async function openCounter() {
  const page = renderPage('counter')
  page.instance.onLoad()
  await settle(2)
  return page
}

async function scan(page) {
  page.querySelector('.counter__scan').dispatchEvent('tap')
  await settle()
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('only counter or admin staff may use the page', async () => {
  setup({ storage: { 'lixiao.token': 't', 'lixiao.profile': { bound: true, student: {}, staff: null } } })
  const page = await openCounter()
  expect(text(page, '.counter__denied')).toBe('只有窗口工作人员可以使用此页面。')
  expect(page.querySelector('.counter__scan')).toBeFalsy()
})

test('scan a valid certificate: QR only, verify with qr_text, show status, student and the four items', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult() })
  const page = await openCounter()
  await scan(page)
  expect(fake.log.scanOptions.scanType).toEqual(['qrCode'])
  expect(fake.server.calls('POST', '/api/v1/counter/verify').map((r) => r.data)).toEqual([{ qr_text: QR }])
  expect(text(page, '.counter__status')).toBe('有效')
  expect(texts(page, '.counter__certificate .section-title')).toEqual(['LX2027-000031'])
  expect(allText(page)).toContain('姓名张三')
  expect(cards(page).map((c) => c.label)).toEqual(['通过', '通过', '通过', '通过'])
  expect(texts(page, '.counter__option')).toEqual(['毕业证书', '学位证书', '档案转递', '党组织关系转接'])
})

test('record a hand-over: POST {serial, items}, then the record is shown from a fresh verify', async () => {
  setup()
  let handed = []
  fake.server.on('POST', '/api/v1/counter/verify', () => ({ statusCode: 200, data: verifyResult({ handed_over: handed }) }))
  fake.server.on('POST', '/api/v1/counter/handover', (req) => {
    handed = req.data.items.map((item) => ({ item, by: 'counter', at: '2027-06-20T01:00:00+00:00' }))
    return { statusCode: 200, data: { serial: req.data.serial, handed_over: handed } }
  })
  const page = await openCounter()
  await scan(page)
  page.instance.onOptionsChange({ detail: { value: ['diploma', 'archive_transfer'] } })
  await settle(2)
  page.querySelector('.counter__record').dispatchEvent('tap')
  await settle()
  expect(fake.log.modals[0].content).toBe('确认登记交接：毕业证书、档案转递？')
  expect(fake.server.calls('POST', '/api/v1/counter/handover').map((r) => r.data)).toEqual([
    { serial: 'LX2027-000031', items: ['diploma', 'archive_transfer'] },
  ])
  expect(fake.log.toasts).toEqual(['已登记交接'])
  expect(texts(page, '.counter__handed')).toEqual(['毕业证书counter · 2027-06-20 09:00', '档案转递counter · 2027-06-20 09:00'])
  expect(texts(page, '.counter__option')).toEqual(['学位证书', '党组织关系转接'])
})

test('nothing chosen: asks to choose, sends nothing', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult() })
  const page = await openCounter()
  await scan(page)
  await page.instance.recordHandover()
  expect(fake.log.toasts).toEqual(['请选择要登记的项目'])
  expect(fake.server.calls('POST', '/api/v1/counter/handover')).toHaveLength(0)
})

test('409 ALREADY_HANDED_OVER is explained and the current record shown', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult() })
  fake.server.on('POST', '/api/v1/counter/handover', { statusCode: 409, data: api.error('ALREADY_HANDED_OVER', '毕业证书已于 6 月 20 日领取', 'Already handed over') })
  const page = await openCounter()
  await scan(page)
  page.instance.onOptionsChange({ detail: { value: ['diploma'] } })
  await page.instance.recordHandover()
  await settle()
  expect(fake.log.modals[1].content).toBe('毕业证书已于 6 月 20 日领取')
  expect(fake.server.calls('POST', '/api/v1/counter/verify')).toHaveLength(2)
})

// The server refuses a revoked certificate (422 CERTIFICATE_REVOKED) without student data: the page says so in one
// full-width verdict readable from across the counter, as the web counter does, not as a generic error.
function verdict(page) {
  const node = page.querySelector('.counter__verdict')
  if (!node) return null
  const match = /counter__verdict--(\S+)/.exec(node.dom.className)
  return { tone: match ? match[1] : '', state: text(page, '.counter__verdict-word'),
    who: text(page, '.counter__verdict-who'), detail: texts(page, '.counter__verdict-detail') }
}

test('revoked and replaced (422): amber verdict naming the new certificate, nothing else to do', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422,
    data: api.revokedAtCounter({ reason: '学籍信息变更', replacedBy: 'LX2027-000032' }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'replaced', state: '已被替代', who: '新证明 LX2027-000032，请学生出示新证明',
    detail: ['证明编号 LX2027-000031', '撤销原因：学籍信息变更'] })
  expect(page.querySelector('.counter__invalid')).toBeFalsy()
  expect(page.querySelector('.counter__record')).toBeFalsy()
  expect(allText(page)).not.toContain('学生信息')
})

test('revoked, not replaced (422): red verdict with the reason', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422, data: api.revokedAtCounter({ reason: '学籍信息变更' }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'revoked', state: '已撤销', who: '撤销原因：学籍信息变更',
    detail: ['证明编号 LX2027-000031'] })
  expect(page.querySelector('.counter__invalid')).toBeFalsy()
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

test('forged (422 CERTIFICATE_INVALID) and unknown (404 CERTIFICATE_NOT_FOUND): red verdicts with the server\'s why', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422, data: api.FORGED_AT_COUNTER })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'invalid', state: '无效（可能伪造）', who: '离校证明签名无效，可能被篡改或伪造。', detail: [] })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 404, data: api.UNKNOWN_AT_COUNTER })
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'invalid', state: '未知证明', who: '系统中没有这张离校证明，请核实来源', detail: [] })
  expect(page.querySelector('.counter__invalid')).toBeFalsy()
})

test('a certificate revoked between scan and hand-over: the refusal, then the verdict from a fresh verify', async () => {
  setup()
  let revoked = false
  fake.server.on('POST', '/api/v1/counter/verify', () => (revoked
    ? { statusCode: 422, data: api.revokedAtCounter({ reason: '学籍信息变更' }) }
    : { statusCode: 200, data: verifyResult() }))
  fake.server.on('POST', '/api/v1/counter/handover', () => {
    revoked = true
    return { statusCode: 422, data: api.error('CERTIFICATE_REVOKED', '该离校证明已被撤销：学籍信息变更',
      'This certificate was revoked: 学籍信息变更',
      { certificate: { serial: 'LX2027-000031', status: 'revoked', revoked_reason: '学籍信息变更' } }) }
  })
  const page = await openCounter()
  await scan(page)
  page.instance.onOptionsChange({ detail: { value: ['diploma'] } })
  await page.instance.recordHandover()
  await settle()
  expect(fake.log.modals[1].content).toBe('该离校证明已被撤销：学籍信息变更')
  expect(verdict(page).tone).toBe('revoked')
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

test('everything handed over: status and records, no more choices', async () => {
  setup()
  const all = ['diploma', 'degree_certificate', 'archive_transfer', 'party_transfer'].map((item) => ({ item, by: 'counter', at: '2027-06-20T01:00:00+00:00' }))
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult({ status: 'handed_over', handed_over: all }) })
  const page = await openCounter()
  await scan(page)
  expect(text(page, '.counter__status')).toBe('有效（已办理交接）')
  expect(texts(page, '.counter__handed')).toHaveLength(4)
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

// Anything else says nothing about the certificate: it was not checked, and the counter is told why.
test.each([
  [400, 'VALIDATION_ERROR', '提交的内容有误，请检查后重试。'],
  [403, 'FORBIDDEN', '你没有权限进行此操作。'],
  [429, 'RATE_LIMITED', '操作太频繁，请稍后再试。'],
])('%i %s: not checked, with the reason; no verdict on the certificate', async (status, code, message) => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: status, data: { error: { code } } })
  const page = await openCounter()
  await scan(page)
  expect(text(page, '.counter__invalid .badge')).toBe('未能核验')
  expect(text(page, '.counter__error')).toBe(message)
  expect(page.querySelector('.counter__verdict')).toBeFalsy()
})

test('closing the scanner sends nothing', async () => {
  setup({ scanResult: null })
  const page = await openCounter()
  await scan(page)
  expect(fake.server.requests).toHaveLength(0)
  expect(page.data.error).toBeNull()
})

test('the QR text can be typed in instead of scanned', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult() })
  const page = await openCounter()
  page.instance.onManualInput({ detail: { value: '  ' + QR + '\n' } })
  await page.instance.verifyManual()
  await settle()
  expect(fake.server.calls('POST', '/api/v1/counter/verify')[0].data).toEqual({ qr_text: QR })
  expect(text(page, '.counter__status')).toBe('有效')
})

test('English: the verdict in English', async () => {
  setup({ language: 'en' })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422,
    data: api.revokedAtCounter({ reason: 'record corrected', replacedBy: 'LX2027-000032' }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'replaced', state: 'Replaced',
    who: 'New certificate LX2027-000032: ask the student to show it',
    detail: ['Serial no. LX2027-000031', 'Reason: record corrected'] })
})

test('should a 200 answer ever say revoked, nothing is offered for hand-over', () => {
  installWx({ storage: STAFF })
  const { verifyView } = require('../../utils/present/counter')
  const view = verifyView(verifyResult({ status: 'revoked', revoked_reason: '学籍信息变更' }))
  expect(view.revoked).toBe(true)
  expect(view.canHandover).toBe(false)
  expect(view.certificate.label).toBe('已撤销')
})
