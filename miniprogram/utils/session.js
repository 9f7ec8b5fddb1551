// The app's login state: the server token and what the last login said about the user.
const TOKEN_KEY = 'lixiao.token'
const PROFILE_KEY = 'lixiao.profile'

function getToken() {
  return wx.getStorageSync(TOKEN_KEY) || ''
}

function getProfile() {
  const profile = wx.getStorageSync(PROFILE_KEY)
  return profile && typeof profile === 'object' ? profile : { bound: false, student: null, staff: null }
}

// Saves a POST /api/v1/auth/wx-login answer.
function save(login) {
  wx.setStorageSync(TOKEN_KEY, login.token)
  wx.setStorageSync(PROFILE_KEY, {
    bound: Boolean(login.bound),
    student: login.student || null,
    staff: login.staff || null,
  })
}

function clear() {
  wx.removeStorageSync(TOKEN_KEY)
  wx.removeStorageSync(PROFILE_KEY)
}

module.exports = { getToken, getProfile, save, clear }
