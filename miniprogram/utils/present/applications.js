// Maps GET /api/v1/me/applications (completed items) and a freshly submitted APPLICATION.
const i18n = require('../../i18n/index')
const { formatTime } = require('../format')
const { statusView } = require('./status')
const { certificateStatusView } = require('./certificate')

function applicationView(app) {
  return {
    id: app.id,
    batchName: app.batch_name || '',
    submittedText: formatTime(app.submitted_at),
    items: (app.items || []).map((it) =>
      Object.assign(statusView(it.status), { key: it.key, title: i18n.t('items.' + it.key) }),
    ),
    certificate: app.certificate
      ? Object.assign(certificateStatusView(app.certificate), { serial: app.certificate.serial })
      : null,
  }
}

module.exports = { applicationView }
