// One wx.requestSubscribeMessage call never mixes one-time and long-term templates (WeChat errCode 20002).
const { pickBatch, requestSubscribe } = require('../utils/subscribe')

const tpl = (key, longTerm, remaining = 0) => ({ key, templateId: `TPL-${key}`, longTerm, remaining })

test('long-term templates not yet allowed are asked for alone', () => {
  const templates = [tpl('item', false), tpl('all', true), tpl('cert', false), tpl('remind', true, 1)]
  expect(pickBatch(templates).map((t) => t.key)).toEqual(['all'])
})

test('once the long-term ones are allowed, only one-time templates are asked for', () => {
  const templates = [tpl('item', false), tpl('all', true, 1), tpl('cert', false), tpl('remind', false)]
  expect(pickBatch(templates).map((t) => t.key)).toEqual(['item', 'cert', 'remind'])
})

test('without long-term templates nothing changes', () => {
  expect(pickBatch([tpl('a', false), tpl('b', false)]).map((t) => t.key)).toEqual(['a', 'b'])
})

test('the request carries one kind only', async () => {
  const asked = []
  global.wx = {
    requestSubscribeMessage: (o) => {
      asked.push(o.tmplIds)
      o.success({ errMsg: 'requestSubscribeMessage:ok', 'TPL-all': 'accept' })
    },
  }
  const accepted = await requestSubscribe([tpl('item', false), tpl('all', true)])
  expect(asked).toEqual([['TPL-all']])
  expect(accepted).toEqual(['all'])
})
