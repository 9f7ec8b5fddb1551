// Counter staff: scan → verify → certificate status, student, items → record the hand-over.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, text, texts, cards, allText } = require('../helpers/render')
const api = require('../fixtures/api')

const QR = 'LX1.eyJzIjoiTFgyMDI3LTAwMDAzMSJ9.c2lnbmF0dXJl'
const STAFF = { 'lixiao.token': 'tok-counter', 'lixiao.profile': { bound: true, student: null, staff: { role: 'counter' } } }

const verifyResult = api.counterVerified
const ALL = ['diploma', 'degree_certificate', 'archive_transfer', 'party_transfer']

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

// Every result is one full-width verdict, readable from a metre away: its tone (green / red / amber), icon, state
// and, when the answer names the student, who to check against the ID card; then the hand-over line.
function verdict(page) {
  const node = page.querySelector('.counter__verdict')
  if (!node) return null
  const match = /counter__verdict--(\S+)/.exec(node.dom.className)
  return { tone: match ? match[1] : '', icon: text(page, '.counter__verdict-icon'), state: text(page, '.counter__verdict-word'),
    name: text(page, '.counter__verdict-name'), facts: texts(page, '.counter__verdict-fact'),
    who: text(page, '.counter__verdict-who') || '', detail: texts(page, '.counter__verdict-detail'),
    handover: text(page, '.counter__verdict-handover') || '' }
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
  expect(verdict(page)).toEqual({ tone: 'green', icon: '✓', state: '有效', name: '张三',
    facts: ['学号2099000001', '学院计算机学院'], who: '', detail: [], handover: '尚未交接任何材料' })
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
    handed = req.data.items.map((item) => api.handover(item))
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
  expect(texts(page, '.counter__handed')).toEqual(['毕业证书窗口老师 · 2027-06-20 09:00', '档案转递窗口老师 · 2027-06-20 09:00'])
  expect(texts(page, '.counter__option')).toEqual(['学位证书', '党组织关系转接'])
  expect(verdict(page).tone).toBe('green')
  expect(verdict(page).handover).toBe('已交接：毕业证书、档案转递')
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
test('revoked and replaced (422): amber verdict naming the new certificate, nothing else to do', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422,
    data: api.revokedAtCounter({ reason: '学籍信息变更', replacedBy: 'LX2027-000032' }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'amber', icon: '!', state: '已被替代', name: null, facts: [],
    who: '新证明 LX2027-000032，请学生出示新证明', detail: ['证明编号 LX2027-000031', '撤销原因：学籍信息变更'], handover: '' })
  expect(page.querySelector('.counter__certificate')).toBeFalsy()
  expect(page.querySelector('.counter__record')).toBeFalsy()
  expect(allText(page)).not.toContain('学生信息')
})

test('revoked, not replaced (422): amber verdict with the reason', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422, data: api.revokedAtCounter({ reason: '学籍信息变更' }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'amber', icon: '!', state: '已撤销', name: null, facts: [],
    who: '撤销原因：学籍信息变更', detail: ['证明编号 LX2027-000031'], handover: '' })
  expect(page.querySelector('.counter__certificate')).toBeFalsy()
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

test('forged (422 CERTIFICATE_INVALID) and unknown (404 CERTIFICATE_NOT_FOUND): red verdicts with the server\'s why', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422, data: api.FORGED_AT_COUNTER })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'red', icon: '✕', state: '无效（可能伪造）', name: null, facts: [],
    who: '离校证明签名无效，可能被篡改或伪造。', detail: [], handover: '' })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 404, data: api.UNKNOWN_AT_COUNTER })
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'red', icon: '✕', state: '未知证明', name: null, facts: [],
    who: '系统中没有这张离校证明，请核实来源', detail: [], handover: '' })
  expect(page.querySelector('.counter__certificate')).toBeFalsy()
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
  expect(verdict(page).state).toBe('已撤销')
  expect(verdict(page).tone).toBe('amber')
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

test('everything handed over: still green (the certificate is valid), said in one line; records, no more choices', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200,
    data: verifyResult({ status: 'handed_over', handed_over: ALL.map((item) => api.handover(item)) }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'green', icon: '✓', state: '有效（已办理交接）', name: '张三',
    facts: ['学号2099000001', '学院计算机学院'], who: '', detail: [], handover: '材料已全部交接' })
  expect(texts(page, '.counter__handed')).toHaveLength(4)
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

test('some handed over: green, naming what was handed over', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200,
    data: verifyResult({ status: 'handed_over', handed_over: [api.handover('diploma'), api.handover('party_transfer')] }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toMatchObject({ tone: 'green', icon: '✓', state: '有效（已办理交接）', handover: '已交接：毕业证书、党组织关系转接' })
  expect(texts(page, '.counter__option')).toEqual(['学位证书', '档案转递'])
})

// Anything else says nothing about the certificate: it was not checked, and the counter is told why.
test.each([
  [400, 'VALIDATION_ERROR', '提交的内容有误，请检查后重试。'],
  [403, 'FORBIDDEN', '你没有权限进行此操作。'],
  [429, 'RATE_LIMITED', '操作太频繁，请稍后再试。'],
])('%i %s: an amber "not checked" with the reason, nothing said about the certificate', async (status, code, message) => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: status, data: { error: { code } } })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'amber', icon: '!', state: '未能核验', name: null, facts: [], who: message,
    detail: [], handover: '' })
  expect(page.querySelector('.counter__certificate')).toBeFalsy()
})

test('no network: not checked, amber', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { fail: { errMsg: 'request:fail' } })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toMatchObject({ tone: 'amber', icon: '!', state: '未能核验', who: '网络连接失败，请检查网络后重试。' })
})

test('closing the scanner sends nothing', async () => {
  setup({ scanResult: null })
  const page = await openCounter()
  await scan(page)
  expect(fake.server.requests).toHaveLength(0)
  expect(page.data.verdict).toBeNull()
})

test('the QR text can be typed in instead of scanned', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult() })
  const page = await openCounter()
  page.instance.onManualInput({ detail: { value: '  ' + QR + '\n' } })
  await page.instance.verifyManual()
  await settle()
  expect(fake.server.calls('POST', '/api/v1/counter/verify')[0].data).toEqual({ qr_text: QR })
  expect(verdict(page).state).toBe('有效')
})

test('English: the verdict in English', async () => {
  setup({ language: 'en' })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422,
    data: api.revokedAtCounter({ reason: 'record corrected', replacedBy: 'LX2027-000032' }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'amber', icon: '!', state: 'Replaced', name: null, facts: [],
    who: 'New certificate LX2027-000032: ask the student to show it',
    detail: ['Serial no. LX2027-000031', 'Reason: record corrected'], handover: '' })
})

test.each([
  ['nothing handed over', [], 'Valid', 'Nothing handed over yet'],
  ['some handed over', ['diploma', 'archive_transfer'], 'Valid (hand-over recorded)', 'Handed over: Diploma, Personal file transfer'],
  ['all handed over', ALL, 'Valid (hand-over recorded)', 'Everything has been handed over'],
])('English: a valid certificate, %s', async (name, handed, state, line) => {
  setup({ language: 'en' })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200,
    data: verifyResult({ status: handed.length ? 'handed_over' : 'valid', handed_over: handed.map((item) => api.handover(item)) }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'green', icon: '✓', state, name: '张三',
    facts: ['Student no.2099000001', 'College计算机学院'], who: '', detail: [], handover: line })
})

test('English: forged, and not checked', async () => {
  setup({ language: 'en' })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 422, data: api.FORGED_AT_COUNTER })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toMatchObject({ tone: 'red', icon: '✕', state: 'Invalid (possibly forged)',
    who: 'The certificate signature is invalid; it may have been altered or forged.' })
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 429, data: { error: { code: 'RATE_LIMITED' } } })
  await scan(page)
  expect(verdict(page)).toMatchObject({ tone: 'amber', icon: '!', state: 'Not checked' })
})

test('should a 200 answer ever say revoked: amber, who it is and why, nothing offered for hand-over', async () => {
  setup()
  fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult({ status: 'revoked',
    revoked_reason: '学籍信息变更', revoked_at: '2027-06-05T02:00:00+00:00', handed_over: [api.handover('diploma')] }) })
  const page = await openCounter()
  await scan(page)
  expect(verdict(page)).toEqual({ tone: 'amber', icon: '!', state: '已撤销', name: '张三',
    facts: ['学号2099000001', '学院计算机学院'], who: '撤销原因：学籍信息变更', detail: [], handover: '已交接：毕业证书' })
  expect(page.data.view.canHandover).toBe(false)
  expect(text(page, '.counter__revoked-block')).toBe('证明已撤销，不能办理交接。')
  expect(page.querySelector('.counter__record')).toBeFalsy()
})

// A way out of the counter: home, settings, log out, in the staff member's language, whatever the page shows.
describe.each([
  ['zh_CN', ['返回首页', '设置', '退出登录']],
  ['en', ['Back to home', 'Settings', 'Log out']],
])('the way out (%s)', (language, words) => {
  test('three buttons under the result', async () => {
    setup({ language })
    fake.server.on('POST', '/api/v1/counter/verify', { statusCode: 200, data: verifyResult() })
    const page = await openCounter()
    await scan(page)
    expect(texts(page, '.page-actions .btn')).toEqual(words)
  })

  test('the same for someone who is not staff', async () => {
    setup({ language, storage: { 'lixiao.token': 't', 'lixiao.profile': { bound: true, student: {}, staff: null } } })
    expect(texts(await openCounter(), '.page-actions .btn')).toEqual(words)
  })

  test('home: the counter is the home of staff who are no student, started anew', async () => {
    setup({ language, pages: ['pages/counter/index'] })
    const page = await openCounter()
    page.querySelector('.page-actions__home').dispatchEvent('tap')
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/counter/index' }])
  })

  test('home for a student who also works the counter: back to the home page under it', async () => {
    setup({ language, pages: ['pages/home/index', 'pages/counter/index'],
      storage: { 'lixiao.token': 't', 'lixiao.profile': { bound: true, student: { name: '张三' }, staff: { role: 'counter' } } } })
    const page = await openCounter()
    page.querySelector('.page-actions__home').dispatchEvent('tap')
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'navigateBack', delta: 1 }])
  })

  test('settings opens over the counter', async () => {
    setup({ language })
    const page = await openCounter()
    page.querySelector('.page-actions__settings').dispatchEvent('tap')
    await settle()
    expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/settings/index' }])
  })

  test('log out: the token ends on the server and here; the launch page waits', async () => {
    setup({ language })
    fake.server.on('DELETE', '/api/v1/me/session', { statusCode: 204, data: '' })
    const page = await openCounter()
    page.querySelector('.page-actions__logout').dispatchEvent('tap')
    await settle()
    expect(fake.server.calls('DELETE', '/api/v1/me/session')).toHaveLength(1)
    expect(fake.storage['lixiao.token']).toBeUndefined()
    expect(fake.log.navigations).toEqual([{ type: 'reLaunch', url: '/pages/launch/index?signedOut=1' }])
  })
})
