// The clearance certificate: its status, the QR code drawn from qr_text, and how to print it on a PC.
const i18n = require('../../i18n/index')
const certificate = require('../../services/certificate')
const leave = require('../../utils/leave')
const { loadInto } = require('../../utils/page')
const { certificateView } = require('../../utils/present/certificate')
const privacy = require('../../utils/privacy')
const ui = require('../../utils/ui')

const NO_CERTIFICATE = ['CERTIFICATE_NOT_FOUND', 'NOT_FOUND']

Component({
  data: { t: {}, loading: true, error: null, view: null, qrFailed: false },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict() })
      ui.setTitle('certificate.title')
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    load() {
      return loadInto(this, certificate.fetchCertificate, certificateView, {
        onError: (err) => (NO_CERTIFICATE.includes(err.code) ? null : undefined),
      })
    },
    callHelp() {
      if (this.data.view && this.data.view.helpPhone) wx.makePhoneCall({ phoneNumber: this.data.view.helpPhone })
    },
    goHome() {
      leave.goHome()
    },
    onQrError() {
      this.setData({ qrFailed: true })
    },
    copyLink() {
      // WeChat confirms a copy itself; a refusal (privacy guide not agreed, or not declared) must be visible.
      wx.setClipboardData({
        data: this.data.view.verifyUrl,
        fail: (err) => ui.toast(i18n.t(privacy.isPrivacyRefusal(err) ? 'privacy.clipboard_failed' : 'privacy.copy_failed')),
      })
    },
  },
})
