// Maps POST /api/v1/counter/verify onto the counter page, including the hand-over choices.
const { CERTIFICATE_STATUS, HANDOVER_ITEMS } = require('../contract')
const i18n = require('../../i18n/index')
const { certificateView } = require('./certificate')
const { studentRows, itemCard } = require('./clearance')

function handoverOptions(cert, selected) {
  const done = new Set((cert.handedOver || []).map((r) => r.item))
  const chosen = new Set(selected || [])
  return HANDOVER_ITEMS.map((item) => ({
    item,
    label: i18n.t('handover.' + item),
    done: done.has(item),
    checked: !done.has(item) && chosen.has(item),
  }))
}

function verifyView(result) {
  const cert = certificateView(result.certificate)
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

module.exports = { verifyView, handoverOptions }
