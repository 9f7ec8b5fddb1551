// Maps one ITEM onto the item detail page: its labelled rows, reasons, next steps, department and actions.
// Everything shown comes from the ITEM itself (rows, actions, titles in both languages): no item is known here.
const { ITEM_STATUS } = require('../contract')
const i18n = require('../../i18n/index')
const { formatTime } = require('../format')
const { statusView, itemTitle } = require('./status')
const errors = require('../errors')

function departmentView(dept) {
  if (!dept) return null
  return {
    name: i18n.pick(dept, 'name'),
    place: i18n.pick(dept, 'place'),
    phone: dept.phone || '',
    callLabel: dept.phone ? i18n.t('common.call', { phone: dept.phone }) : '',
  }
}

function rowView(row) {
  return { key: row.key, label: i18n.pick(row, 'label'), value: i18n.pick(row, 'value') || i18n.t('common.none') }
}

function actionView(action) {
  return {
    key: action.key,
    path: action.path,
    title: i18n.pick(action, 'title'),
    warning: i18n.pick(action, 'warning'),
    confirm: i18n.pick(action, 'confirm'),
    done: i18n.pick(action, 'done'),
  }
}

// An unavailable item's rows are the last values read (as the web page says, "last known, as of"), or there are
// none because nothing was ever read; either way its time belongs with its values, not in an "updated" line.
function staleness(item, status, department) {
  if (status !== ITEM_STATUS.UNAVAILABLE) {
    const time = item.updated_at && formatTime(item.updated_at)
    return { updatedText: time ? i18n.t('common.updated_at', { time }) : i18n.t('common.never_updated') }
  }
  if (!(item.rows || []).length) {
    return { nothingKnownText: i18n.t('item.nothing_known', { name: department ? department.name : itemTitle(item) }) }
  }
  const lastKnownText = item.updated_at
    ? i18n.t('item.last_known_at', { time: formatTime(item.updated_at) })
    : i18n.t('item.last_known')
  return { lastKnownText }
}

function itemDetail(item) {
  const status = statusView(item.status, item)
  const department = departmentView(item.department)
  const source = i18n.pick(item, 'source_label')
  return Object.assign(status, {
    key: item.key,
    title: itemTitle(item),
    rows: (item.rows || []).map(rowView),
    reasons: (item.reasons || []).map((r) => ({ code: r.code, text: i18n.pick(r, 'message') })),
    // An unavailable item has not failed: its reasons say why it cannot be checked now (grey, not red).
    reasonsTitle: i18n.t(status.status === ITEM_STATUS.UNAVAILABLE ? 'item.reasons_unavailable' : 'item.reasons'),
    reasonsFailed: status.status !== ITEM_STATUS.UNAVAILABLE,
    nextSteps: (item.next_steps || []).map((s) => i18n.pick(s, 'message')),
    department,
    updatedText: '',
    lastKnownText: '',
    nothingKnownText: '',
    // Words from the server's vocabulary only: the stored code (item.source) is never shown.
    sourceText: source ? i18n.t('common.source', { source }) : '',
    actions: (item.actions || []).map(actionView),
  }, staleness(item, status.status, department))
}

// The detail view of one item of a clearance answer, or null when the key is not there.
function itemFromClearance(data, key) {
  const item = ((data && data.items) || []).find((it) => it.key === key)
  return item ? itemDetail(item) : null
}

// After a failed action the student is told why and whom to call; not when the answer says what the student must
// do first (it lists the reasons) or that it is done already (409).
function actionFailureText(err, view) {
  const dept = view && view.department
  const message = errors.messageOf(err)
  const ownDoing = err && (err.status === 409 || (err.envelope && Array.isArray(err.envelope.reasons)))
  if (ownDoing || !dept || !dept.phone) return message
  return message + '\n' + i18n.t('item.action_failed', { name: dept.name, phone: dept.phone })
}

module.exports = { itemDetail, itemFromClearance, actionFailureText }
