// POST /api/v1/auth/wx-login lives in utils/auth.js (the request wrapper re-runs it on 401);
// this re-export keeps services/ the one place pages look for endpoints.
const { login } = require('../utils/auth')

module.exports = { login }
