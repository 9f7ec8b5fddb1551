const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { render, text, allText } = require('../helpers/render')

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('loading', () => {
  installWx()
  const comp = render('components/state-view', { loading: true })
  expect(text(comp, '.state--loading')).toBe('加载中…')
})

test('error with a retry event', async () => {
  installWx({ language: 'en' })
  const comp = render('components/state-view', { error: { code: 'NETWORK', message: 'Network connection failed.' } })
  expect(text(comp, '.state__message')).toBe('Network connection failed.')
  const onRetry = jest.fn()
  comp.addEventListener('retry', onRetry)
  comp.querySelector('.state__retry').dispatchEvent('tap')
  await settle(2)
  expect(onRetry).toHaveBeenCalledTimes(1)
  expect(text(comp, '.state__retry')).toBe('Retry')
})

test('empty', () => {
  installWx()
  const comp = render('components/state-view', { empty: true, emptyText: '暂无消息' })
  expect(text(comp, '.state--empty')).toBe('暂无消息')
})

test('nothing to say renders nothing', () => {
  installWx()
  const comp = render('components/state-view', {})
  expect(allText(comp).trim()).toBe('')
})
