// One item in full: every field, why it has not passed, what to do, where to go and whom to call.
const i18n = require('../../i18n/index')
const clearance = require('../../services/clearance')
const { loadInto } = require('../../utils/page')
const { itemDetail, itemFromClearance, cancelFailureText } = require('../../utils/present/item')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, key: '', loading: true, error: null, view: null, busy: false },
  methods: {
    onLoad(query) {
      this.setData({ t: i18n.dict(), key: (query && query.key) || '' })
      ui.setTitle('item.title')
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    load() {
      return loadInto(this, clearance.fetchClearance, (data) => itemFromClearance(data, this.data.key))
    },
    call() {
      const dept = this.data.view && this.data.view.department
      if (dept && dept.phone) wx.makePhoneCall({ phoneNumber: dept.phone })
    },
    async cancelCard() {
      const ok = await ui.confirm(i18n.t('item.cancel_card_confirm_title'), i18n.t('item.cancel_card_confirm'))
      if (!ok) return
      this.setData({ busy: true })
      try {
        const item = await clearance.cancelLibraryCard()
        this.setData({ busy: false, view: itemDetail(item) })
        ui.toast(i18n.t('item.cancel_card_done'), 'success')
      } catch (err) {
        this.setData({ busy: false })
        if (ui.redirectIfUnbound(err)) return
        await ui.alert(cancelFailureText(err, this.data.view))
        await this.load()
      }
    },
  },
})
