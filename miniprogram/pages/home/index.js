// Basic information, the items, and the way to submit or to the certificate.
const i18n = require('../../i18n/index')
const clearance = require('../../services/clearance')
const auth = require('../../utils/auth')
const session = require('../../utils/session')
const { loadInto } = require('../../utils/page')
const { clearanceView } = require('../../utils/present/clearance')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, loading: true, error: null, view: null, isStaff: false },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict(), isStaff: auth.isStaff(session.getProfile()) })
      ui.setTitle('home.title')
    },
    onShow() {
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    load() {
      return loadInto(this, clearance.fetchClearance, clearanceView)
    },
    goTo(e) {
      wx.navigateTo({ url: e.currentTarget.dataset.url })
    },
  },
})
