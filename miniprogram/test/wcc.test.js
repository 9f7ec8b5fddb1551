// Every page and component also compiles with WeChat's own template compiler (wcc, shipped in
// miniprogram-compiler), which is stricter than the pure-JS one the other tests use.
const fs = require('fs')
const path = require('path')
const simulate = require('miniprogram-simulate')
const { installWx, restoreWx } = require('./helpers/fake-wx')

const ROOT = path.join(__dirname, '..')
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
const components = fs.readdirSync(path.join(ROOT, 'components')).map((name) => 'components/' + name + '/index')

beforeEach(() => {
  jest.resetModules()
  installWx()
})
afterEach(restoreWx)

test('app.json lists exactly the pages that exist', () => {
  const onDisk = fs.readdirSync(path.join(ROOT, 'pages')).map((name) => 'pages/' + name + '/index').sort()
  expect([...app.pages].sort()).toEqual(onDisk)
  expect(app.pages[0]).toBe('pages/launch/index')
})

test.each(app.pages.concat(components))('%s compiles with wcc and renders', (rel) => {
  for (const ext of ['js', 'json', 'wxml', 'wxss']) {
    expect(fs.existsSync(path.join(ROOT, rel + '.' + ext))).toBe(true)
  }
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, rel + '.json'), 'utf8'))
  expect(json.usingComponents).toBeDefined() // required for pages built with Component()
  const id = simulate.load(path.join(ROOT, rel), { compiler: 'official', rootPath: ROOT })
  const comp = simulate.render(id, {})
  comp.attach(document.createElement('parent-wrapper'))
  expect(comp.dom).toBeTruthy()
})
