// The ways out of a page that several pages offer: home, settings, log out.
const auth = require('./auth')
const session = require('./session')
const sessionService = require('../services/session')

const LAUNCH = '/pages/launch/index'

// Home for whoever is signed in (auth.landingPage: the counter for staff who are no student). A home page under
// this one is gone back to, as it was; otherwise (this page was opened alone, from a notification or a share, or
// it is the home page itself) home is started anew.
function goHome() {
  const url = auth.landingPage(session.getProfile())
  const stack = typeof getCurrentPages === 'function' ? getCurrentPages() : []
  const below = stack.slice(0, -1).map((page) => '/' + page.route).lastIndexOf(url)
  if (below >= 0) wx.navigateBack({ delta: stack.length - 1 - below })
  else wx.reLaunch({ url })
}

function openSettings() {
  wx.navigateTo({ url: '/pages/settings/index' })
}

// Log out: end this token on the server, forget it here, and start over at the launch page, which waits for a tap
// (signing in at once would log straight back in as the same WeChat user). A token the server has ended already,
// or no network, still logs out here. signInAgain: sign in at once (after unbinding, or as another develop openid);
// endSession: false when the server ended the session itself (unbinding ends them all).
async function logOut(options) {
  const o = Object.assign({ signInAgain: false, endSession: true }, options)
  if (o.endSession && session.getToken()) {
    try {
      await sessionService.endSession()
    } catch (err) {
      // Ended already, or unreachable: this phone forgets the token either way.
    }
  }
  session.clear()
  wx.reLaunch({ url: o.signInAgain ? LAUNCH : LAUNCH + '?signedOut=1' })
}

module.exports = { goHome, openSettings, logOut }
