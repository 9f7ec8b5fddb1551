// The one wx.request wrapper: base URL, token, language, status checks, one re-login on 401.
const env = require('./env')
const session = require('./session')
const i18n = require('../i18n/index')
const errors = require('./errors')

const TIMEOUT_MS = 15000

let pendingLogin = null

function send({ url, method, data, auth }) {
  const header = { 'Accept-Language': i18n.lang() === 'en' ? 'en' : 'zh-CN' }
  const token = session.getToken()
  if (auth && token) header.Authorization = 'Bearer ' + token
  return new Promise((resolve, reject) => {
    wx.request({
      url,
      method,
      data,
      header,
      timeout: TIMEOUT_MS,
      success: resolve,
      fail: (failure) => reject(errors.network(failure)),
    })
  })
}

// Concurrent 401s share one login, so one expired token costs one wx-login call.
function reloginOnce() {
  if (!pendingLogin) {
    // Required here, not at the top: auth.js itself calls request().
    const auth = require('./auth')
    pendingLogin = auth.login().then(
      (result) => {
        pendingLogin = null
        return result
      },
      (err) => {
        pendingLogin = null
        throw err
      },
    )
  }
  return pendingLogin
}

function isSuccess(statusCode) {
  return statusCode >= 200 && statusCode < 300
}

/**
 * request({path, method, data, auth, relogin}) → Promise of the response body (null for an empty body).
 * `path` is relative to the API base URL; `url` (absolute) may be given instead. relogin: false answers a 401 as
 * an error at once (ending a session: a token the server no longer knows is ended already).
 * Rejects with errors.ApiError: HTTP errors carry the server's code; no answer gives code NETWORK/TIMEOUT.
 */
async function request(options) {
  const call = {
    url: options.url || env.apiBase() + options.path,
    method: options.method || 'GET',
    data: options.data,
    auth: options.auth !== false,
  }
  let res = await send(call)
  if (res.statusCode === 401 && call.auth && options.relogin !== false) {
    await reloginOnce()
    res = await send(call)
  }
  if (isSuccess(res.statusCode)) {
    return res.data === '' || res.data === undefined ? null : res.data
  }
  throw errors.fromResponse(res)
}

module.exports = { request }
