// Asking for subscribe-message consent: must run straight from a tap, with template ids already loaded.
const MAX_TEMPLATES_PER_CALL = 3 // the documented limit is 3 or 5 depending on the page; 3 is safe

function requestSubscribe(templates) {
  const chosen = templates.slice(0, MAX_TEMPLATES_PER_CALL)
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

module.exports = { requestSubscribe, MAX_TEMPLATES_PER_CALL }
