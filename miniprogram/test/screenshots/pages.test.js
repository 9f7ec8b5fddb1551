// Every page of app.json in the states the web pictures show (a student with every item passed, blocked, with an
// item unavailable, submitted, with a revoked certificate; the counter's results), rendered with its real WXML and
// WXSS and written as a self-contained HTML file: tests/browser/test_screenshots.py runs this file with
// LIXIAO_MP_HTML=<dir> and photographs each one in Chromium (docs/screenshots/mp-<page>-<state>.png under
// `make screenshots`). Without LIXIAO_MP_HTML the files go to test-artifacts/mp-html/.
const fs = require('fs')
const path = require('path')
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { canvas2d } = require('../helpers/canvas')
const { ROOT, renderPage } = require('../helpers/render')
const { phoneHtml, KNOWN_TAGS } = require('../helpers/phone-html')
const api = require('../fixtures/api')

const OUT = process.env.LIXIAO_MP_HTML || path.join(ROOT, '..', 'test-artifacts', 'mp-html')
const APP = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))

const STUDENT = { 'lixiao.token': 'tok-bound', 'lixiao.profile': { bound: true, student: { name: '张三' }, staff: null } }
const COUNTER = { 'lixiao.token': 'tok-counter', 'lixiao.profile': { bound: true, student: null, staff: { role: 'counter' } } }
const QR = 'LX1.eyJzIjoiTFgyMDI3LTAwMDAzMSJ9.c2lnbmF0dXJl'
const REVOKED_REASON = '学籍信息有误'

// The student's GET /me/clearance in each state.
const CLEARANCE = {
  passed: () => api.clearance(),
  blocked: () => api.clearance({ library: 'not_passed', finance: 'not_passed' }),
  // The apartment office's system failed after a read: its last known values, as the web's grey student.
  unavailable: () => api.clearance({ apartment: ['unavailable', 'last_known'] }),
  // Nothing was ever read from the apartment office.
  unread: () => api.clearance({ apartment: 'unavailable' }),
  submitted: () => api.clearance({}, { can_submit: false, application: api.application() }),
  revoked: () => api.clearance({}, { can_submit: false,
    application: api.application({ certificate: { serial: 'LX2027-000031', status: 'revoked' } }) }),
}
const CERTIFICATE = {
  submitted: api.certificate(),
  revoked: api.certificate({ status: 'revoked', revoked_reason: REVOKED_REASON }),
}
const APPLICATIONS = {
  submitted: [api.application()],
  revoked: [api.application({ certificate: { serial: 'LX2027-000031', status: 'revoked' } })],
}
const NOTIFICATIONS = [
  { id: 2, event: 'all_passed', title: '四项均已通过', title_en: 'All four passed', body: '你可以提交离校申请了。',
    body_en: 'You can submit your departure application.', created_at: '2027-06-03T04:10:00+00:00', pushed: false,
    not_pushed_reason: 'no_consent', page: 'pages/submit/index', link: '/me/submit' },
  { id: 1, event: 'item_passed', title: '图书馆已通过', title_en: 'Library passed', body: '你的图书馆离校事项已通过。',
    body_en: 'Your library item has passed.', created_at: '2027-06-03T04:05:00+00:00', pushed: true,
    not_pushed_reason: null, page: 'pages/home/index', link: '/me' },
]
const TEMPLATES = [
  { key: 'item_passed', template_id: 'TPL-ITEM-PASSED', title: '离校事项通过通知', title_en: 'Item passed', remaining: 1,
    purpose: '每有一个离校事项通过，通知你一次', purpose_en: 'One message each time an item passes' },
]

// Each scene: the page, its state (no hyphen: the Python side splits names on it), what the server answers, how the
// page is opened, and texts its picture must show (and must not), so a picture cannot silently show some other state.
const home = (state, shows, hides) => ({
  page: 'home', state, shows, hides,
  serve: (s) => s.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: CLEARANCE[state]() }),
  open: async (p) => { p.instance.onLoad(); await p.instance.onShow() },
})
const submit = (state, shows) => ({
  page: 'submit', state, shows,
  serve: (s) => s.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: CLEARANCE[state]() }),
  open: (p) => p.instance.onLoad(),
})
const item = (state, key, shows, hides) => ({
  page: 'item', state, shows, hides,
  serve: (s) => s.on('GET', '/api/v1/me/clearance', { statusCode: 200, data: CLEARANCE[state]() }),
  open: (p) => p.instance.onLoad({ key }),
})
const certificate = (state, shows, hides) => ({
  page: 'certificate', state, shows, hides,
  serve: (s) => s.on('GET', '/api/v1/me/certificate', { statusCode: 200, data: CERTIFICATE[state] }),
  open: async (p) => {
    await p.instance.onLoad()
    await settle()
    // WeChat fires `ready` on the QR code inserted by wx:if once it is laid out; the simulator does not.
    const qr = p.querySelector('.certificate__qr')
    if (qr) qr.triggerLifeTime('ready')
  },
})
const applications = (state, shows) => ({
  page: 'applications', state, shows,
  serve: (s) => s.on('GET', '/api/v1/me/applications', { statusCode: 200, data: { applications: APPLICATIONS[state] } }),
  open: (p) => p.instance.onLoad(),
})
// A counter scene with a verdict names its tone: the picture must show that colour and its icon.
const ICONS = { green: '✓', red: '✕', amber: '!' }
const counter = (state, answer, verdict, shows, hides) => ({
  page: 'counter', state, verdict, hides, storage: COUNTER,
  shows: verdict ? [`counter__verdict--${verdict}`, ICONS[verdict]].concat(shows) : shows,
  serve: (s) => answer && s.on('POST', '/api/v1/counter/verify', answer),
  open: async (p) => {
    p.instance.onLoad()
    await settle(2)
    if (answer) await p.instance.scan()
  },
})
const ALL_HANDED_OVER = ['diploma', 'degree_certificate', 'archive_transfer', 'party_transfer'].map((i) => api.handover(i))
const plain = (page, shows, open) => ({ page, state: 'default', shows, serve: () => {}, open: open || ((p) => p.instance.onLoad()) })

const SCENES = [
  plain('launch', ['正在登录…'], (p) => { p.instance.onLoad() }),
  // After logging out: no sign-in until asked (utils/leave.js).
  { page: 'launch', state: 'signedout', shows: ['已退出登录', '重新登录'], hides: ['正在登录…'], serve: () => {},
    open: (p) => { p.instance.onLoad({ signedOut: '1' }) } },
  plain('bind', ['绑定统一身份认证', '首次使用请用学校统一身份认证账号'], (p) => { p.instance.onLoad(); p.instance.onShow() }),
  plain('bind-cas', ['src="http://127.0.0.1:8000/bind/cas?token=tok-bound"']),
  home('passed', ['提交离校申请', '开放中']),
  home('blocked', ['暂不能提交：', '有 2 本书未归还', '欠缴住宿费 1200.00 元']),
  home('unavailable', ['暂不可查', '总务部公寓与物业中心系统暂时无法查询']),
  home('submitted', ['已于 2027-06-02 09:00 提交离校申请', '我的离校证明（二维码）']),
  home('revoked', ['已于 2027-06-02 09:00 提交离校申请', '查看证明状态（已撤销）'], ['二维码']),
  item('passed', 'library', ['借书证状态', '已注销', '数据来源：部门批量导入'], ['import']),
  item('blocked', 'library', ['有 2 本书未归还', '归还图书并缴清欠费']),
  item('unavailable', 'apartment', ['暂不可查', '以下为最后已知数据，截至 2027-06-01 10:30', '紫荆 3 号楼',
    '数据来源：部门业务系统', '暂不可查的原因'], ['更新于', 'http', '未通过原因']),
  item('unread', 'apartment', ['暂不可查', '尚未取得公寓与物业中心的任何数据，暂无明细可显示。'], ['尚无数据', '数据来源']),
  submit('passed', ['离校申请只能提交一次']),
  submit('blocked', ['暂不能提交，原因：', '财务资产部']),
  submit('unavailable', ['暂不可查']),
  submit('submitted', ['你已经提交过离校申请。']),
  certificate('submitted', ['有效', 'LX2027-000031', '在电脑上打印', 'wx-canvas', '到窗口办理时出示此二维码', '返回首页']),
  // Not a dead end: why and what to do; no QR code to show at the counter, nothing to print.
  certificate('revoked', ['已撤销', '本证明已撤销，不能再用于办理离校。', '撤销原因：' + REVOKED_REASON,
    '怎么办：请联系研究生院核实；核实后管理员会重新签发证明，新证明会显示在本页。', '研究生院电话：0516-00000000'],
  ['wx-canvas', '出示此二维码', '在电脑上打印', '核验链接']),
  applications('submitted', ['离校证明 LX2027-000031', '有效']),
  applications('revoked', ['离校证明 LX2027-000031', '已撤销']),
  {
    page: 'notifications', state: 'submitted', shows: ['四项均已通过', '已推送到手机', '未订阅推送，仅在此显示', '离校事项通过通知'],
    serve: (s) => s.on('GET', '/api/v1/me/notifications', { statusCode: 200, data: { items: NOTIFICATIONS } })
      .on('GET', '/api/v1/me/subscriptions', { statusCode: 200, data: { templates: TEMPLATES } }),
    open: (p) => p.instance.onLoad(),
  },
  plain('settings', ['语言', '解除绑定', '运行环境: 开发版']),
  plain('privacy', ['我们保存什么', '谁能看到']),
  counter('scan', null, null, ['扫码核验', '返回首页', '设置', '退出登录'], ['counter__verdict']),
  counter('valid', { statusCode: 200, data: api.counterVerified() }, 'green', ['有效', '张三', '2099000001', '计算机学院',
    '尚未交接任何材料', '毕业证书', '党组织关系转接', '硕士研究生', '登记交接']),
  // Everything handed over: still a valid certificate, green, with one line saying so and nothing left to choose.
  counter('handed', { statusCode: 200, data: api.counterVerified({ status: 'handed_over', handed_over: ALL_HANDED_OVER }) },
    'green', ['有效（已办理交接）', '张三', '2099000001', '计算机学院', '材料已全部交接', '窗口老师 · 2027-06-20 09:00'],
    ['确认交接']),
  counter('forged', { statusCode: 422, data: api.FORGED_AT_COUNTER }, 'red', ['无效（可能伪造）', '签名无效'], ['学生信息']),
  counter('unknown', { statusCode: 404, data: api.UNKNOWN_AT_COUNTER }, 'red', ['未知证明', '系统中没有这张离校证明'], ['学生信息']),
  // The server refuses a revoked certificate with 422 CERTIFICATE_REVOKED and no student data (verify.py).
  counter('revoked', { statusCode: 422, data: api.revokedAtCounter({ reason: REVOKED_REASON }) }, 'amber',
    ['已撤销', '撤销原因：' + REVOKED_REASON, '证明编号 LX2027-000031'], ['学生信息', '登记交接']),
  counter('replaced', { statusCode: 422, data: api.revokedAtCounter({ reason: REVOKED_REASON, replacedBy: 'LX2027-000032' }) },
    'amber', ['已被替代', '新证明 LX2027-000032，请学生出示新证明'], ['学生信息', '登记交接']),
  // An answer that says nothing about the certificate: not checked, and why.
  counter('unchecked', { statusCode: 429, data: api.error('RATE_LIMITED', '操作太频繁，请稍后再试。', 'Too many requests; try again later.') },
    'amber', ['未能核验', '操作太频繁，请稍后再试。'], ['学生信息']),
]

beforeEach(() => jest.resetModules())
afterEach(() => {
  jest.restoreAllMocks()
  restoreWx()
})

test('every page in app.json has a picture', () => {
  const pictured = [...new Set(SCENES.map((s) => 'pages/' + s.page + '/index'))].sort()
  expect(pictured).toEqual([...APP.pages].sort())
  for (const s of SCENES) expect(s.state).toMatch(/^[a-z]+$/)
})

// Each outcome of a scan (utils/present/counter.js), pictured in its colour: a valid certificate with nothing and with
// everything handed over, a forged and an unknown one, a revoked and a replaced one, and a scan that was not checked.
test('the counter page is pictured in every verdict state', () => {
  const pictured = SCENES.filter((s) => s.page === 'counter' && s.verdict).map((s) => [s.state, s.verdict])
  expect(pictured).toEqual([['valid', 'green'], ['handed', 'green'], ['forged', 'red'], ['unknown', 'red'],
    ['revoked', 'amber'], ['replaced', 'amber'], ['unchecked', 'amber']])
  expect(SCENES.some((s) => s.page === 'counter' && s.state === 'scan')).toBe(true)
})

test.each(SCENES.map((s) => [s.page + '-' + s.state, s]))('%s', async (name, scene) => {
  const fake = installWx({ storage: scene.storage || STUDENT, scanResult: QR })
  scene.serve(fake.server)
  const canvases = canvas2d()
  const page = renderPage(scene.page)
  await scene.open(page)
  // The launch page is photographed while it signs in: the sign-in's answer would send it elsewhere.
  if (scene.page !== 'launch') await settle()
  const { html, tags, canvases: pictured, slots } = phoneHtml(page, { title: fake.log.titles[fake.log.titles.length - 1], canvases })

  expect(tags.filter((t) => !KNOWN_TAGS.includes(t))).toEqual([])
  expect(pictured).toBe(slots) // a QR code that was not drawn would be a blank square in the picture
  expect(html).not.toMatch(/\drpx/)
  const body = html.slice(html.indexOf('<body>'))
  for (const text of scene.shows) expect(body).toContain(text)
  for (const text of scene.hides || []) expect(body).not.toContain(text)
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(path.join(OUT, `mp-${name}.html`), html)
  await settle()
})
