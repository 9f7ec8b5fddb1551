// Turns a page rendered by miniprogram-simulate into one self-contained HTML file that Chromium can photograph as
// the phone would show it (tests/browser/test_screenshots.py): the rendered DOM, the page's WXSS with app.wxss and
// its components' WXSS, rpx turned into px for a 375 px wide screen, and looks for WeChat's built-in tags.
//
// The simulator injects the WXSS itself, but with 1rpx = 1px (miniprogram-simulate/src/utils.js transformRpx) and
// without app.wxss, and it keeps the built-in tags' attributes (size="mini", checked, an input's value) on its
// exparser tree only. So the styles are compiled again here with the simulator's own class prefixing (the same
// module, so the selectors match the DOM it rendered), and the attributes are copied from that tree onto the DOM.
// Both reach into miniprogram-simulate 1.6.2 / j-component internals; package-lock.json pins them.
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')
const wxss = require('miniprogram-simulate/src/wxss')
const { cache } = require('j-component/src/tool/utils')
const { ROOT } = require('./render')

// A mini-program page is 750rpx wide whatever the phone; the pictures are of a 375 px wide one.
const SCREEN_WIDTH = 375
const APP = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
const APP_WXSS = wxss.getContent(path.join(ROOT, 'app.wxss'))
// Only these attributes change how a built-in tag looks or what it says; event bindings and data-* stay behind.
const SHOWN_ATTRS = ['type', 'size', 'plain', 'disabled', 'loading', 'checked', 'value', 'placeholder', 'src', 'hidden',
  'aria-label']

// Looks for the built-in tags after WeChat's own (style v2), which the DOM of jsdom has no notion of. Every wx-*
// tag a page renders must be listed here (the screenshot test checks), so a new kind of tag gets a look first.
const BUILT_IN_CSS = `
html, body { margin: 0; padding: 0; }
body { font-family: -apple-system, "PingFang SC", "Helvetica Neue", "WenQuanYi Zen Hei", "Noto Sans CJK SC",
  sans-serif; -webkit-font-smoothing: antialiased; background: ${APP.window.backgroundColor || '#f3f3f3'}; }
wx-navigation-bar { display: flex; align-items: center; justify-content: center; position: relative; height: 44px;
  background: ${APP.window.navigationBarBackgroundColor || '#fff'};
  color: ${APP.window.navigationBarTextStyle === 'white' ? '#fff' : '#000'}; font-size: 17px; font-weight: 600; }
wx-navigation-bar .capsule { position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; box-sizing: border-box;
  border: 1px solid rgba(0, 0, 0, 0.1); border-radius: 16px; background: rgba(255, 255, 255, 0.6); }
wx-navigation-bar .capsule::before { content: "···"; position: absolute; left: 12px; top: 2px; font-size: 17px; }
wx-navigation-bar .capsule::after { content: ""; position: absolute; right: 13px; top: 7px; width: 14px; height: 14px;
  box-sizing: border-box; border: 2px solid #000; border-radius: 50%; }
wx-navigation-bar .title { max-width: 200px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
wx-page { display: block; min-height: calc(100vh - 44px); }
main { display: block; }
[hidden] { display: none !important; }
wx-view, wx-label, wx-radio-group, wx-checkbox-group, wx-scroll-view, wx-form, wx-navigator { display: block; }
wx-text { display: inline; white-space: pre-wrap; }
wx-button { position: relative; display: block; box-sizing: border-box; width: 184px; margin-left: auto;
  margin-right: auto; padding: 8px 24px; font-size: 17px; font-weight: 700; line-height: 1.41176471; text-align: center;
  border-radius: 8px; color: #06ae56; background-color: #f2f2f2; overflow: hidden; }
wx-button[type="primary"] { color: #fff; background-color: #07c160; }
wx-button[type="warn"] { color: #fa5151; }
wx-button[size="mini"] { display: inline-block; width: auto; padding: 0 0.75em; font-size: 16px; line-height: 2; }
wx-button[disabled] { opacity: 0.5; }
wx-input { display: block; min-height: 1.4rem; line-height: 1.4rem; overflow: hidden; white-space: nowrap; }
wx-input::before { content: attr(value); }
wx-input:not([value])::before, wx-input[value=""]::before { content: attr(placeholder); color: #808080; }
wx-radio, wx-checkbox { display: inline-block; vertical-align: middle; }
wx-radio::before, wx-checkbox::before { content: ""; display: block; box-sizing: border-box; width: 22px; height: 22px;
  border: 1px solid #d1d1d1; background: #fff; color: #fff; font-size: 16px; line-height: 20px; text-align: center; }
wx-radio::before { border-radius: 50%; }
wx-checkbox::before { border-radius: 3px; }
wx-radio[checked]::before, wx-checkbox[checked]::before { content: "✓"; border-color: #07c160; background: #07c160; }
wx-canvas { display: inline-block; width: 300px; height: 150px; }
wx-canvas img { display: block; width: 100%; height: 100%; }
wx-image { display: inline-block; width: 320px; height: 240px; overflow: hidden; }
wx-web-view { display: block; box-sizing: border-box; height: calc(100vh - 44px); padding: 24px; border: 2px dashed #c0c0c0;
  background: #fff; color: #5e5e5e; font-size: 14px; word-break: break-all; }
wx-web-view::before { content: "web-view → " attr(src); }
`
const KNOWN_TAGS = ['wx-view', 'wx-text', 'wx-label', 'wx-radio-group', 'wx-checkbox-group', 'wx-scroll-view', 'wx-form',
  'wx-navigator', 'wx-button', 'wx-input', 'wx-radio', 'wx-checkbox', 'wx-canvas', 'wx-image', 'wx-web-view']

function toPx(css) {
  return css.replace(/(-?\d*\.?\d+)rpx\b/g, (all, n) => `${+(Number(n) * SCREEN_WIDTH / 750).toFixed(3)}px`)
}

// WXSS's `page` selector styles the page's root, which here is <wx-page>.
function pageSelector(css) {
  return css.replace(/(^|[{},])page(?=[\s{,:.[>+~])/g, '$1wx-page')
}

function visit(node, fn) {
  fn(node)
  if (node.shadowRoot) visit(node.shadowRoot, fn)
  for (const child of node.childNodes || []) visit(child, fn)
}

// Copies the built-in tags' attributes onto the DOM and returns the custom components (page first) that rendered.
function inspect(comp) {
  const components = new Map()
  // j-component keeps the exparser tree on this field (component.js `get dom()` reads it too).
  visit(comp._exparserNode, (node) => {
    const manager = node.is ? cache(node.is) : null
    if (!manager) return
    if (manager.definition.path) {
      if (!components.has(manager.id)) components.set(manager.id, manager.definition)
      return
    }
    const dom = node.$$
    if (!dom || !node._vt) return
    for (const { name, value } of node._vt.attrs) {
      if (!SHOWN_ATTRS.includes(name) || value === false || value === null || value === undefined) continue
      dom.setAttribute(name, value === true ? '' : String(value))
    }
  })
  return [...components.values()]
}

// The page's styles come from app.wxss and its own WXSS; a component's from its own WXSS, plus the page's when its
// styleIsolation lets them in (apply-shared / shared), as WeChat does. Each is prefixed the way the simulator
// prefixed that component's classes.
function styleSheet(definitions) {
  const [page, ...children] = definitions
  const pageWxss = APP_WXSS + '\n' + wxss.getContent(page.path + '.wxss')
  const parts = [wxss.compile(pageWxss, { prefix: page.options.classPrefix })]
  for (const def of children) {
    const isolation = def.options.styleIsolation || 'isolated'
    const shared = isolation === 'apply-shared' || isolation === 'shared' ? pageWxss + '\n' : ''
    parts.push(wxss.compile(shared + wxss.getContent(def.path + '.wxss'), { prefix: def.options.classPrefix }))
  }
  return pageSelector(toPx(parts.join('\n')))
}

function chunk(type, data) {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(zlib.crc32(data, zlib.crc32(head.subarray(4))), 0)
  return Buffer.concat([head, data, crc])
}

// What a fake 2d canvas (helpers/canvas.js) was painted with, as a grey-scale PNG; unpainted pixels are white.
function canvasPng(canvas) {
  const { width, height, data } = canvas
  const raw = Buffer.alloc((width + 1) * height)
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 4
      raw[y * (width + 1) + 1 + x] = data[i + 3] ? data[i] : 255
    }
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 0 // grey-scale
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
  return 'data:image/png;base64,' + png.toString('base64')
}

function escapeHtml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/**
 * The page as one HTML document.
 * comp: what helpers/render.js renderPage returned, after the page has loaded;
 * title: the navigation bar's title (what the page set, else its JSON's, else the app's);
 * canvases: the fake 2d canvases (helpers/canvas.js) the page painted, in document order, shown as pictures.
 * Returns {html, tags, canvases, slots}: the wx-* tag names the page rendered, how many of its <canvas> got a picture
 * and how many it has.
 */
function phoneHtml(comp, { title, canvases = [] } = {}) {
  const definitions = inspect(comp)
  const dom = comp.dom.cloneNode(true)
  const painted = canvases.filter((c) => c.width && c.height)
  const slots = Array.from(dom.querySelectorAll('wx-canvas'))
  slots.forEach((el, i) => {
    if (!painted[i]) return
    const img = dom.ownerDocument.createElement('img')
    img.setAttribute('src', canvasPng(painted[i]))
    img.setAttribute('alt', el.getAttribute('aria-label') || '')
    el.appendChild(img)
  })
  // An inline style="" can carry rpx too.
  for (const el of dom.querySelectorAll('[style]')) el.setAttribute('style', toPx(el.getAttribute('style')))
  const tags = [...new Set(Array.from(dom.querySelectorAll('*'), (el) => el.tagName.toLowerCase()))]
    .filter((t) => t.startsWith('wx-'))
  const pageJson = JSON.parse(fs.readFileSync(definitions[0].path + '.json', 'utf8'))
  const pageTitle = title || pageJson.navigationBarTitleText || APP.window.navigationBarTitleText
  const html = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=${SCREEN_WIDTH}">
<title>${escapeHtml(pageTitle)}</title>
<style>${BUILT_IN_CSS}</style>
<style>${styleSheet(definitions)}</style>
</head>
<body>
<wx-navigation-bar><span class="title">${escapeHtml(pageTitle)}</span><span class="capsule"></span></wx-navigation-bar>
<wx-page>${dom.outerHTML}</wx-page>
</body>
</html>
`
  return { html, tags, canvases: Math.min(painted.length, slots.length), slots: slots.length }
}

module.exports = { phoneHtml, KNOWN_TAGS, SCREEN_WIDTH }
