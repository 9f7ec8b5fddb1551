// Texts for the submit page: the outcome of POST /api/v1/me/application.
const i18n = require('../../i18n/index')
const errors = require('../errors')
const { formatTime } = require('../format')

function submittedView(application) {
  return {
    id: application.id,
    batchName: application.batch_name || '',
    submittedText: i18n.t('submit.done_at', { time: formatTime(application.submitted_at) }),
    hasCertificate: Boolean(application.certificate),
  }
}

// ITEMS_NOT_PASSED lists the items (with their titles in item_titles); name them after the message.
function submitErrorText(err) {
  const message = errors.messageOf(err)
  const envelope = err && err.code === 'ITEMS_NOT_PASSED' && err.envelope
  const listed = envelope && (envelope.item_titles || envelope.items)
  if (!Array.isArray(listed) || !listed.length) return message
  const names = listed.map((it) => (typeof it === 'string' ? it : i18n.pick(it, 'title') || String(it && it.key)))
  return message + '\n' + i18n.t('submit.not_passed_items') + names.join(i18n.lang() === 'en' ? ', ' : '、')
}

module.exports = { submittedView, submitErrorText }
