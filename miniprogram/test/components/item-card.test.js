const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { render, text } = require('../helpers/render')

let fake
beforeEach(() => {
  jest.resetModules()
  fake = installWx()
})
afterEach(restoreWx)

const CARD = { key: 'finance', title: '财务资产部', cls: 'not-passed', label: '未通过', summary: '欠缴住宿费', updatedText: '更新于 2027-06-01 10:30' }

test.each([
  ['passed', '通过'],
  ['not-passed', '未通过'],
  ['unavailable', '暂不可查'],
])('%s: colour class and a text label (never colour alone)', (cls, label) => {
  const comp = render('components/item-card', { card: Object.assign({}, CARD, { cls, label }) })
  const root = comp.querySelector('.item-card')
  expect(root.dom.className).toContain('item-card--' + cls)
  expect(text(comp, '.badge')).toBe(label)
})

test('shows the summary and the update time', () => {
  const comp = render('components/item-card', { card: CARD })
  expect(text(comp, '.item-card__summary')).toBe('欠缴住宿费')
  expect(text(comp, '.item-card__updated')).toBe('更新于 2027-06-01 10:30')
})

test('tapping opens the item page; an unlinked card (counter) does not navigate', async () => {
  let comp = render('components/item-card', { card: CARD })
  comp.querySelector('.item-card').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.navigations).toEqual([{ type: 'navigateTo', url: '/pages/item/index?key=finance' }])

  jest.resetModules()
  fake = installWx()
  comp = render('components/item-card', { card: CARD, linked: false })
  comp.querySelector('.item-card').dispatchEvent('tap')
  await settle(2)
  expect(fake.log.navigations).toEqual([])
})

test('no card renders nothing', () => {
  const comp = render('components/item-card', {})
  expect(comp.querySelector('.item-card')).toBeFalsy()
})
