// Notifications and subscribe-message consents.
const { ENDPOINTS } = require('../utils/contract')
const { request } = require('../utils/request')

// GET /api/v1/me/notifications → {items: [{id, event, title, title_en, body, body_en, created_at, pushed, not_pushed_reason}]}
async function fetchNotifications() {
  const body = await request({ path: ENDPOINTS.notifications.path, method: ENDPOINTS.notifications.method })
  return (body && body.items) || []
}

// GET /api/v1/me/subscriptions → {templates: [{key, template_id, title, title_en, remaining}]}
async function fetchSubscriptions() {
  const body = await request({ path: ENDPOINTS.subscriptions.path, method: ENDPOINTS.subscriptions.method })
  return (body && body.templates) || []
}

// POST /api/v1/me/subscriptions {accepted: [template_key]} → {templates: [...]}
async function acceptSubscriptions(keys) {
  const body = await request({
    path: ENDPOINTS.acceptSubscriptions.path,
    method: ENDPOINTS.acceptSubscriptions.method,
    data: { accepted: keys },
  })
  return (body && body.templates) || []
}

module.exports = { fetchNotifications, fetchSubscriptions, acceptSubscriptions }
