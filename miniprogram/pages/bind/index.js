// Explains the binding, opens the CAS sign-in web-view, and re-checks the binding on return.
const i18n = require('../../i18n/index')
const auth = require('../../utils/auth')
const errors = require('../../utils/errors')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, busy: false, message: '' },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict() })
      ui.setTitle('bind.title')
    },
    onShow() {
      if (this.openedSignIn) this.recheck()
    },
    // A fresh token first: the web-view page binds whatever account the token belongs to.
    async openSignIn() {
      this.setData({ busy: true, message: '' })
      try {
        const profile = await auth.login()
        this.setData({ busy: false })
        if (profile.bound) {
          wx.reLaunch({ url: auth.landingPage(profile) })
          return
        }
        this.openedSignIn = true
        wx.navigateTo({ url: '/pages/bind-cas/index' })
      } catch (err) {
        this.setData({ busy: false, message: errors.messageOf(err) })
      }
    },
    openPrivacy() {
      wx.navigateTo({ url: '/pages/privacy/index' })
    },
    async recheck() {
      this.openedSignIn = false
      this.setData({ busy: true, message: i18n.t('bind.checking') })
      try {
        const profile = await auth.login()
        if (profile.bound) {
          wx.reLaunch({ url: auth.landingPage(profile) })
          return
        }
        this.setData({ busy: false, message: i18n.t('bind.still_unbound') })
      } catch (err) {
        this.setData({ busy: false, message: errors.messageOf(err) })
      }
    },
  },
})
