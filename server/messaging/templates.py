"""Push message templates: load `templates_msg/*/template.json` and render them for each channel."""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qs, urlsplit

from server.messaging.subscribe_values import (
    SANITISERS,
    SUBSCRIBE_TYPES,
    SubscribeValueError,
    format_date,
    format_time,
    plain_text,
    to_shanghai,
    validate_subscribe_value,
)

__all__ = [
    "CONTEXT_VARIABLES",
    "EVENT_KEYS",
    "SUBSCRIBE_TYPES",
    "InappText",
    "MessageTemplate",
    "SubscribeField",
    "TemplateContextError",
    "TemplateError",
    "WecomCard",
    "get_templates",
    "load_templates",
    "parse_template",
    "render_inapp",
    "render_subscribe_data",
    "render_wecom_textcard",
    "validate_subscribe_value",
]

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates_msg"
EVENT_KEYS = ("item_passed", "all_passed", "certificate_issued", "batch_closing_reminder", "wechat_bound")

# Every variable a template may use, and whether it holds text or a point in time.
TEXT_VARIABLES = frozenset(
    {
        "student_name",
        "student_no",
        "college",
        "item_key",
        "item_title",
        "item_title_en",
        "batch_name",
        "serial",
    }
)
TIME_VARIABLES = frozenset({"closes_at", "issued_at", "changed_at"})
CONTEXT_VARIABLES = TEXT_VARIABLES | TIME_VARIABLES

WECOM_TITLE_MAX_BYTES = 128
WECOM_DESCRIPTION_MAX_BYTES = 512
WECOM_BTNTXT_MAX_CHARS = 4
MAX_SUBSCRIBE_FIELDS = 5  # the WeChat console lets a template pick at most five keywords
PLACEHOLDER_CAPS = (40, 20, 10, 4, 1)  # tried in turn until a WeCom card fits its byte limits

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([a-z_]+))?\}")
_TIME_SPECS = frozenset({"", "en", "date", "date_en"})


class TemplateError(ValueError):
    """A template file is malformed."""


class TemplateContextError(SubscribeValueError):
    """The context given to a renderer cannot fill the template."""


@dataclass(frozen=True, slots=True)
class SubscribeField:
    """One keyword of a WeChat subscribe-message template."""

    key: str
    type: str
    label: str
    label_en: str
    source: str | None = None  # a context variable ...
    value: str | None = None  # ... or fixed wording, exactly one of the two


@dataclass(frozen=True, slots=True)
class WecomCard:
    """WeCom `textcard` wording; `description` may use the card's `<div class>` markup.

    `url` is a path of ours; a card opened inside WeCom signs the student in through WeCom OAuth first, so it
    names `/wecom/login?next=<the page the message talks about>` (a bare page would ask for a CAS password).
    """

    title: str
    description: str
    url: str
    btntxt: str


@dataclass(frozen=True, slots=True)
class InappText:
    """In-app notification wording in both languages."""

    title: str
    title_en: str
    body: str
    body_en: str


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """Everything needed to announce one event on every channel."""

    key: str
    template_id_setting: str
    page: str
    fields: tuple[SubscribeField, ...]
    wecom: WecomCard
    inapp: InappText

    @property
    def link(self) -> str:
        """The web page the message talks about (the card's `next`, or its path): the in-app link."""
        parts = urlsplit(self.wecom.url)
        return parse_qs(parts.query).get("next", [parts.path])[0]

    @property
    def variables(self) -> frozenset[str]:
        """Context variables this template reads on any channel."""
        used = {f.source for f in self.fields if f.source}
        texts = (self.wecom.title, self.wecom.description, *_inapp_texts(self.inapp))
        used.update(m.group(1) for text in texts for m in _PLACEHOLDER.finditer(text))
        return frozenset(used)


# ---------------------------------------------------------------- rendering


def _checked(context: Mapping[str, object], needed: frozenset[str]) -> None:
    """Refuse unknown variables (a typo would silently blank a value) and missing or unreadable times."""
    unknown = set(context) - CONTEXT_VARIABLES
    if unknown:
        raise TemplateContextError(f"unknown context variables: {sorted(unknown)}")
    for name in sorted(needed & TIME_VARIABLES):
        try:
            to_shanghai(context.get(name))
        except SubscribeValueError as exc:
            raise TemplateContextError(f"{name}: {exc}") from exc


def render_subscribe_data(template: MessageTemplate, context: Mapping[str, object],
                          keys: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """The `data` object of a subscribe-message send, every value within its keyword type's limits.

    `keys` maps each field's key in templates_msg to the account template's key (messaging/keywords.py).
    """
    _checked(context, template.variables)
    data = {}
    for f in template.fields:
        try:
            value = f.value if f.value is not None else SANITISERS[f.type](context.get(f.source or ""))
        except SubscribeValueError as exc:
            raise TemplateContextError(f"{template.key}.{f.key}: {exc}") from exc
        data[keys[f.key] if keys is not None else f.key] = {"value": value}
    return data


def _format_variable(name: str, spec: str, context: Mapping[str, object], cap: int) -> str:
    if name in TIME_VARIABLES:
        moment = to_shanghai(context.get(name))
        return {
            "": format_time(moment),
            "en": f"{moment:%Y-%m-%d %H:%M} (Beijing time)",
            "date": format_date(moment),
            "date_en": f"{moment:%Y-%m-%d}",
        }[spec]
    text = plain_text(context.get(name)) or "—"
    return text if len(text) <= cap else text[: cap - 1].rstrip() + "…"


def _fill(text: str, context: Mapping[str, object], cap: int = PLACEHOLDER_CAPS[0], markup: bool = False) -> str:
    def value(m: re.Match[str]) -> str:
        filled = _format_variable(m.group(1), m.group(2) or "", context, cap)
        return html.escape(filled, quote=False) if markup else filled

    return _PLACEHOLDER.sub(value, text)


def render_wecom_textcard(template: MessageTemplate, context: Mapping[str, object], base_url: str) -> dict[str, str]:
    """The `textcard` object of a WeCom app message, within WeCom's byte limits."""
    _checked(context, template.variables)
    card = template.wecom
    for cap in PLACEHOLDER_CAPS:
        title = _fill(card.title, context, cap)
        description = _fill(card.description, context, cap, markup=True)
        if len(title.encode()) <= WECOM_TITLE_MAX_BYTES and len(description.encode()) <= WECOM_DESCRIPTION_MAX_BYTES:
            url = base_url.rstrip("/") + card.url
            return {"title": title, "description": description, "url": url, "btntxt": card.btntxt}
    raise TemplateError(f"{template.key}: WeCom wording too long even with one-character values")


def render_inapp(template: MessageTemplate, context: Mapping[str, object]) -> dict[str, str]:
    """The in-app notification title and body in Chinese and English."""
    _checked(context, template.variables)
    texts = template.inapp
    return {
        "title": _fill(texts.title, context),
        "title_en": _fill(texts.title_en, context),
        "body": _fill(texts.body, context),
        "body_en": _fill(texts.body_en, context),
    }


# ---------------------------------------------------------------- loading


def _inapp_texts(inapp: InappText) -> tuple[str, str, str, str]:
    return (inapp.title, inapp.title_en, inapp.body, inapp.body_en)


def _exact_keys(where: str, data: object, required: set[str], optional: frozenset[str] = frozenset()) -> dict:
    if not isinstance(data, dict):
        raise TemplateError(f"{where}: expected an object")
    missing, extra = required - data.keys(), data.keys() - required - optional
    if missing or extra:
        raise TemplateError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(extra)}")
    if not all(isinstance(v, str) for k, v in data.items() if k not in ("fields", "wecom", "inapp")):
        raise TemplateError(f"{where}: every value must be a string")
    return data


def _check_wording(where: str, text: str) -> None:
    for m in _PLACEHOLDER.finditer(text):
        name, spec = m.group(1), m.group(2) or ""
        if name not in CONTEXT_VARIABLES:
            raise TemplateError(f"{where}: unknown variable {{{name}}}")
        if spec and (name not in TIME_VARIABLES or spec not in _TIME_SPECS):
            raise TemplateError(f"{where}: format {spec!r} not allowed for {{{name}}}")
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        raise TemplateError(f"{where}: stray brace")


def _parse_field(where: str, raw: object) -> SubscribeField:
    data = _exact_keys(where, raw, {"key", "type", "label", "label_en"}, frozenset({"source", "value"}))
    field = SubscribeField(**data)
    if field.type not in SUBSCRIBE_TYPES:
        raise TemplateError(f"{where}: unknown keyword type {field.type!r}")
    if not re.fullmatch(rf"{field.type}[1-9][0-9]*", field.key):
        raise TemplateError(f"{where}: keyword {field.key!r} does not match its type {field.type!r}")
    if (field.source is None) == (field.value is None):
        raise TemplateError(f"{where}: give exactly one of source and value")
    if field.source is not None and field.source not in CONTEXT_VARIABLES:
        raise TemplateError(f"{where}: unknown source {field.source!r}")
    if field.source is not None and (field.source in TIME_VARIABLES) != (field.type in ("time", "date")):
        raise TemplateError(f"{where}: times go to time/date keywords and only times do")
    if field.value is not None and (reason := validate_subscribe_value(field.type, field.value)):
        raise TemplateError(f"{where}: fixed value rejected: {reason}")
    return field


def parse_template(data: object, where: str = "template") -> MessageTemplate:
    """A checked MessageTemplate from the decoded JSON of one template file."""
    top = _exact_keys(where, data, {"key", "template_id_setting", "page", "fields", "wecom", "inapp"})
    if not re.fullmatch(r"LIXIAO_WX_TEMPLATE_[A-Z0-9_]+", top["template_id_setting"]):
        raise TemplateError(f"{where}: template_id_setting must look like LIXIAO_WX_TEMPLATE_<EVENT>")
    if not re.fullmatch(r"[a-z0-9_-]+(/[a-z0-9_-]+)+(\?[^\s]*)?", top["page"]):
        raise TemplateError(f"{where}: page must be a mini-program path without a leading slash")
    raw_fields = top["fields"]
    if not isinstance(raw_fields, list) or not 1 <= len(raw_fields) <= MAX_SUBSCRIBE_FIELDS:
        raise TemplateError(f"{where}: fields must list 1 to {MAX_SUBSCRIBE_FIELDS} keywords")
    fields = tuple(_parse_field(f"{where} fields[{i}]", raw) for i, raw in enumerate(raw_fields))
    if len({f.key for f in fields}) != len(fields):
        raise TemplateError(f"{where}: duplicate keyword")
    wecom = WecomCard(**_exact_keys(f"{where} wecom", top["wecom"], {"title", "description", "url", "btntxt"}))
    if not re.fullmatch(r"/[A-Za-z0-9/_.-]*(\?[A-Za-z0-9/_.=&%-]*)?", wecom.url):
        raise TemplateError(f"{where}: wecom url must be a path starting with / (a query is allowed)")
    if urlsplit(wecom.url).path == "/wecom/login" and not parse_qs(urlsplit(wecom.url).query).get("next"):
        raise TemplateError(f"{where}: a /wecom/login url must name the page to open: ?next=/…")
    if not 1 <= len(wecom.btntxt) <= WECOM_BTNTXT_MAX_CHARS:
        raise TemplateError(f"{where}: wecom btntxt must have 1 to {WECOM_BTNTXT_MAX_CHARS} characters")
    inapp = InappText(**_exact_keys(f"{where} inapp", top["inapp"], {"title", "title_en", "body", "body_en"}))
    for name, text in (("wecom title", wecom.title), ("wecom description", wecom.description)):
        _check_wording(f"{where} {name}", text)
    for name, text in zip(("title", "title_en", "body", "body_en"), _inapp_texts(inapp), strict=True):
        _check_wording(f"{where} inapp {name}", text)
    return MessageTemplate(top["key"], top["template_id_setting"], top["page"], fields, wecom, inapp)


def load_templates(directory: Path | str = TEMPLATES_DIR) -> dict[str, MessageTemplate]:
    """Every `<event>/template.json` under `directory`, checked, keyed by event."""
    templates: dict[str, MessageTemplate] = {}
    for path in sorted(Path(directory).glob("*/template.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{path}: not JSON: {exc}") from exc
        template = parse_template(data, str(path))
        if template.key != path.parent.name:
            raise TemplateError(f"{path}: key {template.key!r} differs from its folder name")
        templates[template.key] = template
    return templates


@functools.cache
def get_templates() -> Mapping[str, MessageTemplate]:
    """The project's templates, loaded once per process."""
    return MappingProxyType(load_templates())
