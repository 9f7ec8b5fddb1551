// Counter staff: verify a certificate QR code and record what was handed over.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// POST /api/v1/counter/verify {qr_text} → {certificate, student, items}
function verifyCertificate(qrText) {
  return request({
    path: ENDPOINTS.counterVerify.path,
    method: ENDPOINTS.counterVerify.method,
    data: { qr_text: qrText },
  })
}

// POST /api/v1/counter/handover {serial, items} → 200 (409 ALREADY_HANDED_OVER)
function recordHandover(serial, items) {
  return request({
    path: ENDPOINTS.counterHandover.path,
    method: ENDPOINTS.counterHandover.method,
    data: { serial, items },
  })
}

module.exports = { verifyCertificate, recordHandover }
