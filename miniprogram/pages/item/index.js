// One item in full: every row, why it has not passed, what to do, where to go, whom to call, and what the student
// can do about it (each action the ITEM offers: confirm, send, show the item as it is afterwards).
const i18n = require('../../i18n/index')
const clearance = require('../../services/clearance')
const { loadInto } = require('../../utils/page')
const { itemDetail, itemFromClearance, actionFailureText } = require('../../utils/present/item')
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
    onAction(e) {
      const key = e && e.currentTarget && e.currentTarget.dataset.key
      return this.act(key)
    },
    async act(key) {
      const action = ((this.data.view && this.data.view.actions) || []).find((a) => a.key === key)
      if (!action) return
      const ok = await ui.confirm(action.confirm, action.warning)
      if (!ok) return
      this.setData({ busy: true })
      try {
        const item = await clearance.runAction(action)
        this.setData({ busy: false, view: itemDetail(item) })
        ui.toast(action.done, 'success')
      } catch (err) {
        this.setData({ busy: false })
        if (ui.redirectIfUnbound(err)) return
        await ui.alert(actionFailureText(err, this.data.view))
        await this.load()
      }
    },
  },
})
