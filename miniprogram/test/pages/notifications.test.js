// Notifications (pushed or why not) and the subscribe prompt that must run from a tap.
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { renderPage, texts, allText } = require('../helpers/render')

const TEMPLATES = [
  { key: 'item_passed', template_id: 'TPL-ITEM-PASSED', title: '离校事项通过通知', title_en: 'Item passed', remaining: 0,
    purpose: '每有一个离校事项通过，通知你一次', purpose_en: 'One message each time an item passes' },
  { key: 'all_passed', template_id: 'TPL-ALL-PASSED', title: '可以提交离校申请', title_en: 'Ready to submit', remaining: 1 },
]

function note(id, pushed, reason, extra) {
  return Object.assign(
    {
      id,
      event: 'item_passed',
      title: '图书馆已通过',
      title_en: 'Library passed',
      body: '你的图书馆离校事项已通过。',
      body_en: 'Your library item has passed.',
      created_at: '2027-06-03T04:05:00+00:00',
      pushed,
      not_pushed_reason: reason,
      page: 'pages/home/index',
      link: '/me',
    },
    extra,
  )
}

const ITEMS = [
  note(1, true, null),
  note(2, false, 'no_consent'),
  note(3, false, 'platform_refused'),
  note(4, false, 'rate_limited_retrying'),
  note(5, false, 'pending', { event: 'all_passed', title: '四项均已通过', title_en: 'All four passed' }),
  note(6, false, 'no_wechat_binding'),
]

let fake
function setup(options, overrides) {
  fake = installWx(Object.assign({ storage: { 'lixiao.token': 't' } }, options))
  const o = Object.assign({ notifications: { statusCode: 200, data: { items: ITEMS } }, templates: { statusCode: 200, data: { templates: TEMPLATES } } }, overrides)
  fake.server.on('GET', '/api/v1/me/notifications', o.notifications)
  fake.server.on('GET', '/api/v1/me/subscriptions', o.templates)
  fake.server.on('POST', '/api/v1/me/subscriptions', (req) => ({
    statusCode: 200,
    data: { templates: TEMPLATES.map((t) => Object.assign({}, t, { remaining: t.remaining + (req.data.accepted.includes(t.key) ? 1 : 0) })) },
  }))
}

async function openPage() {
  const page = renderPage('notifications')
  await page.instance.onLoad()
  await settle()
  return page
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

// In the server's words (the web's notifications page): server/web/student_pages.py DELIVERY.
test('every notification says whether it reached WeChat, and if not, why', async () => {
  setup()
  const page = await openPage()
  expect(texts(page, '.notifications__push')).toEqual([
    '已推送到手机',
    '未订阅推送，仅在此显示',
    '平台未能送达，仅在此显示',
    '推送繁忙，稍后重试',
    '等待推送',
    '未绑定微信，仅在此显示',
  ])
  expect(texts(page, '.notifications__title')[4]).toBe('四项均已通过')
  expect(texts(page, '.notifications__time')[0]).toBe('2027-06-03 12:05')
  expect(texts(page, '.notifications__body')[0]).toBe('你的图书馆离校事项已通过。')
})

test('a notification opens the page it talks about', async () => {
  setup()
  const page = await openPage()
  expect(texts(page, '.notifications__open')[0]).toBe('查看 ›')
  page.querySelectorAll('.notifications__entry')[0].dispatchEvent('tap')
  await settle()
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/home/index' }])
})

test('English titles and bodies', async () => {
  setup({ language: 'en' })
  const page = await openPage()
  expect(texts(page, '.notifications__title')[0]).toBe('Library passed')
  expect(texts(page, '.notifications__body')[0]).toBe('Your library item has passed.')
  expect(texts(page, '.notifications__push')[1]).toBe('Not subscribed to pushes: shown here only')
})

test('empty list and error state', async () => {
  setup({}, { notifications: { statusCode: 200, data: { items: [] } } })
  let page = await openPage()
  expect(allText(page)).toContain('暂无消息。')

  jest.resetModules()
  setup({}, { notifications: { statusCode: 503, data: { error: { code: 'PLATFORM_UNAVAILABLE' } } } })
  page = await openPage()
  expect(allText(page)).toContain('微信平台暂时不可用，请稍后再试。')
})

describe('subscribe prompt', () => {
  function panelOf(page) {
    return page.querySelector('.notifications__subscribe')
  }

  test('lists the templates with what is left, asks from the tap with their ids, reports the accepted keys', async () => {
    setup({ subscribeResult: { 'TPL-ITEM-PASSED': 'accept', 'TPL-ALL-PASSED': 'reject' } })
    const page = await openPage()
    const panel = panelOf(page)
    expect(texts(panel, '.subscribe__template')).toEqual(['离校事项通过通知剩余 0 次', '可以提交离校申请剩余 1 次'])
    expect(texts(panel, '.subscribe__purpose')).toEqual(['每有一个离校事项通过，通知你一次'])
    expect(texts(panel, '.subscribe__button')).toEqual(['允许通知'])  // one group: one plain button
    panel.querySelector('.subscribe__button').dispatchEvent('tap')
    await settle()
    expect(fake.log.subscribeRequest).toEqual(['TPL-ITEM-PASSED', 'TPL-ALL-PASSED'])
    expect(fake.server.calls('POST', '/api/v1/me/subscriptions').map((r) => r.data)).toEqual([{ accepted: ['item_passed'] }])
    expect(texts(panel, '.subscribe__template')[0]).toBe('离校事项通过通知剩余 1 次')
    expect(texts(panel, '.subscribe__message')).toEqual(['已允许 1 项通知'])
    // the list reloads after a change so the student sees the current state
    expect(fake.server.calls('GET', '/api/v1/me/notifications')).toHaveLength(2)
  })

  test('the prompt is opened synchronously inside the tap handler (WeChat refuses it after an await)', async () => {
    setup({ subscribeResult: {} })
    const page = await openPage()
    const pending = panelOf(page).instance.onSubscribe()
    expect(fake.log.subscribeRequest).toEqual(['TPL-ITEM-PASSED', 'TPL-ALL-PASSED'])
    await pending
  })

  test('rejecting everything posts nothing and says messages still show here', async () => {
    setup({ subscribeResult: { 'TPL-ITEM-PASSED': 'reject', 'TPL-ALL-PASSED': 'ban' } })
    const page = await openPage()
    panelOf(page).querySelector('.subscribe__button').dispatchEvent('tap')
    await settle()
    expect(fake.server.calls('POST', '/api/v1/me/subscriptions')).toHaveLength(0)
    expect(texts(panelOf(page), '.subscribe__message')).toEqual(['你没有允许通知，消息仍会显示在本页。'])
  })

  test('a refused prompt (main switch off) explains where to turn it on', async () => {
    setup({ subscribeResult: { errCode: 20004, errMsg: 'requestSubscribeMessage:fail main switch is off' } })
    const page = await openPage()
    panelOf(page).querySelector('.subscribe__button').dispatchEvent('tap')
    await settle()
    expect(texts(panelOf(page), '.subscribe__message')).toEqual(['无法打开通知授权，请在微信“设置 → 通知”中允许订阅消息。'])
  })

  test('every template can be asked for: groups of at most three, one tap each, each saying what it is for', async () => {
    const many = [1, 2, 3, 4, 5].map((n) => ({ key: 'k' + n, template_id: 'T' + n, title: 't' + n, title_en: 't' + n,
      purpose: '用途' + n, purpose_en: 'for ' + n, remaining: 0 }))
    setup({ subscribeResult: {} }, { templates: { statusCode: 200, data: { templates: many } } })
    const page = await openPage()
    const panel = panelOf(page)
    const buttons = panel.querySelectorAll('.subscribe__button')
    expect(buttons).toHaveLength(2)
    expect(texts(panel, '.subscribe__limit')).toEqual(['微信每次最多询问 3 项通知，请分别点击下面的按钮允许每一组。'])
    expect(texts(panel, '.subscribe__purpose')).toEqual(['用途1', '用途2', '用途3', '用途4', '用途5'])
    expect(texts(panel, '.subscribe__button')).toEqual(['允许这一组通知', '允许这一组通知'])
    buttons[0].dispatchEvent('tap')
    await settle()
    expect(fake.log.subscribeRequest).toEqual(['T1', 'T2', 'T3'])
    buttons[1].dispatchEvent('tap')
    await settle()
    expect(fake.log.subscribeRequest).toEqual(['T4', 'T5'])
  })

  test('the server\'s four templates: the fourth (batch closing reminder) has a tap of its own', async () => {
    const four = ['item_passed', 'all_passed', 'certificate_issued', 'batch_closing_reminder'].map((key, n) => (
      { key, template_id: 'TPL-' + n, title: key, title_en: key, purpose: 'p' + n, purpose_en: 'p' + n, remaining: 0 }))
    setup({ subscribeResult: { 'TPL-3': 'accept' } }, { templates: { statusCode: 200, data: { templates: four } } })
    fake.server.on('POST', '/api/v1/me/subscriptions', { statusCode: 200, data: { templates: four } })
    const page = await openPage()
    panelOf(page).querySelectorAll('.subscribe__button')[1].dispatchEvent('tap')
    await settle()
    expect(fake.log.subscribeRequest).toEqual(['TPL-3'])
    expect(fake.server.calls('POST', '/api/v1/me/subscriptions').map((r) => r.data)).toEqual([{ accepted: ['batch_closing_reminder'] }])
  })

  test('no templates: no button, a short note', async () => {
    setup({}, { templates: { statusCode: 200, data: { templates: [] } } })
    const page = await openPage()
    expect(panelOf(page).querySelector('.subscribe__button')).toBeFalsy()
    expect(texts(panelOf(page), '.subscribe__none')).toEqual(['暂时没有可订阅的通知。'])
  })

  test('templates that cannot be loaded say why', async () => {
    setup({}, { templates: { statusCode: 503, data: { error: { code: 'PLATFORM_UNAVAILABLE', message: '微信平台暂时不可用', message_en: 'down' } } } })
    const page = await openPage()
    expect(texts(panelOf(page), '.subscribe__message')).toEqual(['微信平台暂时不可用'])
  })

  test('saving the consent can fail too', async () => {
    setup({ subscribeResult: { 'TPL-ITEM-PASSED': 'accept' } })
    fake.server.on('POST', '/api/v1/me/subscriptions', { statusCode: 429, data: { error: { code: 'RATE_LIMITED' } } })
    const page = await openPage()
    panelOf(page).querySelector('.subscribe__button').dispatchEvent('tap')
    await settle()
    expect(texts(panelOf(page), '.subscribe__message')).toEqual(['操作太频繁，请稍后再试。'])
  })
})
