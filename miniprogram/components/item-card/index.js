// One departure item as a card: title, coloured status with its label, first reason, last update.
Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    card: { type: Object, value: null },
    linked: { type: Boolean, value: true },
  },
  methods: {
    onTap() {
      if (!this.data.linked || !this.data.card) return
      wx.navigateTo({ url: '/pages/item/index?key=' + this.data.card.key })
    },
  },
})
