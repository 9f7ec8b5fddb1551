// The qr-code component paints qr_text on a 2d canvas; what it paints decodes back to the same text.
const jsQR = require('jsqr')
const { installWx, restoreWx, settle } = require('../helpers/fake-wx')
const { render } = require('../helpers/render')
const { canvas2d } = require('../helpers/canvas')

beforeEach(() => {
  jest.resetModules()
  installWx()
})
afterEach(() => {
  jest.restoreAllMocks()
  restoreWx()
})

test('draws at size × pixel ratio and decodes to the text', async () => {
  const canvases = canvas2d()
  const comp = render('components/qr-code', { text: 'LX1.eyJzIjoiTFgyMDI3In0.sig', size: 200 })
  await settle()
  const canvas = canvases[canvases.length - 1]
  expect(canvas.width).toBe(400) // pixelRatio 2
  expect(jsQR(canvas.data, canvas.width, canvas.height).data).toBe('LX1.eyJzIjoiTFgyMDI3In0.sig')
  expect(comp.data.failed).toBe(false)
})

test('redraws when the text changes', async () => {
  const canvases = canvas2d()
  const comp = render('components/qr-code', { text: 'first', size: 150 })
  await settle()
  comp.setData({ text: '第二个' })
  await settle()
  const canvas = canvases[canvases.length - 1]
  expect(jsQR(canvas.data, canvas.width, canvas.height).data).toBe('第二个')
})

test('without a usable canvas it reports an error event instead of failing silently', async () => {
  const comp = render('components/qr-code', { text: 'LX1.abc', size: 200 })
  const onError = jest.fn()
  comp.addEventListener('error', onError)
  comp.instance.paint()
  await settle()
  expect(onError).toHaveBeenCalled()
  expect(comp.data.failed).toBe(true)
})

test('empty text draws nothing', async () => {
  const canvases = canvas2d()
  render('components/qr-code', { text: '', size: 200 })
  await settle()
  expect(canvases).toHaveLength(0)
})
