"""Typed settings read from the environment, with embedded defaults for development."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEPARTMENTS = ("library", "archives", "apartment", "finance")
SOURCE_KINDS = ("local", "fake", "http")
DEFAULT_SECRET = "dev-secret-not-for-production"  # noqa: S105 -- the production check refuses it
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """Raised at start-up when the configuration is unusable."""


@dataclass(frozen=True)
class DepartmentSettings:
    """Where one department's records come from and how to reach its office."""

    source: str = "local"
    url: str = ""
    api_key: str = field(default="", repr=False)  # never in a repr, so never in a log line
    timeout_seconds: float = 2.0
    freshness_hours: float = 0.0  # 0 means records never go stale (the department pushes changes)
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
    outside_timeout_seconds: float = 3.0
    rate_limit_per_ip: int = 120  # login/bind requests per minute from one address (campus NAT: keep generous)
    rate_limit_per_key: int = 10  # per minute for one login code, one token or one username
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
    refresh_interval_seconds: int = 600  # how often the worker re-reads stale records of pulled sources
    refresh_batch_limit: int = 200
    read_cache_seconds: int = 300  # sessions and clearance rows cached in Redis for the status page; 0 turns it off
    testing: bool = False
    departments: Mapping[str, DepartmentSettings] = field(default_factory=lambda: default_departments())

    @property
    def is_production(self) -> bool:
        """True when fakes and default secrets must be refused."""
        return self.env == "production"

    def department(self, key: str) -> DepartmentSettings:
        """The settings of one department."""
        return self.departments[key]

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some fields replaced (tests use this)."""
        return replace(self, **overrides)


_DEPARTMENT_DEFAULTS: dict[str, dict[str, str]] = {
    "library": {"place": "图书馆一楼总服务台", "place_en": "Library, ground-floor service desk"},
    "archives": {"place": "档案馆 101 室", "place_en": "Archives, room 101"},
    "apartment": {"place": "所住宿舍楼的公寓管理员处", "place_en": "The apartment manager of your building"},
    "finance": {"place": "财务资产部收费窗口", "place_en": "Finance office, fee counter"},
}


def default_departments() -> dict[str, DepartmentSettings]:
    """Every department on local records, with its office's default place."""
    return {key: DepartmentSettings(place=d["place"], place_en=d["place_en"], phone="0516-00000000")
            for key, d in _DEPARTMENT_DEFAULTS.items()}


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _department_from_env(key: str, env: Mapping[str, str]) -> DepartmentSettings:
    prefix = f"LIXIAO_{key.upper()}_"
    defaults = _DEPARTMENT_DEFAULTS[key]

    def get(name: str, default: str = "") -> str:
        return env.get(prefix + name, default)

    return DepartmentSettings(
        source=get("SOURCE", "local"),
        url=get("URL"),
        api_key=get("API_KEY"),
        timeout_seconds=float(get("TIMEOUT_SECONDS", "2.0")),
        freshness_hours=float(get("FRESHNESS_HOURS", "0")),
        place=get("PLACE", defaults["place"]),
        place_en=get("PLACE_EN", defaults["place_en"]),
        phone=get("PHONE", "0516-00000000"),
    )


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
    "outside_timeout_seconds": "LIXIAO_OUTSIDE_TIMEOUT_SECONDS",
    "rate_limit_per_ip": "LIXIAO_RATE_LIMIT_PER_IP",
    "rate_limit_per_key": "LIXIAO_RATE_LIMIT_PER_KEY",
    "certificate_private_key": "LIXIAO_CERTIFICATE_PRIVATE_KEY",
    "certificate_key_file": "LIXIAO_CERTIFICATE_KEY_FILE",
    "certificate_retired_public_keys": "LIXIAO_CERTIFICATE_RETIRED_PUBLIC_KEYS",
    "upload_limit_bytes": "LIXIAO_UPLOAD_LIMIT_BYTES",
    "trusted_proxies": "LIXIAO_TRUSTED_PROXIES",
    "wx_template_item_passed": "LIXIAO_WX_TEMPLATE_ITEM_PASSED",
    "wx_template_all_passed": "LIXIAO_WX_TEMPLATE_ALL_PASSED",
    "wx_template_certificate_issued": "LIXIAO_WX_TEMPLATE_CERTIFICATE_ISSUED",
    "wx_template_batch_closing_reminder": "LIXIAO_WX_TEMPLATE_BATCH_CLOSING_REMINDER",
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
        departments = {d: _department_from_env(d, env) for d in DEPARTMENTS}
    except ValueError as exc:
        raise SettingsError(f"a department setting is not a number: {exc}") from exc
    settings = Settings(**values, departments=departments, testing=_bool(env.get("LIXIAO_TESTING", "")))
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Fail fast on settings that cannot work, and on fakes or default secrets in production."""
    try:
        reminder_days(settings)
    except ValueError as exc:
        raise SettingsError(f"LIXIAO_REMINDER_DAYS must be comma-separated whole days, got {settings.reminder_days!r}"
                            ) from exc
    if not 0 <= settings.read_cache_seconds <= 3600:
        raise SettingsError("LIXIAO_READ_CACHE_SECONDS must be between 0 (off) and 3600")
    for key, dept in settings.departments.items():
        if dept.source not in SOURCE_KINDS:
            raise SettingsError(f"LIXIAO_{key.upper()}_SOURCE must be one of {SOURCE_KINDS}, got {dept.source!r}")
        if dept.source == "http" and not dept.url:
            raise SettingsError(f"LIXIAO_{key.upper()}_URL is required when its source is http")
    _check_identity(settings)
    _check_certificate_keys(settings)
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
    emulator_hosts = ("127.0.0.1:8001", "localhost:8001")
    for name in ("wx_api_base", "wecom_api_base", "wecom_oauth_url", "cas_server_url"):
        if any(host in getattr(settings, name) for host in emulator_hosts):
            problems.append(f"{_ENV_NAMES[name]} points at the emulator")
    if not settings.certificate_private_key:
        problems.append("LIXIAO_CERTIFICATE_PRIVATE_KEY must hold the Ed25519 signing key (PEM)")
    if settings.testing:
        problems.append("LIXIAO_TESTING must not be set in production")
    problems += [
        f"LIXIAO_{key.upper()}_SOURCE=fake is a demo stand-in"
        for key, dept in settings.departments.items()
        if dept.source == "fake"
    ]
    if problems:
        raise SettingsError("refusing to start in production:\n  - " + "\n  - ".join(problems))


def _check_certificate_keys(settings: Settings) -> None:
    """A signing key that does not load would only fail at the first submission; fail at start instead."""
    from server.certificates.keys import parse_private_key, parse_public_keys

    try:
        if settings.certificate_private_key:
            parse_private_key(settings.certificate_private_key)
        parse_public_keys(settings.certificate_retired_public_keys)
    except ValueError as exc:
        raise SettingsError(f"LIXIAO_CERTIFICATE_PRIVATE_KEY / _RETIRED_PUBLIC_KEYS: {exc}") from exc


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
    if not 0 <= settings.trusted_proxies <= 5:
        raise SettingsError("LIXIAO_TRUSTED_PROXIES must be the number of proxies in front of the app (0-5)")
    if settings.rate_limit_per_ip < 1 or settings.rate_limit_per_key < 1:
        raise SettingsError("LIXIAO_RATE_LIMIT_PER_IP and LIXIAO_RATE_LIMIT_PER_KEY must be at least 1")
    for name in ("wx_api_base", "wecom_api_base", "cas_server_url"):
        if not getattr(settings, name).endswith("/"):
            raise SettingsError(f"{_ENV_NAMES[name]} must end with '/'")


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
