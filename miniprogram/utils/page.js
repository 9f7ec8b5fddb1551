// The load-and-map step every page repeats: loading flag, error view, NOT_BOUND redirect.
const ui = require('./ui')

/**
 * Calls fetch(), stores toView(result) under data[key] and returns the raw result.
 * onError(err) may return a view to show instead of the error (e.g. an empty state); undefined = show the error.
 */
async function loadInto(page, fetch, toView, options) {
  const opts = options || {}
  const key = opts.key || 'view'
  page.setData({ loading: true, error: null })
  try {
    const result = await fetch()
    page.setData({ loading: false, [key]: toView(result) })
    return result
  } catch (err) {
    if (ui.redirectIfUnbound(err)) return null
    const replacement = opts.onError ? opts.onError(err) : undefined
    if (replacement !== undefined) {
      page.setData({ loading: false, [key]: replacement })
    } else {
      page.setData({ loading: false, error: ui.errorView(err) })
    }
    return null
  }
}

module.exports = { loadInto }
