"""The Flask app factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify
from flask_openapi3 import Info, OpenAPI

from server.db import make_engine, make_session_factory
from server.errors import register_error_handlers, validation_error_response
from server.redis_client import make_redis
from server.settings import Settings, load_settings
from server.sources import build_sources
from server.state import AppState, close_db

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from settings (read from the environment when not given)."""
    settings = settings or load_settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app = OpenAPI(
        __name__,
        info=Info(title="Lixiao 离校 API", version="1.0.0",
                  description="Graduate departure clearance: students, counter staff and departmental systems."),
        security_schemes=SECURITY_SCHEMES,
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
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    engine = make_engine(settings.database_url)
    app.extensions["lixiao"] = AppState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        redis=make_redis(settings.redis_url),
        sources=build_sources(settings),
    )
    app.teardown_appcontext(close_db)
    register_error_handlers(app)
    _register_routes(app)
    logging.getLogger("server").setLevel(logging.INFO)
    return app


def _register_routes(app: OpenAPI) -> None:
    from server.api import health, student

    app.register_api(student.bp)
    app.register_api(health.bp)

    @app.get("/api/openapi.json", doc_ui=False)
    def openapi_document():  # type: ignore[no-untyped-def]
        """The OpenAPI document of the whole API."""
        return jsonify(app.api_doc)
