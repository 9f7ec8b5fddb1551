// Copies the pure-JS QR encoder from node_modules into utils/vendor/ (mini-programs cannot load
// node_modules at run time). Run after changing the qrcode-generator version: `npm run vendor`.
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const target = path.join(root, 'utils', 'vendor', 'qrcode-generator.js')

function header(pkg) {
  return [
    '// Vendored by scripts/vendor-qrcode.js: do not edit; re-run `npm run vendor` instead.',
    `// Package: ${pkg.name}@${pkg.version} (${pkg.main}), https://github.com/kazuhikoarase/qrcode-generator`,
    `// License: ${pkg.license}. Copyright (c) 2009 Kazuhiko Arase.`,
    '// Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
    '// associated documentation files (the "Software"), to deal in the Software without restriction, including',
    '// without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell',
    '// copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the',
    '// following conditions: The above copyright notice and this permission notice shall be included in all',
    '// copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY',
    '// KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A',
    '// PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR',
    '// ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,',
    '// OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
    '',
  ].join('\n')
}

// The vendored file's expected content, built from the installed package.
function build() {
  // The package's "exports" hides package.json from require.resolve, so read it from node_modules directly.
  const pkgDir = path.join(root, 'node_modules', 'qrcode-generator')
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
  const source = fs.readFileSync(path.join(pkgDir, pkg.main), 'utf8')
  return { pkg, content: header(pkg) + source }
}

if (require.main === module) {
  const { pkg, content } = build()
  fs.mkdirSync(path.dirname(target), { recursive: true })
  fs.writeFileSync(target, content)
  console.log(`wrote ${path.relative(root, target)} from ${pkg.name}@${pkg.version}`)
}

module.exports = { build, target }
