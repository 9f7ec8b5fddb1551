// The prompt WeChat asks for before a privacy-scoped call (utils/privacy.js): what the call needs, the full guide,
// our privacy statement, and agree / disagree. Agreeing must be a tap on the button of open-type
// "agreePrivacyAuthorization"; WeChat then lets the held call go on.
const i18n = require('../../i18n/index')
const privacy = require('../../utils/privacy')

Component({
  options: { styleIsolation: 'apply-shared' },
  data: { t: {}, visible: false, agreeId: privacy.AGREE_BUTTON_ID },
  lifetimes: {
    attached() {
      this.setData({ t: i18n.dict() })
      this.detach = privacy.attach(() => this.setData({ visible: true }))
    },
    detached() {
      if (this.detach) this.detach()
    },
  },
  methods: {
    onAgree() {
      this.setData({ visible: false })
      privacy.agree()
    },
    onDisagree() {
      this.setData({ visible: false })
      privacy.disagree()
    },
    openContract() {
      privacy.openContract()
    },
    openStatement() {
      wx.navigateTo({ url: '/pages/privacy/index' })
    },
  },
})
