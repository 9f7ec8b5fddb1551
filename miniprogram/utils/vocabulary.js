// Words for the codes the API sends without words, as the server says them: each table mirrors a table of the
// server, entry for entry, as [Chinese, English] (test/vocabulary.test.js reads the server's source and fails on any
// difference). Where an answer carries its own words (status_label, a hand-over's title) those come first.
const i18n = require('../i18n/index')

// server/vocabulary.py STATUS_LABELS: an item's status ("none": never computed).
const STATUS_LABELS = {
  passed: ['通过', 'Passed'],
  not_passed: ['未通过', 'Not passed'],
  unavailable: ['暂不可查', 'Unavailable'],
  none: ['尚无结果', 'No result yet'],
}

// server/vocabulary.py DEGREE_LABELS.
const DEGREE_LABELS = { master: ['硕士研究生', "Master's"], doctor: ['博士研究生', 'Doctoral'] }

// server/vocabulary.py CERTIFICATE_STATUS_LABELS: a certificate's status, as the web pages and the verify page say it.
const CERTIFICATE_STATUS_LABELS = {
  valid: ['有效', 'Valid'],
  handed_over: ['有效（已办理交接）', 'Valid (hand-over recorded)'],
  revoked: ['已撤销', 'Revoked'],
  unknown: ['无法确认', 'Not recognised'],
}

// server/vocabulary.py HANDOVER_LABELS: what the counter hands over, in the server's order (HANDOVER_ITEMS).
const HANDOVER_LABELS = {
  diploma: ['毕业证书', 'Diploma'],
  degree_certificate: ['学位证书', 'Degree certificate'],
  archive_transfer: ['档案转递', 'Personal file transfer'],
  party_transfer: ['党组织关系转接', 'Party membership transfer'],
}

// server/web/student_pages.py DELIVERY: whether a notification reached the phone, by not_pushed_reason; the key
// "null" (Python's None) is one that was pushed.
const DELIVERY_LABELS = {
  null: ['已推送到手机', 'Pushed to your phone'],
  no_consent: ['未订阅推送，仅在此显示', 'Not subscribed to pushes: shown here only'],
  no_wechat_binding: ['未绑定微信，仅在此显示', 'No WeChat account bound: shown here only'],
  pending: ['等待推送', 'Waiting to be pushed'],
  rate_limited_retrying: ['推送繁忙，稍后重试', 'The platform is busy; will retry'],
  platform_refused: ['平台未能送达，仅在此显示', 'The platform did not deliver it: shown here only'],
}

// The word for `code` in the current language; '' for a code the table does not have.
function word(table, code) {
  const pair = Object.prototype.hasOwnProperty.call(table, code) ? table[code] : null
  if (!pair) return ''
  return i18n.lang() === 'en' ? pair[1] : pair[0]
}

module.exports = { STATUS_LABELS, DEGREE_LABELS, CERTIFICATE_STATUS_LABELS, HANDOVER_LABELS, DELIVERY_LABELS, word }
