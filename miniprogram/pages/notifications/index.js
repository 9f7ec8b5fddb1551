// Everything the service pushed or tried to push, and the prompt that allows WeChat notifications.
const i18n = require('../../i18n/index')
const notifications = require('../../services/notifications')
const { loadInto } = require('../../utils/page')
const { notificationView } = require('../../utils/present/notifications')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, loading: true, error: null, list: null },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict() })
      ui.setTitle('notifications.title')
      return this.load()
    },
    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },
    // A notification opens the page it talks about (the same page its subscribe message opens).
    open(event) {
      const page = event.currentTarget.dataset.page
      if (page) wx.navigateTo({ url: '/' + page })
    },
    load() {
      return loadInto(this, notifications.fetchNotifications, (list) => list.map(notificationView), { key: 'list' })
    },
  },
})
