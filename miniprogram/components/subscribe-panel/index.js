// Lets the student allow WeChat subscribe messages; the templates load first so the tap can ask at once.
const i18n = require('../../i18n/index')
const notifications = require('../../services/notifications')
const { templateView } = require('../../utils/present/notifications')
const { requestSubscribe } = require('../../utils/subscribe')
const errors = require('../../utils/errors')

Component({
  options: { styleIsolation: 'apply-shared' },
  data: { t: {}, loading: true, templates: [], message: '' },
  lifetimes: {
    attached() {
      this.setData({ t: i18n.dict() })
      this.load()
    },
  },
  methods: {
    async load() {
      try {
        const templates = await notifications.fetchSubscriptions()
        this.setData({ loading: false, templates: templates.map(templateView) })
      } catch (err) {
        this.setData({ loading: false, message: errors.messageOf(err) })
      }
    },
    // wx.requestSubscribeMessage only works straight from a tap, so it is the first thing called here.
    async onSubscribe() {
      let accepted
      try {
        accepted = await requestSubscribe(this.data.templates)
      } catch (err) {
        this.setData({ message: i18n.t('subscribe.failed') })
        return
      }
      if (!accepted.length) {
        this.setData({ message: i18n.t('subscribe.rejected') })
        return
      }
      try {
        const templates = await notifications.acceptSubscriptions(accepted)
        this.setData({
          templates: templates.map(templateView),
          message: i18n.t('subscribe.done', { count: accepted.length }),
        })
        this.triggerEvent('change', { accepted })
      } catch (err) {
        this.setData({ message: errors.messageOf(err) })
      }
    },
  },
})
