// The three item states as shown: label and colour class (green passed, red not passed, grey unavailable).
const { ITEM_STATUS } = require('../contract')
const i18n = require('../../i18n/index')
const { STATUS_LABELS, word } = require('../vocabulary')

const CLASSES = {
  [ITEM_STATUS.PASSED]: 'passed',
  [ITEM_STATUS.NOT_PASSED]: 'not-passed',
  [ITEM_STATUS.UNAVAILABLE]: 'unavailable',
}

// An unknown status is shown as unavailable: never as passed. The words are the ITEM's own (status_label) when it
// carries them, else the server's vocabulary.
function statusView(status, item) {
  const known = Object.prototype.hasOwnProperty.call(CLASSES, status) ? status : ITEM_STATUS.UNAVAILABLE
  const own = known === status ? i18n.pick(item, 'status_label') : ''
  return { status: known, cls: CLASSES[known], label: own || word(STATUS_LABELS, known) }
}

function itemTitle(item) {
  return i18n.pick(item, 'title') || String(item.key)
}

module.exports = { statusView, itemTitle }
