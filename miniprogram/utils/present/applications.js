// Maps GET /api/v1/me/applications (completed items) and a freshly submitted APPLICATION.
const { formatTime } = require('../format')
const { statusView, itemTitle } = require('./status')
const { certificateStatusView } = require('./certificate')

function applicationView(app) {
  return {
    id: app.id,
    batchName: app.batch_name || '',
    submittedText: formatTime(app.submitted_at),
    items: (app.items || []).map((it) =>
      Object.assign(statusView(it.status, it), { key: it.key, title: itemTitle(it) }),
    ),
    certificate: app.certificate
      ? Object.assign(certificateStatusView(app.certificate), { serial: app.certificate.serial })
      : null,
  }
}

module.exports = { applicationView }
