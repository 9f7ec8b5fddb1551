// Loading, error (with retry) and empty states shared by every page.
const i18n = require('../../i18n/index')

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    loading: { type: Boolean, value: false },
    error: { type: Object, value: null },
    empty: { type: Boolean, value: false },
    emptyText: { type: String, value: '' },
  },
  data: { t: {} },
  lifetimes: {
    attached() {
      this.setData({ t: i18n.dict() })
    },
  },
  methods: {
    onRetry() {
      this.triggerEvent('retry')
    },
  },
})
