"""One adapter per outside platform: `wechat` (mini-program) and `wecom` (企业微信), for login and push alike, and
`cas`, the university's unified identity authentication.

`common` holds what both share: the one token cache (Redis, one fetch at a time), the one retry rule (one
refresh and one retry on a refused token) and the one error table (CAS, which has no token, uses its
timeout session). Adapters are built from settings and
Redis; they never reach the Flask app.
"""
