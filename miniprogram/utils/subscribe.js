// Asking for subscribe-message consent: must run straight from a tap, with template ids already loaded.
// WeChat asks about at most 3 templates per wx.requestSubscribeMessage call, so the templates come in groups of
// 3, each with its own button: every template the server pushes can be allowed from some tap.
const MAX_TEMPLATES_PER_CALL = 3

function groupTemplates(templates) {
  const groups = []
  for (let i = 0; i < templates.length; i += MAX_TEMPLATES_PER_CALL) {
    groups.push({ index: groups.length, templates: templates.slice(i, i + MAX_TEMPLATES_PER_CALL) })
  }
  return groups
}

// One call never mixes one-time and long-term (长期) templates: WeChat refuses that with errCode 20002.
// Long-term templates not yet allowed come first (one consent lasts); otherwise the one-time ones.
function pickBatch(templates) {
  const longTerm = templates.filter((tpl) => tpl.longTerm)
  const oneTime = templates.filter((tpl) => !tpl.longTerm)
  const longTermToAsk = longTerm.filter((tpl) => !tpl.remaining)
  const batch = longTermToAsk.length ? longTermToAsk : oneTime.length ? oneTime : longTerm
  return batch.slice(0, MAX_TEMPLATES_PER_CALL)
}

function requestSubscribe(templates) {
  const chosen = pickBatch(templates)
  return new Promise((resolve, reject) => {
    wx.requestSubscribeMessage({
      tmplIds: chosen.map((tpl) => tpl.templateId),
      success: (res) => {
        const accepted = chosen
          .filter((tpl) => res[tpl.templateId] === 'accept' || res[tpl.templateId] === 'acceptWithAudio')
          .map((tpl) => tpl.key)
        resolve(accepted)
      },
      fail: reject,
    })
  })
}

module.exports = { requestSubscribe, pickBatch, groupTemplates, MAX_TEMPLATES_PER_CALL }
