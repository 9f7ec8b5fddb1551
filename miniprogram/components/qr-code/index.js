// Draws a QR code for `text` on a 2d canvas; triggers `error` when the canvas cannot be used.
const qr = require('../../utils/qr')

function pixelRatio() {
  try {
    const info = typeof wx.getWindowInfo === 'function' ? wx.getWindowInfo() : wx.getSystemInfoSync()
    return (info && info.pixelRatio) || 2
  } catch (e) {
    return 2
  }
}

Component({
  properties: {
    text: { type: String, value: '' },
    size: { type: Number, value: 240 },
  },
  data: { failed: false },
  lifetimes: {
    ready() {
      this.ready = true
      this.paint()
    },
  },
  observers: {
    'text, size': function () {
      if (this.ready) this.paint()
    },
  },
  methods: {
    paint() {
      const { text, size } = this.data
      if (!text) return
      let matrix
      try {
        matrix = qr.encode(text)
      } catch (err) {
        this.fail(err)
        return
      }
      this.createSelectorQuery()
        .select('#qr')
        .fields({ node: true, size: true })
        .exec((res) => {
          const canvas = res && res[0] && res[0].node
          if (!canvas || typeof canvas.getContext !== 'function') {
            this.fail(new Error('canvas 2d unavailable'))
            return
          }
          const pixels = Math.round(size * pixelRatio())
          canvas.width = pixels
          canvas.height = pixels
          qr.draw(canvas.getContext('2d'), matrix, pixels)
          this.setData({ failed: false })
        })
    },
    fail(err) {
      this.setData({ failed: true })
      this.triggerEvent('error', { message: err.message })
    },
  },
})
