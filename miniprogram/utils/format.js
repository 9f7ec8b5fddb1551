// Display formats: times in Asia/Shanghai (UTC+8, no daylight saving), money in yuan.
const i18n = require('../i18n/index')

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000

function pad(n) {
  return n < 10 ? '0' + n : String(n)
}

// '2027-06-01T02:30:00+00:00' → '2027-06-01 10:30'; empty for null, the input itself if unparseable.
function formatTime(iso) {
  if (!iso) return ''
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return String(iso)
  const d = new Date(ms + SHANGHAI_OFFSET_MS)
  return (
    d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) +
    ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes())
  )
}

// Money arrives as a decimal string ("12.50") so no float rounding happens on the way.
function formatMoney(amount) {
  if (amount === null || amount === undefined || amount === '') return i18n.t('common.none')
  return i18n.t('common.yuan', { amount: String(amount) })
}

function orNone(value) {
  return value === null || value === undefined || value === '' ? i18n.t('common.none') : String(value)
}

function yesNo(value) {
  if (value === null || value === undefined) return i18n.t('common.none')
  return i18n.t(value ? 'common.yes' : 'common.no')
}

module.exports = { formatTime, formatMoney, orNone, yesNo }
