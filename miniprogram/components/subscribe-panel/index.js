// Lets the student allow WeChat subscribe messages; the templates load first so the tap can ask at once.
const i18n = require('../../i18n/index')
const notifications = require('../../services/notifications')
const { templateView } = require('../../utils/present/notifications')
const { requestSubscribe, groupTemplates } = require('../../utils/subscribe')
const errors = require('../../utils/errors')

Component({
  options: { styleIsolation: 'apply-shared' },
  data: { t: {}, loading: true, templates: [], groups: [], message: '' },
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
        this.show(templates, { loading: false })
      } catch (err) {
        this.setData({ loading: false, message: errors.messageOf(err) })
      }
    },
    show(templates, extra) {
      const views = templates.map(templateView)
      this.setData(Object.assign({ templates: views, groups: groupTemplates(views) }, extra))
    },
    // wx.requestSubscribeMessage only works straight from a tap, so it is the first thing called here.
    // Each button asks for its own group of at most 3 templates (data-group).
    async onSubscribe(event) {
      const index = Number((event && event.currentTarget && event.currentTarget.dataset.group) || 0)
      const group = this.data.groups[index] || { templates: [] }
      let accepted
      try {
        accepted = await requestSubscribe(group.templates)
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
        this.show(templates, { message: i18n.t('subscribe.done', { count: accepted.length }) })
        this.triggerEvent('change', { accepted })
      } catch (err) {
        this.setData({ message: errors.messageOf(err) })
      }
    },
  },
})
