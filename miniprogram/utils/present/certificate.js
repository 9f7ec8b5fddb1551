// Maps the certificate (student view and counter view) and its hand-over records.
const { CERTIFICATE_STATUS } = require('../contract')
const i18n = require('../../i18n/index')
const { formatTime } = require('../format')

const CLASSES = {
  [CERTIFICATE_STATUS.VALID]: 'passed',
  [CERTIFICATE_STATUS.REVOKED]: 'not-passed',
  [CERTIFICATE_STATUS.HANDED_OVER]: 'handed-over',
}

// Hand-over records arrive as [{item, by, at}]; an object form ({item: {by, at}} or {items, by, at}) is accepted too.
function handoverRecords(handedOver) {
  if (!handedOver) return []
  let records
  if (Array.isArray(handedOver)) {
    records = handedOver
  } else if (Array.isArray(handedOver.items)) {
    records = handedOver.items.map((item) => ({ item, by: handedOver.by, at: handedOver.at }))
  } else {
    records = Object.keys(handedOver).map((item) => Object.assign({ item }, handedOver[item]))
  }
  return records.map((r) => ({
    item: r.item,
    label: i18n.has('handover.' + r.item) ? i18n.t('handover.' + r.item) : r.item,
    text: i18n.t('counter.handed_over_by', { by: r.by || '', time: formatTime(r.at) }),
  }))
}

function certificateStatusView(cert) {
  const status = cert.status
  const known = Object.prototype.hasOwnProperty.call(CLASSES, status)
  return {
    status,
    cls: known ? CLASSES[status] : 'not-passed',
    label: known ? i18n.t('certificate.' + status) : i18n.t('counter.unknown'),
    revokedText:
      status === CERTIFICATE_STATUS.REVOKED && cert.revoked_reason
        ? i18n.t('certificate.revoked_reason', { reason: cert.revoked_reason })
        : '',
  }
}

function certificateView(cert) {
  if (!cert) return null
  return Object.assign(certificateStatusView(cert), {
    serial: cert.serial,
    issuedText: formatTime(cert.issued_at),
    qrText: cert.qr_text || '',
    verifyUrl: cert.verify_url || '',
    handedOver: handoverRecords(cert.handed_over),
    qrFailedText: i18n.t('certificate.qr_failed', { serial: cert.serial }),
  })
}

module.exports = { certificateView, certificateStatusView, handoverRecords }
