// The student's clearance certificate.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// GET /api/v1/me/certificate → {serial, status, revoked_reason?, handed_over?, qr_text, qr_svg, verify_url, issued_at}
function fetchCertificate() {
  return request({ path: ENDPOINTS.certificate.path, method: ENDPOINTS.certificate.method })
}

module.exports = { fetchCertificate }
