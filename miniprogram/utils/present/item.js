// Maps one ITEM onto the item detail page: every detail field, reasons, next steps, department.
const i18n = require('../../i18n/index')
const { formatTime, formatMoney, orNone, yesNo } = require('../format')
const { statusView, itemTitle } = require('./status')
const errors = require('../errors')

function enumText(group, value) {
  return value ? i18n.t(group + '.' + value) : i18n.t('common.none')
}

function countText(key, value) {
  return value === null || value === undefined ? i18n.t('common.none') : i18n.t(key, { count: value })
}

const ROWS = {
  library: (d) => [
    { label: i18n.t('fields.owed_books'), value: countText('fields.books_count', d.owed_books) },
    { label: i18n.t('fields.owed_fees'), value: formatMoney(d.owed_fees) },
    { label: i18n.t('fields.violations'), value: countText('fields.times_count', d.violations) },
    { label: i18n.t('fields.card_status'), value: enumText('card_status', d.card_status) },
    { label: i18n.t('fields.thesis_status'), value: enumText('library_thesis', d.thesis_status) },
  ],
  archives: (d) => [{ label: i18n.t('fields.thesis_status'), value: enumText('archives_thesis', d.thesis_status) }],
  apartment: (d) => [
    { label: i18n.t('fields.lived_on_campus'), value: yesNo(d.lived_on_campus) },
    { label: i18n.t('fields.building'), value: orNone(d.building) },
    { label: i18n.t('fields.move_out_date'), value: orNone(d.move_out_date) },
    { label: i18n.t('fields.move_out_handler'), value: orNone(d.move_out_handler) },
  ],
  finance: (d) => [{ label: i18n.t('fields.arrears'), value: formatMoney(d.arrears) }],
}

function feeItems(item) {
  if (item.key !== 'finance') return []
  return ((item.details && item.details.fee_items) || []).map((fee) => ({
    name: fee.name,
    due: formatMoney(fee.due),
    paid: formatMoney(fee.paid),
  }))
}

function departmentView(dept) {
  if (!dept) return null
  return {
    name: i18n.pick(dept, 'name'),
    place: i18n.pick(dept, 'place'),
    phone: dept.phone || '',
    callLabel: dept.phone ? i18n.t('common.call', { phone: dept.phone }) : '',
  }
}

function itemDetail(item) {
  const details = item.details || {}
  const rows = ROWS[item.key] ? ROWS[item.key](details) : []
  return Object.assign(statusView(item.status), {
    key: item.key,
    title: itemTitle(item),
    rows,
    feeItems: feeItems(item),
    reasons: (item.reasons || []).map((r) => ({ code: r.code, text: i18n.pick(r, 'message') })),
    nextSteps: (item.next_steps || []).map((s) => i18n.pick(s, 'message')),
    department: departmentView(item.department),
    updatedText: item.updated_at
      ? i18n.t('common.updated_at', { time: formatTime(item.updated_at) })
      : i18n.t('common.never_updated'),
    sourceText: item.source ? i18n.t('common.source', { source: item.source }) : '',
    canCancelCard: item.key === 'library' && Boolean(details.can_cancel_card) && details.card_status !== 'cancelled',
  })
}

// The detail view of one item of a clearance answer, or null when the key is not there.
function itemFromClearance(data, key) {
  const item = ((data && data.items) || []).find((it) => it.key === key)
  return item ? itemDetail(item) : null
}

// After a failed card cancellation the student is told why and to contact the library.
function cancelFailureText(err, view) {
  const phone = view && view.department && view.department.phone
  const message = errors.messageOf(err)
  if (err && (err.code === 'CARD_ALREADY_CANCELLED' || err.code === 'CARD_CANCEL_NOT_ALLOWED')) return message
  return phone ? message + '\n' + i18n.t('item.cancel_card_failed', { phone }) : message
}

module.exports = { itemDetail, itemFromClearance, cancelFailureText }
