// Counter staff: scan a certificate, see the student's clearance, record what was handed over.
const i18n = require('../../i18n/index')
const counter = require('../../services/counter')
const auth = require('../../utils/auth')
const leave = require('../../utils/leave')
const privacy = require('../../utils/privacy')
const session = require('../../utils/session')
const { verifyView, handoverOptions, refusalView, listWords } = require('../../utils/present/counter')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, allowed: false, busy: false, verdict: null, view: null, manual: '' },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict(), allowed: auth.isStaff(session.getProfile()) })
      ui.setTitle('counter.title')
    },
    async scan() {
      let text
      try {
        text = await ui.scanQr()
      } catch (err) {
        // Closing the scanner is no error; a refusal (privacy guide, camera permission) must be visible.
        if (!privacy.isCancel(err)) ui.toast(i18n.t('privacy.camera_failed'))
        return
      }
      await this.verify(text)
    },
    onManualInput(e) {
      this.setData({ manual: e.detail.value })
    },
    verifyManual() {
      const text = this.data.manual.trim()
      if (text) return this.verify(text)
      return null
    },
    async verify(qrText) {
      this.qrText = qrText
      this.setData({ busy: true, verdict: null, view: null })
      try {
        const view = verifyView(await counter.verifyCertificate(qrText))
        this.setData({ busy: false, view, verdict: view.verdict })
      } catch (err) {
        this.setData({ busy: false })
        if (ui.redirectIfUnbound(err)) return
        this.setData({ verdict: refusalView(err) })
      }
    },
    onOptionsChange(e) {
      this.setData({ 'view.options': handoverOptions(this.data.view.certificate, e.detail.value) })
    },
    async recordHandover() {
      const chosen = this.data.view.options.filter((o) => o.checked)
      if (!chosen.length) {
        ui.toast(i18n.t('counter.none_selected'))
        return
      }
      const names = listWords(chosen.map((o) => o.label))
      if (!(await ui.confirm(i18n.t('counter.record'), i18n.t('counter.record_confirm', { items: names })))) return
      this.setData({ busy: true })
      try {
        await counter.recordHandover(this.data.view.certificate.serial, chosen.map((o) => o.item))
        ui.toast(i18n.t('counter.recorded'), 'success')
      } catch (err) {
        await ui.alert(ui.errorView(err).message)
      }
      // Either way the server's record is the truth: show it again.
      await this.verify(this.qrText)
    },
    goHome() {
      leave.goHome()
    },
    openSettings() {
      leave.openSettings()
    },
    logOut() {
      return leave.logOut()
    },
  },
})
