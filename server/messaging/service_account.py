"""The service-account (服务号) channel: template messages through wechatpy's official-account client.

- Which template announces each event, and what fills its keywords, is per-deployment data
  (LIXIAO_SA_TEMPLATES_FILE, `load_mapping`), checked against the account's own templates
  (`cgi-bin/template/get_all_private_template`, `check_mapping`).
- The 2023 template rules: no `first`/`remark`; each keyword's value within its type's limits (the same
  types and limits as subscribe messages, so the same sanitisers render them).
- The card opens the event's mini-program page (`miniprogram: {appid, pagepath}`) when the student has a
  mini-program binding, and always carries the web page as `url`, which WeChat opens where it cannot open
  the mini-program (and which is all a student without a binding gets).
- The send is wechatpy's `client.message.send_template`; its POST goes through the push transport, so it has
  the same shared token, one refresh, timeouts and the `before_send` hook that commits "sending" right before
  the bytes leave (delivery.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from server.messaging.subscribe_values import SANITISERS, SubscribeValueError
from server.messaging.templates import CONTEXT_VARIABLES, EVENT_KEYS, MessageTemplate
from server.messaging.transport import PushTransport, SendResult
from server.platforms.common import send_json
from server.platforms.wechat import ServiceAccountClient
from server.settings import Settings

CHANNEL = "svc_acct"  # the outbox's channel column holds 8 characters
NOT_FOLLOWING = 43004
REFUSED_FOR_GOOD = frozenset({40003, 40037, 47003})  # bad openid, template not in the account, bad data
DAILY_LIMIT = 45009
RETIRED_KEYWORDS = frozenset({"first", "remark"})  # gone from template messages since May 2023


class MappingError(ValueError):
    """The service-account template mapping file is malformed."""


@dataclass(frozen=True)
class SaTemplate:
    """One event's template: its id in the account, and each keyword's source variable or fixed wording."""

    event: str
    template_id: str
    keywords: tuple[tuple[str, str], ...]  # (keyword key such as "thing1", "variable" or "=fixed wording")


def keyword_type(key: str) -> str:
    """The type of a keyword key: "thing" for "thing1", "character_string" for "character_string12"."""
    return key.rstrip("0123456789")


def parse_mapping(data: object, where: str = "mapping") -> dict[str, SaTemplate]:
    """Checked templates from the decoded mapping JSON ({event: {template_id, keywords}}); `_comment` is ignored."""
    if not isinstance(data, dict):
        raise MappingError(f"{where}: expected an object of events")
    mapping = {}
    for event, entry in data.items():
        if event.startswith("_"):
            continue
        if event not in EVENT_KEYS:
            raise MappingError(f"{where}: unknown event {event!r} (one of {', '.join(EVENT_KEYS)})")
        if not isinstance(entry, dict) or not isinstance(entry.get("template_id"), str) or not entry["template_id"]:
            raise MappingError(f"{where} {event}: template_id is required")
        keywords = entry.get("keywords")
        if not isinstance(keywords, dict) or not keywords:
            raise MappingError(f"{where} {event}: keywords must map keyword keys to variables or '=wording'")
        for key, source in keywords.items():
            if key in RETIRED_KEYWORDS:
                raise MappingError(f"{where} {event}: {key!r} is gone since the 2023 template rules")
            if keyword_type(key) not in SANITISERS or key == keyword_type(key):
                raise MappingError(f"{where} {event}: {key!r} is not a keyword key such as thing1 or time2")
            if not isinstance(source, str) or not (source.startswith("=") or source in CONTEXT_VARIABLES):
                raise MappingError(f"{where} {event}.{key}: {source!r} is neither a variable nor '=wording'")
        mapping[event] = SaTemplate(event, entry["template_id"], tuple(keywords.items()))
    return mapping


def load_mapping(path: str | Path) -> dict[str, SaTemplate]:
    """The deployment's mapping file, checked (an event missing from it is not sent on this channel)."""
    try:
        return parse_mapping(json.loads(Path(path).read_text(encoding="utf-8")), str(path))
    except (OSError, json.JSONDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from exc


def template_keywords(content: str) -> list[str]:
    """The keyword keys of a template's content ("办理事项:{{thing1.DATA}}" -> thing1)."""
    keys = []
    for line in content.splitlines():
        start, end = line.find("{{"), line.find(".DATA}}")
        if 0 <= start < end:
            keys.append(line[start + 2:end].strip())
    return keys


def check_mapping(mapping: Mapping[str, SaTemplate], account: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the mapping given the account's templates (get_all_private_template); empty: fine."""
    held = {str(t.get("template_id")): template_keywords(str(t.get("content", ""))) for t in account}
    problems = []
    for event, template in mapping.items():
        keys = held.get(template.template_id)
        if keys is None:
            problems.append(f"{event}: template {template.template_id} is not among the account's templates")
            continue
        mapped = [key for key, _ in template.keywords]
        problems += [f"{event}: {key} is not a keyword of {template.template_id}" for key in mapped if key not in keys]
        problems += [f"{event}: keyword {key} of {template.template_id} is not filled"
                     for key in keys if key not in mapped and key not in RETIRED_KEYWORDS]
    return problems


def render_data(template: SaTemplate, context: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """The `data` of a template message: every keyword within its type's limits (raises SubscribeValueError)."""
    data = {}
    for key, source in template.keywords:
        raw = source[1:] if source.startswith("=") else context.get(source)
        try:
            data[key] = {"value": SANITISERS[keyword_type(key)](raw)}
        except SubscribeValueError as exc:
            raise SubscribeValueError(f"{template.event}.{key}: {exc}") from exc
    return data


def jump(settings: Settings, template: MessageTemplate, has_miniprogram: bool) -> dict[str, Any]:
    """Where the card leads: the web page always (the fallback), the mini-program page when bound."""
    target: dict[str, Any] = {"url": settings.public_base_url.rstrip("/") + template.wecom.url}
    if has_miniprogram:
        target["miniprogram"] = {"appid": settings.wx_appid, "pagepath": template.page}
    return target


# ---------------------------------------------------------------------- the client


def client_for(transport: PushTransport) -> ServiceAccountClient:
    """The service-account client of one sending thread's transport (made on first use)."""
    client = getattr(transport, "service_account_client", None)
    if client is None:
        client = ServiceAccountClient(transport.settings, transport.wechat.store)
        transport.service_account_client = client  # type: ignore[attr-defined]
    return client


def send_template(transport: PushTransport, openid: str, message: Mapping[str, Any], *,
                  before_send: Callable[[], None] | None = None) -> SendResult:
    """Send one template message with wechatpy's `message.send_template`, through the transport."""
    client = client_for(transport)

    def sender(path: str, body: dict[str, Any]) -> SendResult:
        return send_json(client, path, body, before_send)

    client.sender = sender
    try:
        result: SendResult = client.message.send_template(
            openid, message["template_id"], message["data"], url=message.get("url"),
            mini_program=message.get("miniprogram"))
    finally:
        client.sender = None
    return result


def account_templates(settings: Settings, store: redis.Redis) -> list[dict[str, Any]]:
    """The account's templates (get_all_private_template); raises wechatpy's WeChatClientException."""
    client = ServiceAccountClient(settings, store)
    answer = client.get("template/get_all_private_template")
    return list(answer.get("template_list", [])) if isinstance(answer, dict) else []
