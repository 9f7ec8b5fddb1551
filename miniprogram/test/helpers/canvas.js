// miniprogram-simulate has no <canvas type="2d">: its SelectorQuery never returns `node`.
// canvas2d() teaches it to, with a fake canvas that paints fillRect calls into an RGBA buffer,
// so a test can read back (and decode) what a component drew.
const SelectorQuery = require('j-component/src/tool/selectorquery')

function pixelContext(canvas) {
  const ctx = {
    fillStyle: '#000000',
    fillRect(x, y, w, h) {
      const { width, height, data } = canvas
      const v = this.fillStyle === '#ffffff' ? 255 : 0
      for (let row = Math.max(0, y); row < Math.min(height, y + h); row += 1) {
        for (let col = Math.max(0, x); col < Math.min(width, x + w); col += 1) {
          const i = (row * width + col) * 4
          data[i] = v
          data[i + 1] = v
          data[i + 2] = v
          data[i + 3] = 255
        }
      }
    },
  }
  return ctx
}

function fakeCanvas() {
  const canvas = {
    _width: 0,
    _height: 0,
    data: new Uint8ClampedArray(0),
    resize() {
      this.data = new Uint8ClampedArray(this._width * this._height * 4)
    },
    getContext(type) {
      return type === '2d' ? pixelContext(this) : null
    },
  }
  Object.defineProperty(canvas, 'width', { get: () => canvas._width, set: (v) => { canvas._width = v; canvas.resize() } })
  Object.defineProperty(canvas, 'height', { get: () => canvas._height, set: (v) => { canvas._height = v; canvas.resize() } })
  return canvas
}

// Returns the list of canvases handed out; restore with jest.restoreAllMocks().
function canvas2d() {
  const canvases = []
  const original = SelectorQuery.prototype.exec
  jest.spyOn(SelectorQuery.prototype, 'exec').mockImplementation(function (callback) {
    const wantsNode = this._queue.map((item) => Boolean(item.fields && item.fields.node))
    return original.call(this, (res) => {
      const patched = res.map((entry, i) => {
        if (!wantsNode[i] || !entry) return entry
        const canvas = fakeCanvas()
        canvases.push(canvas)
        return Object.assign({}, entry, { node: canvas })
      })
      if (callback) callback(patched)
    })
  })
  return canvases
}

module.exports = { canvas2d }
