// The three item states as shown: label and colour class (green passed, red not passed, grey unavailable).
const { ITEM_STATUS } = require('../contract')
const i18n = require('../../i18n/index')

const CLASSES = {
  [ITEM_STATUS.PASSED]: 'passed',
  [ITEM_STATUS.NOT_PASSED]: 'not-passed',
  [ITEM_STATUS.UNAVAILABLE]: 'unavailable',
}

// An unknown status is shown as unavailable: never as passed.
function statusView(status) {
  const known = Object.prototype.hasOwnProperty.call(CLASSES, status) ? status : ITEM_STATUS.UNAVAILABLE
  return { status: known, cls: CLASSES[known], label: i18n.t('status.' + known) }
}

function itemTitle(item) {
  return i18n.pick(item, 'title') || String(item.key)
}

module.exports = { statusView, itemTitle }
