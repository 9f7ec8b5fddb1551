// Maps the certificate (student view and counter view) and its hand-over records.
const { CERTIFICATE_STATUS } = require('../contract')
const i18n = require('../../i18n/index')
const { formatTime } = require('../format')
const env = require('../env')
const { CERTIFICATE_STATUS_LABELS, HANDOVER_LABELS, word } = require('../vocabulary')

const CLASSES = {
  [CERTIFICATE_STATUS.VALID]: 'passed',
  [CERTIFICATE_STATUS.REVOKED]: 'not-passed',
  [CERTIFICATE_STATUS.HANDED_OVER]: 'handed-over',
}

// The server names each hand-over (title, title_en); its vocabulary is for an answer without them.
function handoverWords(item) {
  return word(HANDOVER_LABELS, item) || i18n.t('certificate.handover_other')
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
    label: i18n.pick(r, 'title') || handoverWords(r.item),
    text: i18n.t('counter.handed_over_by', { by: r.by || '', time: formatTime(r.at) }),
  }))
}

function certificateStatusView(cert) {
  const status = cert.status
  const known = Object.prototype.hasOwnProperty.call(CLASSES, status)
  return {
    status,
    cls: known ? CLASSES[status] : 'not-passed',
    label: word(CERTIFICATE_STATUS_LABELS, known ? status : 'unknown'),
    revokedText:
      status === CERTIFICATE_STATUS.REVOKED && cert.revoked_reason
        ? i18n.t('certificate.revoked_reason', { reason: cert.revoked_reason })
        : '',
  }
}

// A revoked certificate is no pass: no QR code and no link to print it, but why and what to do (as /me/certificate).
function certificateView(cert) {
  if (!cert) return null
  const revoked = cert.status === CERTIFICATE_STATUS.REVOKED
  const helpPhone = revoked ? env.helpPhone() : ''
  return Object.assign(certificateStatusView(cert), {
    revoked,
    serial: cert.serial,
    issuedText: formatTime(cert.issued_at),
    qrText: revoked ? '' : cert.qr_text || '',
    verifyUrl: revoked ? '' : cert.verify_url || '',
    handedOver: handoverRecords(cert.handed_over),
    qrFailedText: i18n.t('certificate.qr_failed', { serial: cert.serial }),
    helpPhone,
    helpText: helpPhone ? i18n.t('certificate.help_phone', { phone: helpPhone }) : '',
  })
}

module.exports = { certificateView, certificateStatusView, handoverRecords, handoverWords }
