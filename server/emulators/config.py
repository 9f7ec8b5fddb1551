"""Configuration of the platform emulators: credentials, accounts, limits and the clock."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SERVICE_PATTERN = r"^http://(127\.0\.0\.1|localhost)(:\d+)?/.*"

DEMO_PASSWORD = "demo"

# Staff accounts of SPEC §7: CAS users with the password "demo" and WeCom members with the same userid.
STAFF_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("admin", "研究生院管理员", "研究生院 Graduate School"),
    ("library", "图书馆操作员", "图书馆 Library"),
    ("archives", "档案馆操作员", "档案馆 Archives"),
    (
        "apartment",
        "公寓与物业中心操作员",
        "总务部公寓与物业中心 Apartment and Property Centre",
    ),
    ("finance", "财务资产部操作员", "财务资产部 Finance and Assets"),
    ("counter", "离校窗口工作人员", "离校服务窗口 Departure Counter"),
)

# A demo account's subscribe templates as `wxaapi/newtmpl/gettemplate` lists them. The keyword keys are `rule+kid`
# of the public-library template each was added from, so they are never simply thing1, phrase2…: a deployment
# must map its events' fields to them by keyword name (`python -m server.cli wechat-templates sync`).
DEMO_ACCOUNT_TEMPLATES: tuple[dict[str, Any], ...] = (
    {"priTmplId": "demo-tmpl-item-passed", "title": "事项办理结果通知", "type": 2,
     "content": "办理事项:{{thing7.DATA}}\n办理结果:{{phrase12.DATA}}\n学生姓名:{{name3.DATA}}\n"
                "通过时间:{{time15.DATA}}\n温馨提示:{{thing9.DATA}}\n"},
    {"priTmplId": "demo-tmpl-all-passed", "title": "离校手续办理完成通知", "type": 2,
     "content": "离校批次:{{thing11.DATA}}\n学号:{{character_string6.DATA}}\n学生姓名:{{name2.DATA}}\n"
                "审核结果:{{phrase8.DATA}}\n温馨提示:{{thing13.DATA}}\n"},
    {"priTmplId": "demo-tmpl-certificate-issued", "title": "证明开具成功通知", "type": 2,
     "content": "证明编号:{{character_string10.DATA}}\n学生姓名:{{name5.DATA}}\n所在学院:{{thing14.DATA}}\n"
                "签发日期:{{date8.DATA}}\n温馨提示:{{thing4.DATA}}\n"},
    {"priTmplId": "demo-tmpl-batch-closing-reminder", "title": "办理截止提醒", "type": 2,
     "content": "离校批次:{{thing6.DATA}}\n截止时间:{{time21.DATA}}\n学生姓名:{{name11.DATA}}\n"
                "温馨提示:{{thing17.DATA}}\n"},
    {"priTmplId": "demo-tmpl-wechat-bound", "title": "账号绑定通知", "type": 2,
     "content": "学生姓名:{{name4.DATA}}\n学号:{{character_string9.DATA}}\n绑定时间:{{time2.DATA}}\n"
                "温馨提示:{{thing16.DATA}}\n"},
)
_TEMPLATE_KEY = re.compile(r"\{\{([a-z_]+[0-9]+)\.DATA\}\}")


def template_keys(template: Mapping[str, Any]) -> frozenset[str]:
    """The keyword keys (thing7, …) of an account template's `content`."""
    return frozenset(_TEMPLATE_KEY.findall(str(template.get("content", ""))))


_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass
class CasUser:
    """One account of the emulated unified identity authentication (CAS) server."""

    username: str
    password: str
    attributes: dict[str, Any] = field(default_factory=dict)
    wecom_member: bool = False

    def public(self) -> dict[str, Any]:
        """Return the user without the password, as the control API shows it."""
        return {
            "username": self.username,
            "attributes": dict(self.attributes),
            "wecom_member": self.wecom_member,
        }


class UserDataError(ValueError):
    """Raised when a CAS user record is malformed."""


def parse_cas_user(raw: Any) -> CasUser:
    """Validate one {"username", "password", "attributes"?, "wecom_member"?} record."""
    if not isinstance(raw, Mapping):
        raise UserDataError("each user must be a JSON object")
    username, password = raw.get("username"), raw.get("password")
    if not isinstance(username, str) or not username.strip() or username != username.strip():
        raise UserDataError("username must be a non-empty string without surrounding spaces")
    if not isinstance(password, str) or not password:
        raise UserDataError(f"user {username!r}: password must be a non-empty string")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise UserDataError(f"user {username!r}: attributes must be a JSON object")
    for name, value in attributes.items():
        # Attribute names become XML element names in the CAS 3.0 answer.
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name):
            raise UserDataError(f"user {username!r}: attribute name {name!r} is not a valid XML name")
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int, float, bool)) for v in values):
            raise UserDataError(f"user {username!r}: attribute {name!r} must be text or a list of text")
    wecom_member = raw.get("wecom_member", False)
    if not isinstance(wecom_member, bool):
        raise UserDataError(f"user {username!r}: wecom_member must be true or false")
    return CasUser(username, password, dict(attributes), wecom_member)


def parse_cas_users(raw: Any) -> list[CasUser]:
    """Validate one record or a list of records; raises UserDataError naming the bad entry."""
    items = raw if isinstance(raw, list) else [raw]
    users = []
    for index, item in enumerate(items):
        try:
            users.append(parse_cas_user(item))
        except UserDataError as exc:
            raise UserDataError(f"entry {index}: {exc}") from None
    return users


def load_users_file(path: str | Path) -> list[CasUser]:
    """Read a JSON list of {username, password, attributes} records (a roster file)."""
    with open(path, encoding="utf-8") as handle:
        return parse_cas_users(json.load(handle))


def staff_users() -> list[CasUser]:
    """Return the demo staff accounts, which always exist."""
    return [
        CasUser(
            userid,
            DEMO_PASSWORD,
            {"uid": userid, "cn": name, "userType": "staff", "department": department},
            wecom_member=True,
        )
        for userid, name, department in STAFF_ACCOUNTS
    ]


@dataclass
class EmulatorConfig:
    """Everything the emulators need; defaults match the demo (`make demo`)."""

    wechat_appid: str = "wx00000000demo0001"
    wechat_secret: str = "demo-wechat-app-secret"
    wecom_corpid: str = "ww00000000demo0001"
    wecom_corpsecret: str = "demo-wecom-corp-secret"
    wecom_agentid: int = 1000002
    cas_service_patterns: list[str] = field(default_factory=lambda: [DEFAULT_SERVICE_PATTERN])
    cas_users: list[CasUser] = field(default_factory=list)
    wecom_members: list[str] = field(default_factory=list)
    # Seconds since the epoch; tests inject a manual clock to expire codes, tokens and tickets.
    clock: Callable[[], float] = time.time
    token_ttl_seconds: int = 7200
    # The platform keeps a replaced access_token alive 5 minutes; 0 exposes per-process token caches at once.
    token_overlap_seconds: float = 0.0
    code_ttl_seconds: float = 300.0
    cas_ticket_ttl_seconds: float = 300.0
    cas_sso_ttl_seconds: float = 8 * 3600.0
    # CAS 2.0 has no attributes in its schema; some servers release them anyway.
    cas_v2_attributes: bool = False
    subscribe_default_quota: int = 0
    # None accepts any template id / page; a set makes unknown ones fail like the real platform.
    wechat_template_ids: frozenset[str] | None = None
    wechat_pages: frozenset[str] | None = None
    # The account's own subscribe templates (gettemplate); a send to one of them may use only its keyword keys.
    wechat_templates: tuple[dict[str, Any], ...] = ()
    wecom_per_user_per_minute: int = 30
    # WeCom documents that messages over the per-member limit are silently dropped; "error" answers 45009.
    wecom_rate_limit_mode: str = "drop"

    def all_cas_users(self) -> list[CasUser]:
        """Staff accounts first, then the configured users (which may override them)."""
        return [*staff_users(), *self.cas_users]

    def all_wecom_members(self) -> Iterable[str]:
        """Userids of WeCom members: staff, configured members and CAS users flagged as members."""
        members = [u.username for u in self.all_cas_users() if u.wecom_member]
        return [*members, *self.wecom_members]
