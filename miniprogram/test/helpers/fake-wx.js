// A programmable stand-in for the WeChat `wx` object: an HTTP route table for wx.request plus
// recorders for the UI and device APIs the app calls. Only the platform is faked, never app code.
const simulate = require('miniprogram-simulate')

const SIMULATE_WX = global.wx

function routeKey(method, url) {
  return method.toUpperCase() + ' ' + url
}

function createServer() {
  const routes = new Map()
  const requests = []
  return {
    requests,
    // handler: (req) => ({statusCode, data}) | {fail: {errMsg}}; a plain object is returned as is.
    on(method, path, handler) {
      routes.set(routeKey(method, path), typeof handler === 'function' ? handler : () => handler)
      return this
    },
    handle(options) {
      const url = options.url.replace(/^https?:\/\/[^/]+/, '')
      const req = {
        method: (options.method || 'GET').toUpperCase(),
        url,
        fullUrl: options.url,
        data: options.data,
        header: options.header || {},
      }
      requests.push(req)
      const handler = routes.get(routeKey(req.method, url))
      if (!handler) return { statusCode: 404, data: { error: { code: 'NOT_FOUND', message: '未找到', message_en: 'Not found' } } }
      return handler(req)
    },
    calls(method, path) {
      return requests.filter((r) => r.method === method && r.url === path)
    },
  }
}

/**
 * Installs a fresh fake `wx` as the global and returns its controls.
 * options: language ('zh_CN'|'en'), envVersion, storage (initial), modalConfirm (bool), scanResult, subscribeResult,
 *   privacy ('agreed' | 'ask': privacy-scoped calls first go through wx.onNeedPrivacyAuthorization, as WeChat does
 *   until the user agrees), clipboardFail / scanFail (an errMsg the call fails with), pages (the routes
 *   getCurrentPages() answers, bottom of the stack first; the page under test alone if not given).
 */
function installWx(options) {
  const opts = Object.assign({ language: 'zh_CN', envVersion: 'develop', modalConfirm: true }, options)
  const storage = Object.assign({}, opts.storage)
  const server = createServer()
  const log = { modals: [], toasts: [], navigations: [], calls: [], clipboard: [], titles: [], stopRefresh: 0, logins: 0,
    privacyHandlers: [], privacyAsked: [], privacyContract: 0 }
  let privacyAgreed = opts.privacy !== 'ask'
  // WeChat holds a privacy-scoped call until the app's onNeedPrivacyAuthorization handler resolves it.
  function guarded(api, o, run) {
    if (privacyAgreed) return run()
    const handler = log.privacyHandlers[log.privacyHandlers.length - 1]
    const refuse = () => o.fail && o.fail({ errMsg: api + ':fail privacy permission is not authorized' })
    if (!handler) return setTimeout(refuse, 0)
    log.privacyAsked.push(api)
    handler((res) => {
      if (res && res.event === 'agree' && res.buttonId) {
        privacyAgreed = true
        setTimeout(run, 0)
      } else setTimeout(refuse, 0)
    }, { referrer: api })
    return undefined
  }
  const fake = Object.assign({}, SIMULATE_WX, {
    getStorageSync: (key) => (key in storage ? storage[key] : ''),
    setStorageSync: (key, value) => {
      storage[key] = value
    },
    removeStorageSync: (key) => {
      delete storage[key]
    },
    getAppBaseInfo: () => ({ language: opts.language, SDKVersion: '3.0.0' }),
    getSystemInfoSync: () => ({ language: opts.language, pixelRatio: 2 }),
    getWindowInfo: () => ({ pixelRatio: 2 }),
    getAccountInfoSync: () => ({ miniProgram: { appId: 'wx0000000000000000', envVersion: opts.envVersion } }),
    login: ({ success }) => {
      log.logins += 1
      setTimeout(() => success({ code: 'wxcode-' + log.logins, errMsg: 'login:ok' }), 0)
    },
    request: (options) => {
      const result = server.handle(options)
      setTimeout(() => {
        if (result && result.fail) options.fail(result.fail)
        else options.success(Object.assign({ header: {} }, result))
      }, 0)
      return { abort() {} }
    },
    showModal: (o) => {
      log.modals.push({ title: o.title, content: o.content })
      const res = { confirm: opts.modalConfirm, cancel: !opts.modalConfirm }
      setTimeout(() => {
        if (o.success) o.success(res)
        if (o.complete) o.complete(res)
      }, 0)
    },
    showToast: (o) => log.toasts.push(o.title),
    setNavigationBarTitle: (o) => log.titles.push(o.title),
    stopPullDownRefresh: () => {
      log.stopRefresh += 1
    },
    navigateTo: (o) => log.navigations.push({ type: 'navigateTo', url: o.url }),
    redirectTo: (o) => log.navigations.push({ type: 'redirectTo', url: o.url }),
    reLaunch: (o) => log.navigations.push({ type: 'reLaunch', url: o.url }),
    navigateBack: (o) => log.navigations.push({ type: 'navigateBack', delta: (o && o.delta) || 1 }),
    makePhoneCall: (o) => log.calls.push(o.phoneNumber),
    setClipboardData: (o) => guarded('setClipboardData', o, () => {
      if (opts.clipboardFail) return o.fail && o.fail({ errMsg: opts.clipboardFail })
      log.clipboard.push(o.data)
      return o.success && o.success({ errMsg: 'setClipboardData:ok' })
    }),
    scanCode: (o) => {
      log.scanOptions = o
      guarded('scanCode', o, () => setTimeout(() => {
        if (opts.scanFail) o.fail({ errMsg: opts.scanFail })
        else if (opts.scanResult) o.success({ result: opts.scanResult, scanType: 'QR_CODE', errMsg: 'scanCode:ok' })
        else o.fail({ errMsg: 'scanCode:fail cancel' })
      }, 0))
    },
    onNeedPrivacyAuthorization: (handler) => log.privacyHandlers.push(handler),
    openPrivacyContract: () => {
      log.privacyContract += 1
    },
    requestSubscribeMessage: (o) => {
      log.subscribeRequest = o.tmplIds
      setTimeout(() => {
        if (opts.subscribeResult && opts.subscribeResult.errCode) o.fail(opts.subscribeResult)
        else o.success(Object.assign({ errMsg: 'requestSubscribeMessage:ok' }, opts.subscribeResult))
      }, 0)
    },
  })
  global.wx = fake
  const pages = opts.pages || []
  global.getCurrentPages = () => pages.map((route) => ({ route }))
  return { wx: fake, storage, server, log }
}

function restoreWx() {
  global.wx = SIMULATE_WX
  delete global.getCurrentPages
}

// Lets every pending timer-driven callback (fake requests, modals) run.
async function settle(rounds) {
  for (let i = 0; i < (rounds || 10); i += 1) {
    await simulate.sleep(0)
  }
}

module.exports = { installWx, restoreWx, settle }
