// Completed items: every submitted application with its item snapshot and certificate.
const i18n = require('../../i18n/index')
const application = require('../../services/application')
const { loadInto } = require('../../utils/page')
const { applicationView } = require('../../utils/present/applications')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, loading: true, error: null, list: null },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict() })
      ui.setTitle('applications.title')
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    load() {
      return loadInto(this, application.fetchApplications, (list) => list.map(applicationView), { key: 'list' })
    },
    goCertificate() {
      wx.navigateTo({ url: '/pages/certificate/index' })
    },
  },
})
