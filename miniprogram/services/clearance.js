// Student clearance endpoints.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// GET /api/v1/me/clearance → {student, batch, items, can_submit, submit_blockers, application}
function fetchClearance() {
  return request({ path: ENDPOINTS.clearance.path, method: ENDPOINTS.clearance.method })
}

// POST ITEM.actions[].path (e.g. /api/v1/me/library-card/cancel) → 200 with the ITEM after the action
function runAction(action) {
  return request({ path: action.path, method: 'POST' })
}

module.exports = { fetchClearance, runAction }
