// Pages are built with Component() (WeChat supports it) so that miniprogram-simulate can test them;
// all shared state lives in plain modules under utils/, not in getApp().
const privacy = require('./utils/privacy')

App({
  onLaunch() {
    privacy.install() // before any page can call a privacy-scoped interface
  },
})
