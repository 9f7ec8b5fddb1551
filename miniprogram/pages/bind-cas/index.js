// Hosts the server's /bind/cas page; that page sends the student back (navigateBack) when bound.
const i18n = require('../../i18n/index')
const binding = require('../../services/binding')
const ui = require('../../utils/ui')

Component({
  data: { t: {}, src: '' },
  methods: {
    onLoad() {
      this.setData({ t: i18n.dict(), src: binding.bindPageUrl() })
      ui.setTitle('bind.webview_title')
    },
  },
})
