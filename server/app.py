"""The Flask app factory."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from flask import Flask, Request, jsonify, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_openapi3 import Info, OpenAPI
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from server import ops, redaction
from server.api.auth import authenticate_api_request
from server.api.departments import SECURITY_SCHEMES as DEPARTMENT_SECURITY_SCHEMES
from server.certificates.keys import check_keys
from server.db import make_engine, make_read_engine, make_session_factory
from server.errors import ApiError, ErrorCode, register_error_handlers, validation_error_response
from server.items import registry as items
from server.readcache import PageCache
from server.redis_client import make_redis
from server.schema_check import refuse_non_utf8mb4
from server.settings import Settings, load_settings
from server.sources import build_sources
from server.state import AppState, close_db
from server.web.params import BoundedInt

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}


def create_app(settings: Settings | None = None, *, redis_client: redis.Redis | None = None) -> OpenAPI:
    """Build the app from settings (read from the environment when not given).

    `redis_client` lets several app instances share one in-process stand-in (tests of cross-process sharing).
    """
    settings = settings or load_settings()
    items.check(settings)  # unknown items in LIXIAO_ITEMS (or settings of none) stop the start
    check_keys(settings)  # so does a certificate signing key that does not load
    redaction.install()
    redaction.register_secrets(_secret_values(settings))
    app = OpenAPI(
        __name__,
        info=Info(title="Lixiao 离校 API", version="1.0.0",
                  description="Graduate departure clearance: students, counter staff and departmental systems."),
        security_schemes={**SECURITY_SCHEMES, **DEPARTMENT_SECURITY_SCHEMES},
        validation_error_status=400,
        validation_error_callback=validation_error_response,
        doc_ui=False,
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.upload_limit_bytes,
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        # The session row's expiry is fixed at sign-in, so a refreshed cookie buys nothing, and it loses a race: a
        # request that left with an older cookie (a favicon, a stylesheet) would, answering later, overwrite the
        # newer one and its CSRF token. The cookie is sent only when the session changed.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in _protect_form for every non-API form
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.session_interface = _PagesOnlyCookieSessions()
    app.jinja_env.globals["help_phone"] = settings.help_phone
    engine = make_engine(settings.database_url, timeout=settings.database_timeout_seconds)
    if settings.is_production:
        refuse_non_utf8mb4(engine)
    redis_client = redis_client if redis_client is not None else make_redis(settings.redis_url)
    reads = make_read_engine(engine, timeout=settings.database_timeout_seconds)
    app.extensions["lixiao"] = AppState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        reads=reads,
        redis=redis_client,
        sources=build_sources(settings),
        pages=(PageCache(redis_client, settings.read_cache_seconds, items.active(settings).keys, reads)
               if settings.read_cache_seconds else None),
    )
    app.teardown_appcontext(close_db)
    app.url_map.converters["int"] = BoundedInt  # before any route is added
    csrf = CSRFProtect(app)

    @app.before_request
    def _check_request() -> None:
        # One hook, in this order: a caller without a token learns nothing but 401, then the body must parse,
        # then browser forms need their CSRF token (the JSON API is bearer-authenticated instead).
        authenticate_api_request()
        _refuse_malformed_json()
        if not request.path.startswith(("/api/", "/wx/service-account/callback")):  # WeChat signs its callbacks
            _protect_form(csrf)
    register_error_handlers(app)
    _register_routes(app)
    ops.install(app)
    if settings.trusted_proxies:
        # Only as many X-Forwarded-* hops as there are proxies of ours: a client cannot forge its address
        # past them (per-address rate limits and the audit log's origin see the real client).
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    logging.getLogger("server").setLevel(logging.INFO)
    return app


class _PagesOnlyCookieSessions(SecureCookieSessionInterface):
    """The signed cookie session belongs to the web pages; the JSON API authenticates by bearer token alone, so
    its requests never open one (unsigning a cookie on every status request costs as much as answering it)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _secret_values(settings: Settings) -> list[str]:
    """Every configured secret, so no log line can show one."""
    from sqlalchemy.engine import make_url

    values = [settings.secret_key, settings.wx_secret, settings.wecom_secret, settings.certificate_private_key,
              *(d.api_key for d in settings.departments.values()),
              settings.sa_secret, settings.sa_callback_token, settings.sa_aes_key]
    for url in (settings.database_url, settings.redis_url):
        try:
            password = make_url(url).password if url else None
        except Exception:  # an odd URL is the engine's to refuse, not ours
            password = None
        if password:
            values.append(str(password))
    return [v for v in values if v]


def _protect_form(csrf: CSRFProtect) -> None:
    """Every browser form carries a CSRF token; the JSON API is bearer-authenticated instead."""
    # A method or path no route serves changes nothing: let routing answer 404/405 instead of a CSRF 400.
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.routing_exception is None:
        try:
            csrf.protect()
        except CSRFError as exc:
            raise ApiError(400, ErrorCode.VALIDATION_ERROR, "页面已过期，请刷新后重试",
                           "The page has expired; reload it and try again") from exc


def _refuse_malformed_json() -> None:
    """A JSON body that does not parse is a 400 envelope before any view runs."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json and request.get_data(cache=True):
        try:
            request.get_json()
        except (BadRequest, RecursionError) as exc:  # RecursionError: nested deeper than Python's stack allows
            raise ApiError(400, ErrorCode.VALIDATION_ERROR, "请求内容不是有效的 JSON", "The body is not valid JSON"
                           ) from exc


def _register_routes(app: OpenAPI) -> None:
    from server.api import auth_routes, certificates, departments, health, messaging, student
    from server.web import (
        admin,
        binding,
        certificate_pages,
        console,
        counter_pages,
        labels,
        language,
        login,
        service_account,
        student_pages,
    )

    app.register_api(student.bp)
    app.register_api(auth_routes.bp)
    app.register_api(messaging.bp)
    app.register_api(health.bp)
    app.register_api(departments.bp)
    app.register_blueprint(login.bp)
    app.register_blueprint(binding.bp)
    for bp in (certificates.me_bp, certificates.counter_bp, certificates.admin_bp, certificates.keys_bp):
        app.register_api(bp)
    app.register_blueprint(certificate_pages.bp)
    app.register_blueprint(counter_pages.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(student_pages.bp)
    app.register_blueprint(admin.bp)
    language.install(app)
    app.jinja_env.globals.update(action_words=labels.action_words, transition_words=labels.transition_words,
                                 status_label=labels.status_label)
    app.register_blueprint(service_account.bp)

    @app.get("/api/openapi.json", doc_ui=False)
    def openapi_document():
        """The OpenAPI document of the whole API."""
        return jsonify(app.api_doc)
