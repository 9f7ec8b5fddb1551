// The mini-program privacy rules WeChat enforces since 2023-10-17 (用户隐私保护指引).
//
// DECLARED lists every privacy-scoped interface the code calls: the operator declares the same ones in the
// MP console's 用户隐私保护指引 (docs/OPERATIONS.md §4), test/privacy.test.js fails when the code calls one that
// is not listed here, and the privacy page (pages/privacy) shows this list to the student.
//
// Until the user has agreed to the guide, WeChat holds such a call and asks us (wx.onNeedPrivacyAuthorization)
// to show a prompt with a button of open-type "agreePrivacyAuthorization"; the call goes on if the user agrees
// and fails if not. components/privacy-popup is that prompt: each page that calls a privacy-scoped interface
// includes one, and the newest attached one shows the request.
const DECLARED = {
  setClipboardData: { scope: 'clipboard', guide: '剪切板', guideEn: 'Clipboard' },
  scanCode: { scope: 'camera', guide: '摄像头', guideEn: 'Camera' },
}

const AGREE_BUTTON_ID = 'privacy-agree'

const popups = [] // attached privacy-popup components' show functions, newest last
let pending = null // the resolve function WeChat gave us for the call it holds
let installed = false

function ask(resolve, eventInfo) {
  if (pending) pending({ event: 'disagree' }) // a prompt nobody answered gives way to the newer one
  pending = resolve
  const show = popups[popups.length - 1]
  if (show) show((eventInfo && eventInfo.referrer) || '')
  else settle('disagree') // no page can ask: the call fails and the page's fail handler says so
}

// Registers the listener once (app.js at launch; every popup too, so pages under test need no App()).
function install() {
  if (installed || typeof wx.onNeedPrivacyAuthorization !== 'function') return
  wx.onNeedPrivacyAuthorization(ask)
  installed = true
}

function settle(event) {
  const resolve = pending
  pending = null
  if (!resolve) return
  resolve(event === 'agree' ? { event: 'agree', buttonId: AGREE_BUTTON_ID } : { event: 'disagree' })
}

function attach(show) {
  install()
  popups.push(show)
  return () => {
    const at = popups.indexOf(show)
    if (at >= 0) popups.splice(at, 1)
  }
}

function openContract() {
  if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({})
}

// errMsg of a call refused because the user did not agree to the privacy guide (or never could be asked).
function isPrivacyRefusal(err) {
  const msg = (err && err.errMsg) || ''
  return /privacy|scope is not declared|auth den(y|ied)/i.test(msg)
}

function isCancel(err) {
  return /cancel/i.test((err && err.errMsg) || '')
}

module.exports = {
  DECLARED,
  AGREE_BUTTON_ID,
  install,
  attach,
  agree: () => settle('agree'),
  disagree: () => settle('disagree'),
  openContract,
  isPrivacyRefusal,
  isCancel,
}
