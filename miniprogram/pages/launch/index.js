// Signs in with wx.login and sends the user to binding, home or the counter page.
const i18n = require('../../i18n/index')
const auth = require('../../utils/auth')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, error: null },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict() })
      ui.setTitle('launch.title')
      this.signIn()
    },
    async signIn() {
      this.setData({ error: null })
      try {
        const profile = await auth.login()
        wx.reLaunch({ url: auth.landingPage(profile) })
      } catch (err) {
        this.setData({ error: ui.errorView(err) })
      }
    },
  },
})
