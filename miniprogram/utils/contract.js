// The slice of the server's API contract (SPEC §6) that this app reads.
// Keep every field name, status value, error code and endpoint the app relies on here:
// test/contract.test.js checks this module against the server's /api/openapi.json.

// No clearance item is named here: every ITEM carries its titles, labelled rows and actions, so an item the
// university turns on renders with no change to this app.
const ITEM_STATUS = {
  PASSED: 'passed',
  NOT_PASSED: 'not_passed',
  UNAVAILABLE: 'unavailable',
}

const CERTIFICATE_STATUS = {
  VALID: 'valid',
  REVOKED: 'revoked',
  HANDED_OVER: 'handed_over',
}

const DEGREE_LEVELS = ['master', 'doctor']
const NOT_PUSHED_REASONS = ['no_consent', 'no_wechat_binding', 'platform_refused', 'rate_limited_retrying', 'pending']
const HANDOVER_ITEMS = ['diploma', 'degree_certificate', 'archive_transfer', 'party_transfer']
const STAFF_ROLES = ['counter', 'admin']

// Every enum the app switches on, by name; the contract test looks for each value in the OpenAPI document.
const ENUMS = {
  item_status: Object.values(ITEM_STATUS),
  certificate_status: Object.values(CERTIFICATE_STATUS),
  degree_level: DEGREE_LEVELS,
  not_pushed_reason: NOT_PUSHED_REASONS,
  handover_item: HANDOVER_ITEMS,
}

// Error code → HTTP status the server answers it with.
const ERROR_CODES = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  NOT_BOUND: 403,
  FORBIDDEN: 403,
  BATCH_CLOSED: 403,
  NO_OPEN_BATCH: 403,
  NOT_FOUND: 404,
  CERTIFICATE_NOT_FOUND: 404,
  CERTIFICATE_INVALID: 422,
  CERTIFICATE_REVOKED: 422,
  ALREADY_SUBMITTED: 409,
  ALREADY_HANDED_OVER: 409,
  ITEMS_NOT_PASSED: 422,
  CARD_CANCEL_NOT_ALLOWED: 422,
  LIBRARY_REFUSED: 422,
  RATE_LIMITED: 429,
  SOURCE_UNAVAILABLE: 503,
  PLATFORM_UNAVAILABLE: 503,
}

// Property names the app reads, grouped by the object they belong to.
const FIELDS = {
  error: ['error', 'code', 'message', 'message_en'],
  login: ['token', 'bound', 'student', 'staff'],
  staff: ['role'],
  clearance: ['student', 'batch', 'items', 'can_submit', 'submit_blockers', 'application'],
  student: [
    'student_no', 'name', 'college', 'major', 'degree_level', 'supervisor',
    'expected_graduation', 'lived_on_campus',
  ],
  batch: ['id', 'name', 'opens_at', 'closes_at', 'is_open'],
  item: [
    'key', 'title', 'title_en', 'status', 'status_label', 'status_label_en', 'rows', 'actions', 'reasons',
    'next_steps', 'department', 'updated_at', 'source_label', 'source_label_en',
  ],
  row: ['key', 'label', 'label_en', 'value', 'value_en'],
  action: ['key', 'title', 'title_en', 'path', 'warning', 'warning_en', 'confirm', 'confirm_en', 'done', 'done_en'],
  application_item: ['key', 'title', 'title_en', 'status'],
  reason: ['code', 'message', 'message_en'],
  next_step: ['message', 'message_en'],
  department: ['name', 'name_en', 'place', 'place_en', 'phone'],
  application_in: ['confirm'],
  application: ['id', 'batch_id', 'batch_name', 'submitted_at', 'items', 'certificate'],
  applications: ['applications'],
  certificate: [
    'serial', 'status', 'revoked_reason', 'handed_over', 'qr_text', 'qr_svg', 'verify_url', 'issued_at',
  ],
  // What a refused scan's envelope carries: CERTIFICATE_REVOKED names the certificate and its re-issue, if any.
  refusal: ['certificate', 'replaced_by'],
  handover_record: ['item', 'by', 'at'],
  notification: [
    'id', 'event', 'title', 'title_en', 'body', 'body_en', 'created_at', 'pushed', 'not_pushed_reason',
  ],
  subscription_template: ['key', 'template_id', 'title', 'title_en', 'remaining', 'long_term'],
  subscriptions: ['templates', 'accepted'],
  counter_verify: ['certificate', 'student', 'items'],
  counter_handover: ['serial', 'items'],
}

// Every endpoint the app calls (paths relative to the API base URL).
const ENDPOINTS = {
  wxLogin: { method: 'POST', path: '/api/v1/auth/wx-login' },
  unbind: { method: 'DELETE', path: '/api/v1/me/binding' },
  endSession: { method: 'DELETE', path: '/api/v1/me/session' },
  clearance: { method: 'GET', path: '/api/v1/me/clearance' },
  submitApplication: { method: 'POST', path: '/api/v1/me/application' },
  applications: { method: 'GET', path: '/api/v1/me/applications' },
  certificate: { method: 'GET', path: '/api/v1/me/certificate' },
  notifications: { method: 'GET', path: '/api/v1/me/notifications' },
  subscriptions: { method: 'GET', path: '/api/v1/me/subscriptions' },
  acceptSubscriptions: { method: 'POST', path: '/api/v1/me/subscriptions' },
  counterVerify: { method: 'POST', path: '/api/v1/counter/verify' },
  counterHandover: { method: 'POST', path: '/api/v1/counter/handover' },
}

// Served as an HTML page (not JSON), so it is not part of the OpenAPI check.
const BIND_PAGE_PATH = '/bind/cas'

module.exports = {
  ITEM_STATUS,
  CERTIFICATE_STATUS,
  DEGREE_LEVELS,
  NOT_PUSHED_REASONS,
  HANDOVER_ITEMS,
  STAFF_ROLES,
  ENUMS,
  ERROR_CODES,
  FIELDS,
  ENDPOINTS,
  BIND_PAGE_PATH,
}
