// Maps notifications and subscribe-message templates.
const i18n = require('../../i18n/index')
const { formatTime } = require('../format')

function notificationView(n) {
  let pushText = i18n.t('notifications.pushed')
  if (!n.pushed) {
    const key = 'notifications.not_pushed.' + (n.not_pushed_reason || 'pending')
    pushText = i18n.has(key) ? i18n.t(key) : i18n.t('notifications.not_pushed.pending')
  }
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
