// The caller's own login on the server.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// DELETE /api/v1/me/session → 204: this token stops working at once. No re-login on a 401: a token the server no
// longer knows is ended already, and signing in only to end the new session would be a round trip for nothing.
function endSession() {
  return request({ path: ENDPOINTS.endSession.path, method: ENDPOINTS.endSession.method, relogin: false })
}

module.exports = { endSession }
