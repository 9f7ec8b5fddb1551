// Submitting the departure application once, after a confirmation; or saying why it cannot be done.
const i18n = require('../../i18n/index')
const application = require('../../services/application')
const clearance = require('../../services/clearance')
const { loadInto } = require('../../utils/page')
const { clearanceView } = require('../../utils/present/clearance')
const { submittedView, submitErrorText } = require('../../utils/present/submit')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, loading: true, error: null, view: null, done: null, busy: false },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict() })
      ui.setTitle('submit.title')
      return this.load()
    },
    load() {
      return loadInto(this, clearance.fetchClearance, clearanceView)
    },
    async submit() {
      const ok = await ui.confirm(i18n.t('submit.confirm_title'), i18n.t('submit.confirm_body'))
      if (!ok) return
      this.setData({ busy: true })
      try {
        const created = await application.submitApplication()
        this.setData({ busy: false, done: submittedView(created) })
      } catch (err) {
        this.setData({ busy: false })
        if (ui.redirectIfUnbound(err)) return
        await ui.alert(submitErrorText(err))
        await this.load()
      }
    },
    goCertificate() {
      wx.redirectTo({ url: '/pages/certificate/index' })
    },
  },
})
