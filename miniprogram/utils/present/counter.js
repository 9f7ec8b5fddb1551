// Maps POST /api/v1/counter/verify onto the counter page. Every result is first one verdict readable from a metre
// away, as the web counter gives it (server/templates/counter.html, _certificate_result.html): green ✓ for a valid
// certificate (with who to check against the ID card and what was handed over), red ✕ for a forged or unknown one,
// amber ! for a revoked or replaced one, and for a scan that could not be checked. Below a valid one: the certificate,
// the student, the items and the hand-over choices.
const { CERTIFICATE_STATUS, HANDOVER_ITEMS } = require('../contract')
const i18n = require('../../i18n/index')
const errors = require('../errors')
const { certificateView, handoverWords } = require('./certificate')
const { studentRows, itemCard } = require('./clearance')

const ICONS = { green: '✓', red: '✕', amber: '!' }

function verdictView(tone, state, extra) {
  return Object.assign({ tone, icon: ICONS[tone], state, student: null, who: '', details: [], handover: '' }, extra)
}

// "毕业证书、档案转递" / "Diploma, Personal file transfer".
function listWords(words) {
  return words.join(i18n.lang() === 'en' ? ', ' : '、')
}

// What to hold against the student's ID card: the name, large, then the student number and the college.
function studentFacts(student) {
  if (!student) return null
  return {
    name: student.name || '',
    facts: [
      { label: i18n.t('home.student_no'), value: student.student_no || '' },
      { label: i18n.t('home.college'), value: student.college || '' },
    ],
  }
}

// Nothing, some (named) or all of the hand-over items recorded. All handed over is still a valid certificate.
function handoverLine(cert) {
  const records = cert.handedOver || []
  if (!records.length) return i18n.t('counter.handover_none')
  const done = new Set(records.map((r) => r.item))
  if (HANDOVER_ITEMS.every((item) => done.has(item))) return i18n.t('counter.handover_all')
  return i18n.t('counter.handover_some', { items: listWords(records.map((r) => r.label)) })
}

// A 200 answer: green unless it says the certificate is revoked (or a status this app does not know).
function scanVerdict(cert, student) {
  const holds = cert.status === CERTIFICATE_STATUS.VALID || cert.status === CERTIFICATE_STATUS.HANDED_OVER
  return verdictView(holds ? 'green' : 'amber', cert.label, {
    student: studentFacts(student),
    who: cert.revokedText,
    handover: handoverLine(cert),
  })
}

function handoverOptions(cert, selected) {
  const done = new Set((cert.handedOver || []).map((r) => r.item))
  const chosen = new Set(selected || [])
  return HANDOVER_ITEMS.map((item) => ({
    item,
    label: handoverWords(item),
    done: done.has(item),
    checked: !done.has(item) && chosen.has(item),
  }))
}

function verifyView(result) {
  const cert = certificateView(result.certificate)
  // The server refuses a revoked certificate (422, see refusalView); should an answer still say revoked, nothing
  // may be handed over against it.
  const revoked = cert.status === CERTIFICATE_STATUS.REVOKED
  const options = handoverOptions(cert, [])
  return {
    certificate: cert,
    studentRows: studentRows(result.student),
    items: (result.items || []).map(itemCard),
    options,
    canHandover: !revoked && options.some((o) => !o.done),
    revoked,
    verdict: scanVerdict(cert, result.student),
  }
}

// The verdict on a refused scan: replaced (amber, the serial to ask for instead), revoked (amber, why), unknown or
// invalid (red, the server's why). The server names no student here (verify.py refusal()): nothing to check against.
// Any other failure (no permission, too many scans, no network) says nothing about the certificate: amber, "not
// checked", and why.
function refusalView(err) {
  return certificateRefusal(err) || verdictView('amber', i18n.t('counter.not_checked'), { who: errors.messageOf(err) })
}

function certificateRefusal(err) {
  if (!err || !err.code) return null
  const envelope = err.envelope || {}
  if (err.code === 'CERTIFICATE_REVOKED') {
    const cert = envelope.certificate || {}
    const reason = cert.revoked_reason || envelope.revoked_reason
    const serialLine = cert.serial ? [i18n.t('counter.serial', { serial: cert.serial })] : []
    const reasonLine = reason ? i18n.t('certificate.revoked_reason', { reason }) : ''
    if (cert.replaced_by) {
      return verdictView('amber', i18n.t('counter.verdict.replaced'), {
        who: i18n.t('counter.replaced_by', { serial: cert.replaced_by }),
        details: serialLine.concat(reasonLine ? [reasonLine] : []),
      })
    }
    return verdictView('amber', i18n.t('counter.verdict.revoked'), { who: reasonLine || errors.messageOf(err),
      details: serialLine })
  }
  if (err.code === 'CERTIFICATE_INVALID' || err.code === 'CERTIFICATE_NOT_FOUND') {
    const state = i18n.t(err.code === 'CERTIFICATE_INVALID' ? 'counter.verdict.invalid' : 'counter.verdict.unknown')
    return verdictView('red', state, { who: errors.messageOf(err) })
  }
  return null
}

module.exports = { verifyView, handoverOptions, refusalView, listWords }
