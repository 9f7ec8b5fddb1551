"""Typed settings read from the environment, with embedded defaults for development."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SOURCE_KINDS = ("local", "fake", "http")
HTTP_FRESHNESS_HOURS = 0.1  # six minutes: a live system is re-read at most this long after its last read
DEFAULT_SECRET = "dev-secret-not-for-production"  # noqa: S105 -- the production check refuses it
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """Raised at start-up when the configuration is unusable."""


@dataclass(frozen=True)
class DepartmentSettings:
    """Where one item's records come from and how to reach its office (empty place and phone: the item's own
    default place, and the help line)."""

    source: str = "local"
    url: str = ""
    api_key: str = field(default="", repr=False)  # never in a repr, so never in a log line
    timeout_seconds: float = 2.0
    # The outer bound on a record's age (0: never stale, for records kept in Lixiao). A pulled record older than
    # this is read again when the student's page is viewed, on submission, and by the worker (from half of it);
    # if that read fails it is `unavailable`, never judged on old data. An http source defaults to
    # HTTP_FRESHNESS_HOURS and may not be 0 (it would be read once and never again).
    freshness_hours: float = 0.0
    place: str = ""
    place_en: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment."""

    env: str = "development"
    secret_key: str = field(default=DEFAULT_SECRET, repr=False)
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'lixiao.sqlite3'}"
    redis_url: str = ""  # empty: an in-process stand-in (fakeredis)
    public_base_url: str = "http://127.0.0.1:8000"
    token_ttl_seconds: int = 7 * 24 * 3600
    help_phone: str = "0516-00000000"
    wx_appid: str = "wx00000000demo0001"
    wx_secret: str = field(default="demo-wechat-app-secret", repr=False)  # the emulator's; refused in production
    wx_api_base: str = "http://127.0.0.1:8001/"
    wecom_corpid: str = "ww00000000demo0001"
    wecom_secret: str = field(default="demo-wecom-corp-secret", repr=False)  # the emulator's; refused in production
    wecom_agentid: int = 1000002
    wecom_api_base: str = "http://127.0.0.1:8001/qy/cgi-bin/"
    # Real WeCom: https://open.weixin.qq.com/connect/oauth2/authorize ; the default is the emulator's.
    wecom_oauth_url: str = "http://127.0.0.1:8001/qy/connect/oauth2/authorize"
    # How a WeCom userid names a student: "same" (userid == student number) or a regex with (?P<student_no>…).
    wecom_userid_rule: str = "same"
    wx_miniprogram_state: str = "formal"  # developer | trial | formal: which version a subscribe message opens
    # The JS-SDK the bind page loads so the web-view can navigate back (https://res.wx.qq.com/open/js/
    # jweixin-1.6.0.js in production); empty offline, where the page just asks the student to go back.
    wx_jssdk_url: str = ""
    cas_server_url: str = "http://127.0.0.1:8001/cas/"
    cas_version: int = 3
    # CAS attributes (docs/identity.md). Which one carries the student number when CAS's principal is a login
    # alias (e.g. "xh"; empty: the principal is the number); staff always match by principal. Name and college
    # attributes (comma-separated, first present wins; empty: not compared) are checked against the roster,
    # which stays the truth: a difference is recorded for staff.
    cas_student_no_attribute: str = ""
    cas_name_attributes: str = "cn,displayName"
    cas_college_attributes: str = ""
    outside_timeout_seconds: float = 3.0
    rate_limit_per_ip: int = 120  # login/bind requests per minute from one address (campus NAT: keep generous)
    rate_limit_per_key: int = 10  # per minute for one login code, one token or one username
    counter_verify_per_minute: int = 60  # certificate checks per minute by one counter staff member (page and API)
    # PEM; empty in development: generated once into certificate_key_file
    certificate_private_key: str = field(default="", repr=False)
    certificate_key_file: str = str(PROJECT_ROOT / "var" / "certificate-signing-key.pem")  # development only
    certificate_retired_public_keys: str = ""  # PEM public keys of rotated-out signing keys, still verified
    upload_limit_bytes: int = 10 * 1024 * 1024
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (nginx alone: 1).
    trusted_proxies: int = 0
    # Subscribe-message template ids from the mini-program console, one per templates_msg/<event>.
    wx_template_item_passed: str = "demo-tmpl-item-passed"
    wx_template_all_passed: str = "demo-tmpl-all-passed"
    wx_template_certificate_issued: str = "demo-tmpl-certificate-issued"
    wx_template_batch_closing_reminder: str = "demo-tmpl-batch-closing-reminder"
    # JSON event -> {keyword name -> the account template's key}, written by `server.cli wechat-templates sync`
    # (server/messaging/keywords.py); empty or absent: templates_msg's keys, except in production (none).
    wx_keywords_file: str = ""
    wx_template_wechat_bound: str = "demo-tmpl-wechat-bound"
    outbox_lease_seconds: int = 60  # a claimed push belongs to its worker this long (renewed per send)
    outbox_batch_size: int = 20
    outbox_max_attempts: int = 10
    outbox_retry_base_seconds: float = 5.0  # doubled per attempt, capped at an hour
    worker_poll_seconds: float = 1.0
    worker_threads: int = 1  # pushes one worker sends at once; more is faster but widens the crash window (worker.py)
    wecom_per_user_per_minute: int = 30  # WeCom drops messages beyond 30/min and 1000/h per member
    wecom_per_user_per_hour: int = 1000
    reminder_days: str = "3,1"  # remind students who have not submitted this many days before a batch closes
    reminder_interval_seconds: int = 3600
    refresh_interval_seconds: int = 120  # how often the worker re-reads pulled records past half their freshness
    refresh_batch_limit: int = 200
    # Status pages kept (server/readcache/) at most this long after being made from the database: the bound for
    # writes made outside Lixiao (a DBA's UPDATE); Lixiao's own writes show at once. 0 turns the cache off.
    read_cache_seconds: int = 60
    # A hung database costs a request at most about twice this before the 503 envelope (server/db.py).
    database_timeout_seconds: float = 2.0
    # The most one page waits for departmental systems altogether (each is also held to its own timeout).
    source_budget_seconds: float = 2.0
    testing: bool = False
    # The clearance items, in order (LIXIAO_ITEMS, comma-separated); empty: those on by default (server/items/).
    items: tuple[str, ...] = ()
    # Per item, from LIXIAO_<ITEM>_SOURCE, _URL, _PLACE …; an item with none set takes DepartmentSettings().
    departments: Mapping[str, DepartmentSettings] = field(default_factory=dict)
    # The university's service account (服务号) for template messages (docs/OPERATIONS.md): off until
    # LIXIAO_SA_APPID is set (the demo sets the emulator's, wx00000000demosa01); the other defaults are the emulator's.
    sa_appid: str = ""
    sa_secret: str = field(default="demo-service-account-secret", repr=False)  # refused in production
    sa_api_base: str = "http://127.0.0.1:8001/sa/"  # real: https://api.weixin.qq.com/
    # Real: https://open.weixin.qq.com/connect/oauth2/authorize ; the default is the emulator's.
    sa_oauth_url: str = "http://127.0.0.1:8001/sa/connect/oauth2/authorize"
    sa_callback_token: str = field(default="demo-sa-callback-token", repr=False)  # the console's 令牌(Token)
    sa_aes_key: str = field(default="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", repr=False)  # EncodingAESKey
    sa_templates_file: str = str(PROJECT_ROOT / "templates_msg" / "service_account.demo.json")  # event -> template
    sa_daily_limit: int = 100_000  # template messages per day the account may send (its console shows the quota)
    # Event keys whose subscribe templates are long-term (长期订阅, education category): consent is not used up.
    wx_long_term_templates: str = ""

    @property
    def is_production(self) -> bool:
        """True when fakes and default secrets must be refused."""
        return self.env == "production"

    def department(self, key: str) -> DepartmentSettings:
        """The settings of one item's department."""
        return self.departments.get(key) or _NO_SETTINGS

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some fields replaced (tests use this)."""
        return replace(self, **overrides)


_NO_SETTINGS = DepartmentSettings()
# LIXIAO_<ITEM>_<SETTING>: the item key is one word (settings.py names no item: server/items/ does).
_DEPARTMENT_VARIABLE = re.compile(r"LIXIAO_([A-Z][A-Z0-9]*)_(SOURCE|URL|API_KEY|TIMEOUT_SECONDS|FRESHNESS_HOURS|"
                                  r"PLACE|PLACE_EN|PHONE)")


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def items_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """LIXIAO_ITEMS as item keys (empty: the default items)."""
    return tuple(part.strip().lower() for part in env.get("LIXIAO_ITEMS", "").split(",") if part.strip())


def departments_from_env(env: Mapping[str, str]) -> dict[str, DepartmentSettings]:
    """Every item's department settings that the environment sets, by item key."""
    found: dict[str, dict[str, str]] = {}
    taken = set(_ENV_NAMES.values())
    for name, value in env.items():
        match = _DEPARTMENT_VARIABLE.fullmatch(name)
        if match and name not in taken:
            found.setdefault(match.group(1).lower(), {})[match.group(2)] = value
    return {key: DepartmentSettings(
        source=got.get("SOURCE", "local"),
        url=got.get("URL", ""),
        api_key=got.get("API_KEY", ""),
        timeout_seconds=float(got.get("TIMEOUT_SECONDS", "2.0")),
        freshness_hours=float(got.get("FRESHNESS_HOURS",
                                      str(HTTP_FRESHNESS_HOURS) if got.get("SOURCE") == "http" else "0")),
        place=got.get("PLACE", ""),
        place_en=got.get("PLACE_EN", ""),
        phone=got.get("PHONE", ""),
    ) for key, got in found.items()}


_ENV_NAMES: dict[str, str] = {
    "env": "LIXIAO_ENV",
    "secret_key": "LIXIAO_SECRET_KEY",
    "database_url": "LIXIAO_DATABASE_URL",
    "redis_url": "LIXIAO_REDIS_URL",
    "public_base_url": "LIXIAO_PUBLIC_BASE_URL",
    "token_ttl_seconds": "LIXIAO_TOKEN_TTL_SECONDS",
    "help_phone": "LIXIAO_HELP_PHONE",
    "wx_appid": "LIXIAO_WX_APPID",
    "wx_secret": "LIXIAO_WX_SECRET",
    "wx_api_base": "LIXIAO_WX_API_BASE",
    "wecom_corpid": "LIXIAO_WECOM_CORPID",
    "wecom_secret": "LIXIAO_WECOM_SECRET",
    "wecom_agentid": "LIXIAO_WECOM_AGENTID",
    "wecom_api_base": "LIXIAO_WECOM_API_BASE",
    "wecom_oauth_url": "LIXIAO_WECOM_OAUTH_URL",
    "wecom_userid_rule": "LIXIAO_WECOM_USERID_RULE",
    "wx_miniprogram_state": "LIXIAO_WX_MINIPROGRAM_STATE",
    "wx_jssdk_url": "LIXIAO_WX_JSSDK_URL",
    "cas_server_url": "LIXIAO_CAS_SERVER_URL",
    "cas_version": "LIXIAO_CAS_VERSION",
    "cas_student_no_attribute": "LIXIAO_CAS_STUDENT_NO_ATTRIBUTE",
    "cas_name_attributes": "LIXIAO_CAS_NAME_ATTRIBUTES",
    "cas_college_attributes": "LIXIAO_CAS_COLLEGE_ATTRIBUTES",
    "outside_timeout_seconds": "LIXIAO_OUTSIDE_TIMEOUT_SECONDS",
    "rate_limit_per_ip": "LIXIAO_RATE_LIMIT_PER_IP",
    "rate_limit_per_key": "LIXIAO_RATE_LIMIT_PER_KEY",
    "counter_verify_per_minute": "LIXIAO_COUNTER_VERIFY_PER_MINUTE",
    "certificate_private_key": "LIXIAO_CERTIFICATE_PRIVATE_KEY",
    "certificate_key_file": "LIXIAO_CERTIFICATE_KEY_FILE",
    "certificate_retired_public_keys": "LIXIAO_CERTIFICATE_RETIRED_PUBLIC_KEYS",
    "upload_limit_bytes": "LIXIAO_UPLOAD_LIMIT_BYTES",
    "trusted_proxies": "LIXIAO_TRUSTED_PROXIES",
    "wx_template_item_passed": "LIXIAO_WX_TEMPLATE_ITEM_PASSED",
    "wx_template_all_passed": "LIXIAO_WX_TEMPLATE_ALL_PASSED",
    "wx_template_certificate_issued": "LIXIAO_WX_TEMPLATE_CERTIFICATE_ISSUED",
    "wx_template_batch_closing_reminder": "LIXIAO_WX_TEMPLATE_BATCH_CLOSING_REMINDER",
    "wx_keywords_file": "LIXIAO_WX_KEYWORDS_FILE",
    "wx_template_wechat_bound": "LIXIAO_WX_TEMPLATE_WECHAT_BOUND",
    "outbox_lease_seconds": "LIXIAO_OUTBOX_LEASE_SECONDS",
    "outbox_batch_size": "LIXIAO_OUTBOX_BATCH_SIZE",
    "outbox_max_attempts": "LIXIAO_OUTBOX_MAX_ATTEMPTS",
    "outbox_retry_base_seconds": "LIXIAO_OUTBOX_RETRY_BASE_SECONDS",
    "worker_poll_seconds": "LIXIAO_WORKER_POLL_SECONDS",
    "worker_threads": "LIXIAO_WORKER_THREADS",
    "wecom_per_user_per_minute": "LIXIAO_WECOM_PER_USER_PER_MINUTE",
    "wecom_per_user_per_hour": "LIXIAO_WECOM_PER_USER_PER_HOUR",
    "reminder_days": "LIXIAO_REMINDER_DAYS",
    "reminder_interval_seconds": "LIXIAO_REMINDER_INTERVAL_SECONDS",
    "refresh_interval_seconds": "LIXIAO_REFRESH_INTERVAL_SECONDS",
    "refresh_batch_limit": "LIXIAO_REFRESH_BATCH_LIMIT",
    "read_cache_seconds": "LIXIAO_READ_CACHE_SECONDS",
    "sa_appid": "LIXIAO_SA_APPID",
    "sa_secret": "LIXIAO_SA_SECRET",
    "sa_api_base": "LIXIAO_SA_API_BASE",
    "sa_oauth_url": "LIXIAO_SA_OAUTH_URL",
    "sa_callback_token": "LIXIAO_SA_CALLBACK_TOKEN",
    "sa_aes_key": "LIXIAO_SA_AES_KEY",
    "sa_templates_file": "LIXIAO_SA_TEMPLATES_FILE",
    "sa_daily_limit": "LIXIAO_SA_DAILY_LIMIT",
    "wx_long_term_templates": "LIXIAO_WX_LONG_TERM_TEMPLATES",
    "database_timeout_seconds": "LIXIAO_DATABASE_TIMEOUT_SECONDS",
    "source_budget_seconds": "LIXIAO_SOURCE_BUDGET_SECONDS",
}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment and refuse unsafe production configurations."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    for name, var in _ENV_NAMES.items():
        if var not in env:
            continue
        raw = env[var]
        try:
            values[name] = int(raw) if types[name] == "int" else float(raw) if types[name] == "float" else raw
        except ValueError as exc:
            raise SettingsError(f"{var} must be a number, got {raw!r}") from exc
    try:
        departments = departments_from_env(env)
    except ValueError as exc:
        raise SettingsError(f"a department setting is not a number: {exc}") from exc
    settings = Settings(**values, items=items_from_env(env), departments=departments,
                        testing=_bool(env.get("LIXIAO_TESTING", "")))
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Fail fast on settings that cannot work, and on fakes or default secrets in production."""
    try:
        reminder_days(settings)
    except ValueError as exc:
        raise SettingsError(f"LIXIAO_REMINDER_DAYS must be comma-separated whole days, got {settings.reminder_days!r}"
                            ) from exc
    if not 0 <= settings.read_cache_seconds <= 60:
        raise SettingsError("LIXIAO_READ_CACHE_SECONDS must be between 0 (off) and 60: it bounds how long a change "
                            "made outside Lixiao (raw SQL) can stay unseen")
    if not 0.5 <= settings.database_timeout_seconds <= 30 or not 0.1 <= settings.source_budget_seconds <= 30:
        raise SettingsError("LIXIAO_DATABASE_TIMEOUT_SECONDS must be 0.5-30 and LIXIAO_SOURCE_BUDGET_SECONDS 0.1-30")
    for key, dept in settings.departments.items():
        if dept.source not in SOURCE_KINDS:
            raise SettingsError(f"LIXIAO_{key.upper()}_SOURCE must be one of {SOURCE_KINDS}, got {dept.source!r}")
        if dept.source == "http" and not dept.url:
            raise SettingsError(f"LIXIAO_{key.upper()}_URL is required when its source is http")
        if dept.source == "http" and dept.freshness_hours <= 0:
            raise SettingsError(f"LIXIAO_{key.upper()}_FRESHNESS_HOURS must be more than 0 for an http source "
                                f"(default {HTTP_FRESHNESS_HOURS}): its records would be read once and never again")
    _check_identity(settings)
    if not settings.is_production:
        return
    problems = []
    if settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 32:
        problems.append("LIXIAO_SECRET_KEY must be set to a random value of at least 32 characters")
    if not settings.database_url.startswith("mysql+pymysql://"):
        problems.append("LIXIAO_DATABASE_URL must be a MySQL/MariaDB URL (mysql+pymysql://…?charset=utf8mb4)")
    elif "charset=utf8mb4" not in settings.database_url:
        problems.append("LIXIAO_DATABASE_URL must carry ?charset=utf8mb4")
    if not settings.redis_url:
        problems.append("LIXIAO_REDIS_URL must point at a real Redis server")
    if settings.wx_secret.startswith("demo-") or settings.wecom_secret.startswith("demo-"):
        problems.append("LIXIAO_WX_SECRET and LIXIAO_WECOM_SECRET must be the real platform secrets")
    problems += [f"{var} must be the template id from the mini-program console" for name, var in _ENV_NAMES.items()
                 if name.startswith("wx_template_") and getattr(settings, name).startswith("demo-")]
    problems += _unsafe_urls(settings)
    if not settings.certificate_private_key:
        problems.append("LIXIAO_CERTIFICATE_PRIVATE_KEY must hold the Ed25519 signing key (PEM)")
    if settings.testing:
        problems.append("LIXIAO_TESTING must not be set in production")
    problems += [
        f"LIXIAO_{key.upper()}_SOURCE=fake is a demo stand-in"
        for key, dept in settings.departments.items()
        if dept.source == "fake"
    ]
    problems += _service_account_problems(settings)
    if problems:
        raise SettingsError("refusing to start in production:\n  - " + "\n  - ".join(problems))


# Every outside system and our own address: over TLS, never this machine (where the emulator runs, on any port).
_OUTSIDE_URLS = ("public_base_url", "wx_api_base", "wecom_api_base", "wecom_oauth_url", "cas_server_url",
                 "wx_jssdk_url")


def _loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8, ::1 or 0.0.0.0: an address on this machine."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _unsafe_urls(settings: Settings) -> list[str]:
    """Plain http (a CAS validation answered by anyone on the path), loopback hosts (the emulator, or QR codes and
    CAS service URLs pointing at 127.0.0.1), and the embedded default public address (review F6)."""
    problems = []
    for name in _OUTSIDE_URLS:
        value = getattr(settings, name)
        if not value and name == "wx_jssdk_url":
            continue  # optional: the bind page then has no JS-SDK
        parts = urlsplit(value)
        if value == getattr(Settings, name) and name == "public_base_url":
            problems.append(f"{_ENV_NAMES[name]} must be set to the service's public https:// address")
        else:
            if parts.scheme != "https" or not parts.hostname:
                problems.append(f"{_ENV_NAMES[name]} must be an https:// URL")
            if _loopback(parts.hostname or ""):
                problems.append(f"{_ENV_NAMES[name]} points at this machine (the emulator?)")
    return problems


def _check_identity(settings: Settings) -> None:
    """The WeCom userid rule must compile, and the other identity knobs must be usable."""
    rule = settings.wecom_userid_rule
    if rule != "same":
        try:
            pattern = re.compile(rule)
        except re.error as exc:
            raise SettingsError(f"LIXIAO_WECOM_USERID_RULE is not a valid regex: {exc}") from exc
        if "student_no" not in pattern.groupindex:
            raise SettingsError("LIXIAO_WECOM_USERID_RULE must be 'same' or a regex with a (?P<student_no>...) group")
    if settings.wx_miniprogram_state not in ("developer", "trial", "formal"):
        raise SettingsError("LIXIAO_WX_MINIPROGRAM_STATE must be developer, trial or formal")
    if settings.cas_version not in (1, 2, 3):
        raise SettingsError("LIXIAO_CAS_VERSION must be 1, 2 or 3")
    _check_cas_attributes(settings)
    _check_service_account(settings)
    if not 0 <= settings.trusted_proxies <= 5:
        raise SettingsError("LIXIAO_TRUSTED_PROXIES must be the number of proxies in front of the app (0-5)")
    if settings.rate_limit_per_ip < 1 or settings.rate_limit_per_key < 1:
        raise SettingsError("LIXIAO_RATE_LIMIT_PER_IP and LIXIAO_RATE_LIMIT_PER_KEY must be at least 1")
    if settings.counter_verify_per_minute < 1:
        raise SettingsError("LIXIAO_COUNTER_VERIFY_PER_MINUTE must be at least 1")
    for name in ("wx_api_base", "wecom_api_base", "cas_server_url"):
        if not getattr(settings, name).endswith("/"):
            raise SettingsError(f"{_ENV_NAMES[name]} must end with '/'")


_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")


def cas_attribute_names(value: str) -> tuple[str, ...]:
    """The attribute names of a comma-separated CAS attribute setting, in order."""
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _check_cas_attributes(settings: Settings) -> None:
    """CAS attribute settings name attributes; CAS 1.0 answers carry none, so a number attribute needs 2 or 3."""
    for name in ("cas_student_no_attribute", "cas_name_attributes", "cas_college_attributes"):
        bad = [a for a in cas_attribute_names(getattr(settings, name)) if not _ATTRIBUTE_NAME.fullmatch(a)]
        if bad:
            raise SettingsError(f"{_ENV_NAMES[name]} must name CAS attributes (letters, digits, _ . : -), got {bad}")
    if len(cas_attribute_names(settings.cas_student_no_attribute)) > 1:
        raise SettingsError("LIXIAO_CAS_STUDENT_NO_ATTRIBUTE names one attribute")
    if settings.cas_student_no_attribute and settings.cas_version == 1:
        raise SettingsError("LIXIAO_CAS_STUDENT_NO_ATTRIBUTE needs LIXIAO_CAS_VERSION 2 or 3 "
                            "(CAS 1.0 answers carry no attributes)")


def reminder_days(settings: Settings) -> tuple[int, ...]:
    """The days before a batch closes on which students who have not submitted are reminded, largest first."""
    days = {int(part) for part in settings.reminder_days.split(",") if part.strip()}
    if any(d <= 0 for d in days):
        raise ValueError("reminder days must be positive")
    return tuple(sorted(days, reverse=True))


def wx_template_id(settings: Settings, setting_name: str) -> str:
    """The template id configured under an environment name such as LIXIAO_WX_TEMPLATE_ITEM_PASSED."""
    field_name = setting_name.removeprefix("LIXIAO_").lower()
    if not field_name.startswith("wx_template_") or _ENV_NAMES.get(field_name) != setting_name:
        raise KeyError(setting_name)
    return str(getattr(settings, field_name))


def _check_service_account(settings: Settings) -> None:
    """The service account's knobs must be usable when the channel is on; long-term templates name events."""
    if any(key not in LONG_TERM_EVENT_KEYS for key in long_term_templates(settings)):
        raise SettingsError(f"LIXIAO_WX_LONG_TERM_TEMPLATES names event keys: {', '.join(LONG_TERM_EVENT_KEYS)}")
    if not settings.sa_appid:
        return
    if not settings.sa_api_base.endswith("/"):
        raise SettingsError("LIXIAO_SA_API_BASE must end with '/'")
    if settings.sa_aes_key and len(settings.sa_aes_key) != 43:
        raise SettingsError("LIXIAO_SA_AES_KEY must be the console's 43-character EncodingAESKey (empty: plain mode)")
    if not settings.sa_callback_token:
        raise SettingsError("LIXIAO_SA_CALLBACK_TOKEN is required when LIXIAO_SA_APPID is set")
    if settings.sa_daily_limit < 1:
        raise SettingsError("LIXIAO_SA_DAILY_LIMIT must be at least 1")


# The events a subscribe template exists for (templates_msg/); settings may not import messaging.
LONG_TERM_EVENT_KEYS = ("item_passed", "all_passed", "certificate_issued", "batch_closing_reminder")


def long_term_templates(settings: Settings) -> frozenset[str]:
    """The event keys whose subscribe templates are long-term (consent not used up per send)."""
    return frozenset(k.strip() for k in settings.wx_long_term_templates.split(",") if k.strip())


def _service_account_problems(settings: Settings) -> list[str]:
    """Production refuses the emulator's service account."""
    if not settings.sa_appid:
        return []
    problems = []
    if settings.sa_secret.startswith("demo-") or settings.sa_callback_token.startswith("demo-"):
        problems.append("LIXIAO_SA_SECRET and LIXIAO_SA_CALLBACK_TOKEN must be the service account's own")
    if settings.sa_templates_file.endswith(".demo.json"):
        problems.append("LIXIAO_SA_TEMPLATES_FILE must map the events to the account's own templates")
    if any(host in settings.sa_api_base + settings.sa_oauth_url for host in ("127.0.0.1:8001", "localhost:8001")):
        problems.append("LIXIAO_SA_API_BASE / LIXIAO_SA_OAUTH_URL point at the emulator")
    return problems
