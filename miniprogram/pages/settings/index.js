// Language, unbinding, and (develop builds only) which emulator openid to sign in as.
const i18n = require('../../i18n/index')
const binding = require('../../services/binding')
const auth = require('../../utils/auth')
const env = require('../../utils/env')
const leave = require('../../utils/leave')
const session = require('../../utils/session')
const ui = require('../../utils/ui')

function languageOptions() {
  const current = i18n.preference()
  return i18n.PREFERENCES.map((value) => ({
    value,
    label: i18n.t('settings.lang_' + value),
    checked: value === current,
  }))
}

Component({
  data: { t: {}, languages: [], envVersion: '', devOpenid: '', busy: false },
  methods: {
    onLoad() {
      const settings = env.current()
      this.setData({
        t: i18n.dict(),
        languages: languageOptions(),
        envVersion: settings.envVersion,
        devOpenid: settings.envVersion === 'develop' ? settings.devOpenid || '' : '',
      })
      ui.setTitle('settings.title')
    },
    onLanguageChange(e) {
      i18n.setPreference(e.detail.value)
      // Every page built its texts for the old language; starting over rebuilds them.
      wx.reLaunch({ url: auth.landingPage(session.getProfile()) })
    },
    async unbind() {
      const ok = await ui.confirm(i18n.t('settings.unbind_confirm_title'), i18n.t('settings.unbind_confirm'))
      if (!ok) return
      this.setData({ busy: true })
      try {
        await binding.unbind()
        ui.toast(i18n.t('settings.unbound'), 'success')
        // Unbinding ended every session of this WeChat user; signing in again leads to the binding page.
        await leave.logOut({ signInAgain: true, endSession: false })
      } catch (err) {
        this.setData({ busy: false })
        ui.showError(err)
      }
    },
    openPrivacy() {
      wx.navigateTo({ url: '/pages/privacy/index' })
    },
    onDevOpenidInput(e) {
      this.setData({ devOpenid: e.detail.value })
    },
    saveDevOpenid() {
      env.setDevOpenid(this.data.devOpenid.trim())
      return leave.logOut({ signInAgain: true })
    },
  },
})
