// Signing in (wx.login → /api/v1/auth/wx-login) and deciding where a signed-in user lands.
const { ENDPOINTS, STAFF_ROLES } = require('./contract')
const env = require('./env')
const session = require('./session')
const { request } = require('./request')

function wxLoginCode() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res && res.code ? resolve(res.code) : reject(new Error('wx.login returned no code'))),
      fail: reject,
    })
  })
}

// In develop the WeChat emulator of `make demo` mints the code for a chosen openid.
async function loginCode() {
  const settings = env.current()
  if (settings.envVersion === 'develop' && settings.devOpenid && settings.emulatorBase) {
    const minted = await request({
      url: settings.emulatorBase + '/_control/wx/code',
      method: 'POST',
      data: { openid: settings.devOpenid },
      auth: false,
    })
    return minted.code
  }
  return wxLoginCode()
}

// Signs in and stores the token; resolves with the server's {token, bound, student?, staff?}.
async function login() {
  const code = await loginCode()
  const result = await request({
    path: ENDPOINTS.wxLogin.path,
    method: ENDPOINTS.wxLogin.method,
    data: { code },
    auth: false,
  })
  session.save(result)
  return result
}

function isStaff(profile) {
  return Boolean(profile && profile.staff && STAFF_ROLES.includes(profile.staff.role))
}

// The page a freshly signed-in user should see.
function landingPage(profile) {
  if (!profile || !profile.bound) return '/pages/bind/index'
  if (!profile.student && isStaff(profile)) return '/pages/counter/index'
  return '/pages/home/index'
}

module.exports = { login, isStaff, landingPage }
