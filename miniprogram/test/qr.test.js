// The vendored encoder is the published package, and what we paint decodes back to the text.
const fs = require('fs')
const jsQR = require('jsqr')
const { build, target } = require('../scripts/vendor-qrcode')
const qr = require('../utils/qr')

// A tiny 2d context that paints fillRect calls into an RGBA buffer, as a canvas would.
function pixelContext(size) {
  const data = new Uint8ClampedArray(size * size * 4)
  const ctx = {
    data,
    fillStyle: '#000000',
    fillRect(x, y, w, h) {
      const v = this.fillStyle === '#ffffff' ? 255 : 0
      for (let row = Math.max(0, y); row < Math.min(size, y + h); row += 1) {
        for (let col = Math.max(0, x); col < Math.min(size, x + w); col += 1) {
          const i = (row * size + col) * 4
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

function paintAndDecode(text, pixels) {
  const ctx = pixelContext(pixels)
  qr.draw(ctx, qr.encode(text), pixels)
  const found = jsQR(ctx.data, pixels, pixels)
  return found && found.data
}

test('the vendored file is exactly the installed qrcode-generator plus its licence header', () => {
  const { pkg, content } = build()
  expect(fs.readFileSync(target, 'utf8')).toBe(content)
  expect(content).toMatch(/^\/\/ Vendored by scripts\/vendor-qrcode\.js/)
  expect(content).toContain('License: MIT')
  expect(content).toContain(`${pkg.name}@${pkg.version}`)
})

test.each([
  ['a signed certificate token', 'LX1.eyJzIjoiTFgyMDI3LTAwMDAzMSJ9.c2lnbmF0dXJl'],
  ['a verify URL', 'http://127.0.0.1:8000/verify/LX2027-000031?sig=abcdef0123456789'],
  ['Chinese text (UTF-8)', '离校证明:张三-LX2027-000031'],
])('%s survives encode → paint → decode', (name, text) => {
  expect(paintAndDecode(text, 300)).toBe(text)
})

test('a long token picks a larger QR version and still decodes', () => {
  const text = 'LX1.' + 'x'.repeat(300)
  expect(qr.encode(text).size).toBeGreaterThan(41)
  expect(paintAndDecode(text, 600)).toBe(text)
})
