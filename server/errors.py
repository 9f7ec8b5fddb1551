"""String error codes, the error envelope of SPEC §6, and the handlers that keep tracebacks from clients."""

from __future__ import annotations

import logging
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisClusterException, RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """Every error code the API can answer with."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 -- an error code, not a secret
    NOT_BOUND = "NOT_BOUND"
    INVALID_LOGIN_CODE = "INVALID_LOGIN_CODE"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGIN_LINK_EXPIRED = "LOGIN_LINK_EXPIRED"
    NOT_IN_ROSTER = "NOT_IN_ROSTER"
    WECOM_NOT_MEMBER = "WECOM_NOT_MEMBER"
    FORBIDDEN = "FORBIDDEN"
    BATCH_CLOSED = "BATCH_CLOSED"
    NO_OPEN_BATCH = "NO_OPEN_BATCH"
    NOT_FOUND = "NOT_FOUND"
    STUDENT_NOT_FOUND = "STUDENT_NOT_FOUND"
    CERTIFICATE_NOT_FOUND = "CERTIFICATE_NOT_FOUND"
    CERTIFICATE_INVALID = "CERTIFICATE_INVALID"
    CERTIFICATE_REVOKED = "CERTIFICATE_REVOKED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    ALREADY_SUBMITTED = "ALREADY_SUBMITTED"
    ALREADY_HANDED_OVER = "ALREADY_HANDED_OVER"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    ALREADY_REISSUED = "ALREADY_REISSUED"
    CERTIFICATE_NOT_REVOKED = "CERTIFICATE_NOT_REVOKED"
    ALREADY_BOUND = "ALREADY_BOUND"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    ITEMS_NOT_PASSED = "ITEMS_NOT_PASSED"
    CARD_CANCEL_NOT_ALLOWED = "CARD_CANCEL_NOT_ALLOWED"
    LIBRARY_REFUSED = "LIBRARY_REFUSED"
    RATE_LIMITED = "RATE_LIMITED"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    PLATFORM_UNAVAILABLE = "PLATFORM_UNAVAILABLE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DEPARTMENT_READ_ONLY = "DEPARTMENT_READ_ONLY"
    UNKNOWN_DEPARTMENT = "UNKNOWN_DEPARTMENT"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    REPLAYED_REQUEST = "REPLAYED_REQUEST"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    WRONG_DEPARTMENT = "WRONG_DEPARTMENT"
    RECORDS_REJECTED = "RECORDS_REJECTED"
    FILE_UNREADABLE = "FILE_UNREADABLE"


class ApiError(Exception):
    """An error a client should see, with its HTTP status and both languages."""

    def __init__(self, status: int, code: ErrorCode, message: str, message_en: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message_en}")
        self.status = status
        self.code = code
        self.message = message
        self.message_en = message_en
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The SPEC §6 envelope."""
        return {"error": {"code": str(self.code), "message": self.message, "message_en": self.message_en,
                          **self.extra}}


class ErrorDetail(BaseModel):
    """The inside of an error envelope."""

    code: ErrorCode
    message: str
    message_en: str
    items: list[str] | None = None
    fields: list[dict[str, Any]] | None = None
    retry_after: int | None = None
    reason: str | None = None
    certificate: dict[str, Any] | None = None
    handed_over: list[dict[str, Any]] | None = None
    revoked_reason: str | None = None
    rows: list[dict[str, Any]] | None = None
    outcome: dict[str, Any] | None = None  # REPLAYED_REQUEST: the original's {status, body}; null if unfinished


class ErrorOut(BaseModel):
    """Every error the API answers with."""

    error: ErrorDetail


Responses = dict[str | int | HTTPStatus, type[BaseModel] | dict[Any, Any] | None]


def error_responses(*codes: int) -> Responses:
    """The error answers a blueprint documents: every one is the same envelope."""
    return {code: ErrorOut for code in codes}


def not_found(what: str = "资源", what_en: str = "resource") -> ApiError:
    """A 404 naming what was not found."""
    return ApiError(404, ErrorCode.NOT_FOUND, f"未找到{what}", f"{what_en} not found")


def validation_error_response(exc: ValidationError) -> Response:
    """flask-openapi3 calls this when a request does not match its schema."""
    fields = [
        {"loc": [str(p) for p in err["loc"]], "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    error = ApiError(400, ErrorCode.VALIDATION_ERROR, "请求内容格式不正确", "The request is malformed", fields=fields)
    return _json(error)


def _json(error: ApiError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    _retry_after(response, error)
    return response


def _retry_after(response: Response, error: ApiError) -> None:
    # Clients and proxies read the header; the envelope carries the same number for the mini-program.
    if isinstance(error.extra.get("retry_after"), int):
        response.headers["Retry-After"] = str(error.extra["retry_after"])


_HTTP_CODES = {
    400: (ErrorCode.VALIDATION_ERROR, "请求内容格式不正确", "The request is malformed"),
    401: (ErrorCode.UNAUTHORIZED, "请先登录", "Please log in"),
    403: (ErrorCode.FORBIDDEN, "无权访问", "Not allowed"),
    404: (ErrorCode.NOT_FOUND, "未找到", "Not found"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "不支持该请求方法", "Method not allowed"),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "上传内容过大", "The upload is too large"),
    429: (ErrorCode.RATE_LIMITED, "请求过于频繁，请稍后再试", "Too many requests, try again later"),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Answer API clients with the envelope and pages with a friendly page, never a traceback."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        if _wants_json():
            return _json(error)
        from flask import make_response, render_template

        response = make_response(render_template("error.html", error=error), error.status)
        _retry_after(response, error)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code, zh, en = _HTTP_CODES.get(status, (ErrorCode.INTERNAL_ERROR, "服务器内部错误", "Internal error"))
        response = _api_error(ApiError(status, code, zh, en))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110: a 405 names what is allowed
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(RedisError)  # code that needs Redis (replay checks, bind state) and found it down
    @app.errorhandler(RedisClusterException)  # the cluster client's own (not a RedisError)
    def _database_down(exc: Exception) -> Response:
        what = "Redis" if isinstance(exc, RedisError | RedisClusterException) else "database"
        log.warning("%s unavailable: %s", what, type(exc).__name__)
        return _api_error(ApiError(503, ErrorCode.SERVICE_UNAVAILABLE, "服务暂时不可用，请稍后再试",
                                   "The service is temporarily unavailable, try again shortly", retry_after=5))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _api_error(ApiError(500, ErrorCode.INTERNAL_ERROR, "服务器内部错误，请稍后再试",
                                   "Internal error, please try again later"))
