// Small wrappers over wx UI calls that pages share.
const i18n = require('../i18n/index')
const errors = require('./errors')

function setTitle(key) {
  wx.setNavigationBarTitle({ title: i18n.t(key) })
}

function toast(title, icon) {
  wx.showToast({ title, icon: icon || 'none', duration: 2000 })
}

function alert(content, title) {
  return new Promise((resolve) => {
    wx.showModal({
      title: title || '',
      content,
      showCancel: false,
      confirmText: i18n.t('common.confirm'),
      complete: () => resolve(),
    })
  })
}

// Resolves true when the user confirms.
function confirm(title, content) {
  return new Promise((resolve) => {
    wx.showModal({
      title,
      content,
      confirmText: i18n.t('common.confirm'),
      cancelText: i18n.t('common.cancel'),
      success: (res) => resolve(Boolean(res && res.confirm)),
      fail: () => resolve(false),
    })
  })
}

function showError(err) {
  return alert(errors.messageOf(err))
}

// A NOT_BOUND answer anywhere sends the user to the binding page; returns true if it did.
function redirectIfUnbound(err) {
  if (err && err.code === 'NOT_BOUND') {
    wx.reLaunch({ url: '/pages/bind/index' })
    return true
  }
  return false
}

function errorView(err) {
  return { code: (err && err.code) || '', message: errors.messageOf(err) }
}

// wx.scanCode for QR codes from the camera only (no album: the certificate is shown, not sent); resolves with
// the decoded text, rejects with WeChat's error when cancelled or refused.
function scanQr() {
  return new Promise((resolve, reject) => {
    wx.scanCode({ scanType: ['qrCode'], onlyFromCamera: true, success: (res) => resolve(res.result), fail: reject })
  })
}

module.exports = { setTitle, toast, alert, confirm, showError, redirectIfUnbound, errorView, scanQr }
