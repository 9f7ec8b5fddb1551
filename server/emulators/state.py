"""In-memory state shared by the emulated platforms, guarded by one lock."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Response, current_app, jsonify

from .config import CasUser, EmulatorConfig

# Endpoint names the control API accepts in POST /_control/faults.
WECHAT_APIS = ("token", "stable_token", "jscode2session", "subscribe_send", "wxacode", "gettemplate")
WECOM_APIS = ("wecom_token", "wecom_getuserinfo", "wecom_send", "wecom_authorize")
CAS_APIS = ("cas_login", "cas_validate", "cas_logout")
SERVICE_ACCOUNT_APIS = ("sa_stable_token", "sa_template_send", "sa_templates", "sa_user_info", "sa_authorize",
                        "sa_oauth_token")
KNOWN_APIS = (*WECHAT_APIS, *WECOM_APIS, *CAS_APIS, *SERVICE_ACCOUNT_APIS)

LOGIN_FORM_TTL = 1800.0  # a CAS login form (its lt) may be posted within 30 minutes
PRUNE_ABOVE = 10_000  # tables are swept of expired entries once they grow past this

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40165: "invalid weapp pagepath",
    40163: "code been used",
    40226: "code blocked",
    41001: "access_token missing",
    41030: "invalid page",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    45009: "api freq out of limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    45033: "api concurrent out of limit",
    47001: "data format error",
    47003: "argument invalid!",
}


def errmsg_for(errcode: int) -> str:
    """Return the platform's usual errmsg for an errcode."""
    return ERRMSG.get(errcode, "error")


def now_iso(timestamp: float) -> str:
    """Format a clock reading as ISO 8601 with offset."""
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


@dataclass
class Fault:
    """An injected failure or delay, consumed by the next `times` calls of one api."""

    api: str
    times: int
    errcode: int | None = None
    errmsg: str | None = None
    delay_ms: int = 0
    http_status: int | None = None

    def public(self) -> dict[str, Any]:
        """Return the fault as the control API shows it."""
        return {
            "api": self.api,
            "times": self.times,
            "errcode": self.errcode,
            "errmsg": self.errmsg,
            "delay_ms": self.delay_ms,
            "http_status": self.http_status,
        }


@dataclass
class Token:
    """An access token; `replaced_at` is set when a newer token of its family supersedes it."""

    value: str
    family: str
    expires_at: float
    replaced_at: float | None = None


@dataclass
class LoginCode:
    """A wx.login or WeCom OAuth code."""

    subject: str
    created_at: float
    used: bool = False
    is_member: bool = True


@dataclass
class ServiceTicket:
    """A CAS service ticket bound to the exact service string it was issued for."""

    username: str
    service: str
    created_at: float
    from_new_login: bool


@dataclass
class SsoSession:
    """A CAS ticket-granting ticket, carried by the CASTGC cookie."""

    username: str
    created_at: float


class EmulatorState:
    """Every mutable thing the emulators remember; all access goes through `lock`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.reset()

    def now(self) -> float:
        """Read the configured clock."""
        return self.config.clock()

    def reset(self) -> None:
        """Forget everything except the configured accounts."""
        with self.lock:
            self.tokens: dict[str, Token] = {}
            self.current_token: dict[str, str] = {}
            self.wx_codes: dict[str, LoginCode] = {}
            self.wecom_codes: dict[str, LoginCode] = {}
            self.known_openids: set[str] = set()
            self.session_keys: dict[str, str] = {}
            self.unionids: dict[str, str] = {}
            self.quota: dict[tuple[str, str], int] = {}  # one per consent tap; each message spends one
            # The pages of the mini-program's released version (None: any page); formal pushes to others get 41030.
            self.released_pages: frozenset[str] | None = self.config.wechat_pages
            self.messages: list[dict[str, Any]] = []
            self.dropped: list[dict[str, Any]] = []
            self.faults: dict[str, deque[Fault]] = {}
            self.calls: Counter[str] = Counter()
            self.token_fetches: Counter[str] = Counter()  # successful token answers, same token or not
            self.tokens_issued: Counter[str] = Counter()
            self.cas_users: dict[str, CasUser] = {u.username: u for u in self.config.all_cas_users()}
            self.wecom_members: set[str] = set(self.config.all_wecom_members())
            self.login_forms: dict[str, float] = {}
            self.service_tickets: dict[str, ServiceTicket] = {}
            self.sso_sessions: dict[str, SsoSession] = {}
            self.wecom_recent: dict[str, deque[float]] = {}
            self.wecom_per_minute = self.config.wecom_per_user_per_minute
            self.wecom_rate_mode = self.config.wecom_rate_limit_mode
            self.next_msgid = 1
            self.service_account: Any = None  # the service account's part, made by service_account.sa_state

    # -- access tokens -------------------------------------------------------------------------

    def issue_token(self, family: str, replace: bool) -> Token:
        """Mint a token of a family; `replace` makes the previous one stop working (after the overlap)."""
        now = self.now()
        previous = self.tokens.get(self.current_token.get(family, ""))
        if previous is not None and replace and previous.replaced_at is None:
            previous.replaced_at = now
        token = Token(secrets.token_urlsafe(48), family, now + self.config.token_ttl_seconds)
        self.tokens[token.value] = token
        self.current_token[family] = token.value
        self.tokens_issued[family] += 1
        return token

    def current(self, family: str) -> Token | None:
        """Return the family's newest token if it has not expired."""
        token = self.tokens.get(self.current_token.get(family, ""))
        if token is None or token.expires_at <= self.now():
            return None
        return token

    def check_token(self, value: str | None, families: tuple[str, ...]) -> int:
        """Return 0 for a usable token, else the errcode the platform answers."""
        if not value:
            return 41001
        token = self.tokens.get(value)
        if token is None or token.family not in families:
            return 40001
        now = self.now()
        if token.expires_at <= now:
            return 42001
        if token.replaced_at is not None and now >= token.replaced_at + self.config.token_overlap_seconds:
            return 40001
        return 0

    def prune(self) -> None:
        """Drop expired codes, tickets and login forms so a long demo or a load test stays small."""
        now, config = self.now(), self.config
        tables: list[tuple[dict[str, Any], Callable[[Any], float], float]] = [
            (self.wx_codes, lambda c: c.created_at, config.code_ttl_seconds),
            (self.wecom_codes, lambda c: c.created_at, config.code_ttl_seconds),
            (self.service_tickets, lambda t: t.created_at, config.cas_ticket_ttl_seconds),
            (self.sso_sessions, lambda s: s.created_at, config.cas_sso_ttl_seconds),
            (self.login_forms, lambda created: created, LOGIN_FORM_TTL),
        ]
        for table, created_at, ttl in tables:
            if len(table) > PRUNE_ABOVE:
                for key in [k for k, v in table.items() if now - created_at(v) >= ttl]:
                    del table[key]

    # -- codes -----------------------------------------------------------------------------------

    def mint_code(self, codes: dict[str, LoginCode], subject: str, is_member: bool = True) -> str:
        """Create a one-shot login code for a subject (openid or userid)."""
        self.prune()
        code = secrets.token_hex(16)
        codes[code] = LoginCode(subject, self.now(), is_member=is_member)
        return code

    def redeem_code(self, codes: dict[str, LoginCode], code: str | None, used_errcode: int) -> LoginCode | int:
        """Consume a code; return it, or the errcode for unknown (40029), used or expired codes."""
        entry = codes.get(code or "")
        if entry is None:
            return 40029
        if entry.used:
            return used_errcode
        if self.now() - entry.created_at >= self.config.code_ttl_seconds:
            return 40029
        entry.used = True
        return entry

    # -- faults and call counting ----------------------------------------------------------------

    def begin_call(self, api: str) -> Fault | None:
        """Count a call and take one pending fault for it, if any."""
        with self.lock:
            self.calls[api] += 1
            pending = self.faults.get(api)
            if not pending:
                return None
            fault = pending[0]
            fault.times -= 1
            if fault.times <= 0:
                pending.popleft()
            return Fault(
                fault.api,
                1,
                fault.errcode,
                fault.errmsg,
                fault.delay_ms,
                fault.http_status,
            )

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault behind any already pending for the same api."""
        with self.lock:
            self.faults.setdefault(fault.api, deque()).append(fault)

    def record_message(self, message: dict[str, Any]) -> int:
        """Store a delivered message and return its msgid."""
        msgid = self.next_msgid
        self.next_msgid += 1
        self.messages.append({"id": msgid, **message, "received_at": now_iso(self.now())})
        return msgid


def get_state() -> EmulatorState:
    """Return the state of the emulator app serving this request."""
    return current_app.extensions["lixiao_emulators"]


def wx_error(errcode: int, errmsg: str | None = None) -> Response:
    """Build a WeChat/WeCom style error body (always HTTP 200, like the platforms)."""
    rid = secrets.token_hex(4)
    return jsonify({"errcode": errcode, "errmsg": f"{errmsg or errmsg_for(errcode)} rid: {rid}"})


def platform_call(api: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a platform endpoint: count the call and apply an injected fault."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fault = get_state().begin_call(api)
            if fault is not None:
                if fault.delay_ms:
                    # Sleep outside the lock so other requests keep flowing during a slow answer.
                    time.sleep(fault.delay_ms / 1000)
                if fault.http_status is not None:
                    return Response(
                        "emulated failure",
                        status=fault.http_status,
                        mimetype="text/plain",
                    )
                if fault.errcode is not None:
                    return wx_error(fault.errcode, fault.errmsg)
            return view(*args, **kwargs)

        return wrapper

    return decorate
