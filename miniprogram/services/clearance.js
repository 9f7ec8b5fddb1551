// Student clearance endpoints.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// GET /api/v1/me/clearance → {student, batch, items, can_submit, submit_blockers, application}
function fetchClearance() {
  return request({ path: ENDPOINTS.clearance.path, method: ENDPOINTS.clearance.method })
}

// POST /api/v1/me/library-card/cancel → 200 with the new library ITEM
function cancelLibraryCard() {
  return request({ path: ENDPOINTS.cancelLibraryCard.path, method: ENDPOINTS.cancelLibraryCard.method })
}

module.exports = { fetchClearance, cancelLibraryCard }
