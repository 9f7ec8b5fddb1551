// Maps notifications and subscribe-message templates.
const i18n = require('../../i18n/index')
const { formatTime } = require('../format')
const { DELIVERY_LABELS, word } = require('../vocabulary')

// As the web's notifications page says it; a reason the app does not know reads as the web reads it: not delivered.
function deliveryText(n) {
  if (n.pushed) return word(DELIVERY_LABELS, 'null')
  return word(DELIVERY_LABELS, n.not_pushed_reason || 'pending') || word(DELIVERY_LABELS, 'platform_refused')
}

function notificationView(n) {
  const pushText = deliveryText(n)
  return {
    id: n.id,
    event: n.event,
    title: i18n.pick(n, 'title'),
    body: i18n.pick(n, 'body'),
    time: formatTime(n.created_at),
    pushed: Boolean(n.pushed),
    pushText,
    page: n.page || '',
  }
}

function templateView(tpl) {
  return {
    key: tpl.key,
    templateId: tpl.template_id,
    title: i18n.pick(tpl, 'title'),
    purpose: i18n.pick(tpl, 'purpose') || '',
    remaining: tpl.remaining,
    longTerm: Boolean(tpl.long_term),
    remainingText: i18n.t('subscribe.remaining', { count: tpl.remaining }),
  }
}

module.exports = { notificationView, templateView }
