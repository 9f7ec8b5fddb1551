// Maps GET /api/v1/me/clearance onto the home and submit pages.
const { ITEM_STATUS, CERTIFICATE_STATUS } = require('../contract')
const i18n = require('../../i18n/index')
const { formatTime, orNone, yesNo } = require('../format')
const { statusView, itemTitle } = require('./status')
const { DEGREE_LABELS, word } = require('../vocabulary')

function studentRows(student) {
  if (!student) return []
  const degree = word(DEGREE_LABELS, student.degree_level) || student.degree_level
  return [
    { label: i18n.t('home.name'), value: orNone(student.name) },
    { label: i18n.t('home.student_no'), value: orNone(student.student_no) },
    { label: i18n.t('home.college'), value: orNone(student.college) },
    { label: i18n.t('home.major'), value: orNone(student.major) },
    { label: i18n.t('home.degree_level'), value: orNone(degree) },
    { label: i18n.t('home.supervisor'), value: orNone(student.supervisor) },
    { label: i18n.t('home.expected_graduation'), value: orNone(student.expected_graduation) },
    { label: i18n.t('home.lived_on_campus'), value: yesNo(student.lived_on_campus) },
  ]
}

function batchView(batch) {
  if (!batch) return null
  return {
    name: batch.name,
    open: Boolean(batch.is_open),
    stateLabel: i18n.t(batch.is_open ? 'home.batch_open' : 'home.batch_closed'),
    window: i18n.t('home.batch_window', { opens: formatTime(batch.opens_at), closes: formatTime(batch.closes_at) }),
  }
}

function itemCard(item) {
  const firstReason = (item.reasons || [])[0]
  return Object.assign(statusView(item.status, item), {
    key: item.key,
    title: itemTitle(item),
    summary: item.status === ITEM_STATUS.PASSED || !firstReason ? '' : i18n.pick(firstReason, 'message'),
    updatedText: item.updated_at
      ? i18n.t('common.updated_at', { time: formatTime(item.updated_at) })
      : i18n.t('common.never_updated'),
  })
}

function notPassedTitles(items) {
  return (items || []).filter((item) => item.status !== ITEM_STATUS.PASSED).map((item) => {
    const s = statusView(item.status, item)
    return { key: item.key, title: itemTitle(item), label: s.label, cls: s.cls }
  })
}

// What the student finds behind the button: a QR code to show only while the certificate holds at the counter.
function certificateButton(certificate) {
  const status = certificate && certificate.status
  if (status === CERTIFICATE_STATUS.VALID || status === CERTIFICATE_STATUS.HANDED_OVER) {
    return i18n.t('home.view_certificate')
  }
  if (status === CERTIFICATE_STATUS.REVOKED) return i18n.t('home.certificate_revoked')
  return i18n.t('home.certificate_status')
}

function applicationView(application) {
  if (!application) return null
  return {
    id: application.id,
    submittedText: i18n.t('home.submitted', { time: formatTime(application.submitted_at) }),
    hasCertificate: Boolean(application.certificate),
    certificateButton: certificateButton(application.certificate),
  }
}

function clearanceView(data) {
  return {
    hasStudent: Boolean(data.student),
    studentRows: studentRows(data.student),
    batch: batchView(data.batch),
    items: (data.items || []).map(itemCard),
    canSubmit: Boolean(data.can_submit) && !data.application,
    blockers: (data.submit_blockers || []).map((b) => i18n.pick(b, 'message')).filter(Boolean),
    notPassed: notPassedTitles(data.items),
    application: applicationView(data.application),
  }
}

module.exports = { clearanceView, itemCard, studentRows, batchView, notPassedTitles }
