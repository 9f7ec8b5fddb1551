// QR codes for the certificate: encode qr_text with the vendored encoder and paint it on a 2d canvas.
const qrcode = require('./vendor/qrcode-generator')

const QUIET_ZONE = 4 // modules of white border the QR specification asks for

// Returns {size, dark(row, col)}; typeNumber 0 lets the encoder pick the smallest version that fits.
function encode(text, level) {
  const code = qrcode(0, level || 'M')
  // Byte mode with UTF-8 so Chinese text survives; the encoder's default would keep only the low byte.
  const saved = qrcode.stringToBytes
  qrcode.stringToBytes = qrcode.stringToBytesFuncs['UTF-8']
  try {
    code.addData(text, 'Byte')
    code.make()
  } finally {
    qrcode.stringToBytes = saved
  }
  const size = code.getModuleCount()
  return { size, dark: (row, col) => code.isDark(row, col) }
}

// Paints the matrix with its quiet zone into a square of `pixels` on a CanvasRenderingContext2D-like ctx.
function draw(ctx, matrix, pixels) {
  const total = matrix.size + QUIET_ZONE * 2
  const cell = pixels / total
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, pixels, pixels)
  ctx.fillStyle = '#000000'
  for (let row = 0; row < matrix.size; row += 1) {
    for (let col = 0; col < matrix.size; col += 1) {
      if (matrix.dark(row, col)) {
        const x = Math.floor((col + QUIET_ZONE) * cell)
        const y = Math.floor((row + QUIET_ZONE) * cell)
        // Rounded edges so neighbouring modules leave no hairline gaps.
        ctx.fillRect(x, y, Math.ceil((col + QUIET_ZONE + 1) * cell) - x, Math.ceil((row + QUIET_ZONE + 1) * cell) - y)
      }
    }
  }
}

module.exports = { encode, draw, QUIET_ZONE }
