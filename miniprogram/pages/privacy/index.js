// The privacy statement: what is kept, how long, who can see it, and the phone features used (utils/privacy.js).
const i18n = require('../../i18n/index')
const privacy = require('../../utils/privacy')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, apis: [] },
  methods: {
    onLoad() {
      const t = i18n.dict()
      const apis = Object.keys(privacy.DECLARED).map((name) => ({ name, text: t.privacy.apis[privacy.DECLARED[name].scope] }))
      this.setData({ t, apis })
      ui.setTitle('privacy.title')
    },
    openContract() {
      privacy.openContract()
    },
  },
})
