// Signs in with wx.login and sends the user to binding, home or the counter page; after logging out
// (?signedOut=1) it waits for a tap instead, or the same WeChat user would be signed straight back in.
const i18n = require('../../i18n/index')
const auth = require('../../utils/auth')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, error: null, signedOut: false },
  methods: {
    onLoad(query) {
      const signedOut = Boolean(query && query.signedOut)
      this.setData({ t: i18n.dict(), signedOut })
      ui.setTitle('launch.title')
      if (!signedOut) this.signIn()
    },
    async signIn() {
      this.setData({ error: null, signedOut: false })
      try {
        const profile = await auth.login()
        wx.reLaunch({ url: auth.landingPage(profile) })
      } catch (err) {
        this.setData({ error: ui.errorView(err) })
      }
    },
  },
})
