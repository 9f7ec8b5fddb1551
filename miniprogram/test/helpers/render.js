// Loads pages and components of this mini-program into miniprogram-simulate.
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.join(__dirname, '..', '..')

function render(relPath, props) {
  const id = simulate.load(path.join(ROOT, relPath, 'index'), { rootPath: ROOT })
  const comp = simulate.render(id, props || {})
  comp.attach(document.createElement('parent-wrapper'))
  return comp
}

function renderPage(name, props) {
  return render(path.join('pages', name), props)
}

function text(comp, selector) {
  const node = comp.querySelector(selector)
  return node ? node.dom.textContent.trim() : null
}

function texts(comp, selector) {
  return comp.querySelectorAll(selector).map((n) => n.dom.textContent.trim())
}

function allText(comp) {
  return comp.dom.textContent.replace(/\s+/g, ' ')
}

module.exports = { ROOT, render, renderPage, text, texts, allText }

// The item cards rendered inside a page (child components are reached through the real DOM).
function cards(comp) {
  return Array.from(comp.dom.querySelectorAll('item-card')).map((el) => {
    const root = el.firstElementChild
    const match = /item-card--item-card--(\S+)/.exec(root.className)
    return {
      title: el.querySelector('[class~="item-card--item-card__title"]').textContent,
      label: el.querySelector('[class~="item-card--badge"]').textContent,
      cls: match ? match[1] : '',
      text: el.textContent,
    }
  })
}

module.exports.cards = cards
