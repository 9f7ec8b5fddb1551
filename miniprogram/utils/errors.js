// Turns failed requests into ApiError objects whose message is ready to show in the current language.
const i18n = require('../i18n/index')

class ApiError extends Error {
  constructor({ status, code, message, messageZh, messageEn, envelope }) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.messageZh = messageZh || ''
    this.messageEn = messageEn || ''
    // The whole {"error": {...}} body: some codes carry more (ITEMS_NOT_PASSED lists the items).
    this.envelope = envelope || null
  }
}

function fallbackMessage(code, status) {
  if (code && i18n.has('errors.' + code)) return i18n.t('errors.' + code)
  return i18n.t('errors.HTTP', { status })
}

// res is a wx.request success result whose statusCode is not 2xx.
function fromResponse(res) {
  const body = res && res.data
  const envelope = body && typeof body === 'object' && body.error && typeof body.error === 'object' ? body.error : null
  const status = res ? res.statusCode : 0
  const code = envelope && envelope.code ? String(envelope.code) : 'HTTP_' + status
  const messageZh = envelope ? envelope.message : ''
  const messageEn = envelope ? envelope.message_en : ''
  const serverText = i18n.lang() === 'en' ? messageEn || messageZh : messageZh || messageEn
  return new ApiError({
    status,
    code,
    message: serverText || fallbackMessage(envelope && envelope.code, status),
    messageZh,
    messageEn,
    envelope,
  })
}

// failure is a wx.request fail result ({errMsg}); no HTTP answer arrived at all.
function network(failure) {
  const errMsg = (failure && failure.errMsg) || ''
  const timedOut = /time ?out/i.test(errMsg)
  const code = timedOut ? 'TIMEOUT' : 'NETWORK'
  return new ApiError({ status: 0, code, message: i18n.t('errors.' + code), envelope: null })
}

// A message for anything thrown by a service call or a wx API.
function messageOf(err) {
  if (err instanceof ApiError) return err.message
  if (err && err.errMsg) return i18n.t('errors.NETWORK')
  return (err && err.message) || i18n.t('errors.HTTP', { status: 0 })
}

module.exports = { ApiError, fromResponse, network, messageOf }
