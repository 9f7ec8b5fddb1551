// Which environment the mini-program runs in and the settings that go with it.
const ENVIRONMENTS = require('../config/index')

const DEV_OPENID_KEY = 'lixiao.dev_openid'

function envVersion() {
  try {
    const info = wx.getAccountInfoSync()
    const version = info && info.miniProgram && info.miniProgram.envVersion
    return ENVIRONMENTS[version] ? version : 'develop'
  } catch (e) {
    return 'develop'
  }
}

function current() {
  const version = envVersion()
  const settings = Object.assign({ envVersion: version }, ENVIRONMENTS[version])
  if (version === 'develop') {
    const override = wx.getStorageSync(DEV_OPENID_KEY)
    if (override) settings.devOpenid = override
  }
  return settings
}

function apiBase() {
  return current().apiBase
}

// The graduate school's help line for this environment ('' when none is configured).
function helpPhone() {
  return current().helpPhone || ''
}

function setDevOpenid(openid) {
  wx.setStorageSync(DEV_OPENID_KEY, openid || '')
}

module.exports = { envVersion, current, apiBase, helpPhone, setDevOpenid }
