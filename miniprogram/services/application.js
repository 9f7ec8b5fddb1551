// Submitting the departure application and listing completed ones.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// POST /api/v1/me/application {confirm: true} → 201 APPLICATION
// (409 ALREADY_SUBMITTED, 422 ITEMS_NOT_PASSED, 403 BATCH_CLOSED / NO_OPEN_BATCH)
function submitApplication() {
  return request({
    path: ENDPOINTS.submitApplication.path,
    method: ENDPOINTS.submitApplication.method,
    data: { confirm: true },
  })
}

// GET /api/v1/me/applications → {applications: [APPLICATION]} (a bare list or {items} is accepted too)
async function fetchApplications() {
  const body = await request({ path: ENDPOINTS.applications.path, method: ENDPOINTS.applications.method })
  if (Array.isArray(body)) return body
  return (body && (body.applications || body.items)) || []
}

module.exports = { submitApplication, fetchApplications }
