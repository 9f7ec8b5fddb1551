// Language choice (phone language unless the user picked one in settings) and text lookup.
const zh = require('./zh')
const en = require('./en')

const DICTIONARIES = { zh, en }
const LANG_KEY = 'lixiao.lang'
const PREFERENCES = ['auto', 'zh', 'en']

function systemLanguage() {
  try {
    const info = typeof wx.getAppBaseInfo === 'function' ? wx.getAppBaseInfo() : wx.getSystemInfoSync()
    return (info && info.language) || ''
  } catch (e) {
    return ''
  }
}

function preference() {
  const stored = wx.getStorageSync(LANG_KEY)
  return PREFERENCES.includes(stored) ? stored : 'auto'
}

function setPreference(pref) {
  wx.setStorageSync(LANG_KEY, PREFERENCES.includes(pref) ? pref : 'auto')
}

// 'zh' or 'en'; anything that is not Chinese gets English.
function lang() {
  const pref = preference()
  if (pref !== 'auto') return pref
  return /^zh/i.test(systemLanguage()) ? 'zh' : 'en'
}

function dict() {
  return DICTIONARIES[lang()]
}

function lookup(source, key) {
  return key.split('.').reduce((node, part) => (node == null ? undefined : node[part]), source)
}

function format(text, params) {
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (match, name) => (params[name] == null ? match : String(params[name])))
}

// t('home.title'), t('common.updated_at', {time}); falls back to Chinese, then to the key itself.
function t(key, params) {
  const value = lookup(dict(), key)
  const text = value == null ? lookup(zh, key) : value
  return typeof text === 'string' ? format(text, params) : text == null ? key : text
}

function has(key) {
  return lookup(dict(), key) != null
}

// The language-matching one of a bilingual pair: pick(item, 'title') reads title or title_en.
function pick(obj, field) {
  if (!obj) return ''
  const zhText = obj[field]
  const enText = obj[field + '_en']
  return lang() === 'en' ? enText || zhText || '' : zhText || enText || ''
}

module.exports = { DICTIONARIES, PREFERENCES, lang, preference, setPreference, dict, t, has, pick }
