// Maps POST /api/v1/counter/verify onto the counter page: the certificate and the hand-over choices, or the verdict
// on a certificate the server refuses.
const { CERTIFICATE_STATUS, HANDOVER_ITEMS } = require('../contract')
const i18n = require('../../i18n/index')
const errors = require('../errors')
const { certificateView, handoverWords } = require('./certificate')
const { studentRows, itemCard } = require('./clearance')

function handoverOptions(cert, selected) {
  const done = new Set((cert.handedOver || []).map((r) => r.item))
  const chosen = new Set(selected || [])
  return HANDOVER_ITEMS.map((item) => ({
    item,
    label: handoverWords(item),
    done: done.has(item),
    checked: !done.has(item) && chosen.has(item),
  }))
}

function verifyView(result) {
  const cert = certificateView(result.certificate)
  // The server refuses a revoked certificate (422, see refusalView); should an answer still say revoked, nothing
  // may be handed over against it.
  const revoked = cert.status === CERTIFICATE_STATUS.REVOKED
  const options = handoverOptions(cert, [])
  return {
    certificate: cert,
    studentRows: studentRows(result.student),
    items: (result.items || []).map(itemCard),
    options,
    canHandover: !revoked && options.some((o) => !o.done),
    revoked,
  }
}

// The verdict on a refused scan, as the web counter gives it (server/templates/counter.html): replaced (amber, the
// serial to ask for instead), revoked (red, why), unknown or invalid (red, the server's why). Null for an answer
// that says nothing about the certificate (no permission, too many scans, no network): that is an error.
function refusalView(err) {
  if (!err || !err.code) return null
  const envelope = err.envelope || {}
  if (err.code === 'CERTIFICATE_REVOKED') {
    const cert = envelope.certificate || {}
    const reason = cert.revoked_reason || envelope.revoked_reason
    const serialLine = cert.serial ? [i18n.t('counter.serial', { serial: cert.serial })] : []
    const reasonLine = reason ? i18n.t('certificate.revoked_reason', { reason }) : ''
    if (cert.replaced_by) {
      return {
        tone: 'replaced',
        state: i18n.t('counter.verdict.replaced'),
        who: i18n.t('counter.replaced_by', { serial: cert.replaced_by }),
        details: serialLine.concat(reasonLine ? [reasonLine] : []),
      }
    }
    return { tone: 'revoked', state: i18n.t('counter.verdict.revoked'), who: reasonLine || errors.messageOf(err),
      details: serialLine }
  }
  if (err.code === 'CERTIFICATE_INVALID' || err.code === 'CERTIFICATE_NOT_FOUND') {
    const state = i18n.t(err.code === 'CERTIFICATE_INVALID' ? 'counter.verdict.invalid' : 'counter.verdict.unknown')
    return { tone: 'invalid', state, who: errors.messageOf(err), details: [] }
  }
  return null
}

module.exports = { verifyView, handoverOptions, refusalView }
