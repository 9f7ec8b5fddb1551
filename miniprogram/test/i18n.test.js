// The two dictionaries stay in step, every error code has a text, and the language follows the phone.
const { installWx, restoreWx } = require('./helpers/fake-wx')
const { ERROR_CODES } = require('../utils/contract')
const zh = require('../i18n/zh')
const en = require('../i18n/en')

function keyPaths(obj, prefix) {
  return Object.keys(obj).flatMap((k) => {
    const p = prefix ? prefix + '.' + k : k
    const v = obj[k]
    if (Array.isArray(v)) return [p + '[' + v.length + ']']
    return v && typeof v === 'object' ? keyPaths(v, p) : [p]
  })
}

beforeEach(() => jest.resetModules())
afterEach(restoreWx)

test('zh and en have exactly the same keys', () => {
  expect(keyPaths(en).sort()).toEqual(keyPaths(zh).sort())
})

test('no text is empty in either language', () => {
  for (const dict of [zh, en]) {
    for (const path of keyPaths(dict)) {
      const value = path.replace(/\[\d+\]$/, '').split('.').reduce((o, k) => o[k], dict)
      if (typeof value === 'string') expect(value.trim()).not.toBe('')
    }
  }
})

// Item and certificate statuses, degrees, hand-overs and push outcomes are the server's words
// (utils/vocabulary.js, checked by test/vocabulary.test.js), not the dictionaries'.
test('every contract value the app shows has a text in both languages', () => {
  const needed = Object.keys(ERROR_CODES).map((c) => 'errors.' + c)
  const paths = new Set(keyPaths(zh))
  for (const key of needed) expect(paths).toContain(key)
})

test.each([
  ['zh_CN', 'zh'],
  ['zh_TW', 'zh'],
  ['zh-Hans', 'zh'],
  ['en', 'en'],
  ['en_US', 'en'],
  ['ja', 'en'],
])('phone language %s → %s', (language, expected) => {
  installWx({ language })
  expect(require('../i18n/index').lang()).toBe(expected)
})

test('the choice made in settings is stored and beats the phone language', () => {
  const fake = installWx({ language: 'zh_CN' })
  const i18n = require('../i18n/index')
  i18n.setPreference('en')
  expect(fake.storage['lixiao.lang']).toBe('en')
  expect(i18n.lang()).toBe('en')
  expect(i18n.t('common.yes')).toBe('Yes')
  i18n.setPreference('auto')
  expect(i18n.lang()).toBe('zh')
  i18n.setPreference('fr')
  expect(i18n.preference()).toBe('auto')
})

test('pick() reads the field of the current language and falls back to the other', () => {
  installWx({ language: 'en' })
  const i18n = require('../i18n/index')
  expect(i18n.pick({ title: '图书馆', title_en: 'Library' }, 'title')).toBe('Library')
  expect(i18n.pick({ title: '图书馆' }, 'title')).toBe('图书馆')
  expect(i18n.t('common.updated_at', { time: 'now' })).toBe('Updated now')
  expect(i18n.t('no.such.key')).toBe('no.such.key')
})
