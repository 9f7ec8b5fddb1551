// The WeChat ↔ unified-auth binding.
const { ENDPOINTS, BIND_PAGE_PATH } = require('../utils/contract')
const env = require('../utils/env')
const session = require('../utils/session')
const { request } = require('../utils/request')

// The page (opened in a web-view) that sends the student through CAS and binds the account.
function bindPageUrl() {
  return env.apiBase() + BIND_PAGE_PATH + '?token=' + encodeURIComponent(session.getToken())
}

// DELETE /api/v1/me/binding → 204
function unbind() {
  return request({ path: ENDPOINTS.unbind.path, method: ENDPOINTS.unbind.method })
}

module.exports = { bindPageUrl, unbind }
