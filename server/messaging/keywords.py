"""Which keyword key of the account's subscribe template carries each field of an event: per-deployment data.

On the real platform the keys (`thing7`, `phrase12`…) are fixed by the public-library template each account
template was added from (`rule+kid`), so they differ from account to account. `templates_msg/*/template.json`
names each field by its keyword name (`label`, e.g. 办理事项) and keeps its `key` only as the development default.
The mapping event → {keyword name → key} lives in `LIXIAO_WX_KEYWORDS_FILE` (JSON), written by
`python -m server.cli wechat-templates sync`, which reads the account's templates (`wxaapi/newtmpl/gettemplate`)
and matches the keywords by name. Without the file, development uses the defaults and production has none.

A template with a needed keyword missing (or of another type) is not sent: the worker holds its pushes
(`keywords_missing`), and /readyz and /metrics name what is missing.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from server.messaging.templates import MessageTemplate
from server.platforms.wechat import AccountTemplate
from server.settings import Settings, wx_template_id

log = logging.getLogger(__name__)

KeywordMap = dict[str, dict[str, str]]  # event -> {keyword name -> the account template's key}
_TYPE = re.compile(r"^([a-z_]+?)([0-9]+)$")

_loaded: dict[str, tuple[float, KeywordMap]] = {}  # path -> (mtime, map): reread when the file changes


def keyword_type(key: str) -> str:
    """The rule of a keyword key: "thing" for "thing7"."""
    match = _TYPE.match(key)
    return match.group(1) if match else key


def default_map(templates: Mapping[str, MessageTemplate]) -> KeywordMap:
    """The keys written in templates_msg (development and the emulator's plain mode)."""
    return {event: {f.label: f.key for f in t.fields} for event, t in templates.items()}


def load_map(settings: Settings, templates: Mapping[str, MessageTemplate]) -> KeywordMap:
    """The deployment's mapping: the file if configured and present; else the defaults, or none in production."""
    path = settings.wx_keywords_file
    if not path or not os.path.exists(path):
        if path and settings.is_production:
            return {}
        return default_map(templates)
    mtime = os.path.getmtime(path)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.error("cannot read the subscribe keyword file %s: %s", path, exc)
        return {}
    mapping = {str(event): {str(name): str(key) for name, key in keys.items()}
               for event, keys in raw.items() if isinstance(keys, dict)} if isinstance(raw, dict) else {}
    _loaded[path] = (mtime, mapping)
    return mapping


def save_map(path: str, mapping: KeywordMap) -> None:
    """Write the mapping (atomically: a worker reading it meanwhile sees the old or the new file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(target.suffix + ".tmp")
    temporary.write_text(json.dumps(mapping, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(target)


def missing(templates: Mapping[str, MessageTemplate], mapping: KeywordMap) -> dict[str, list[str]]:
    """Per event, the keyword names with no key of the right type in the mapping (events complete are left out)."""
    gaps = {}
    for event, template in templates.items():
        keys = mapping.get(event, {})
        names = [f.label for f in template.fields
                 if f.label not in keys or keyword_type(keys[f.label]) != f.type]
        if names:
            gaps[event] = names
    return gaps


def missing_now(settings: Settings) -> dict[str, list[str]]:
    """`missing` for the project's templates and this deployment's mapping (for /readyz and /metrics)."""
    from server.messaging.templates import get_templates

    templates = get_templates()
    return missing(templates, load_map(settings, templates))


def keys_for(template: MessageTemplate, mapping: KeywordMap) -> dict[str, str]:
    """Field key in templates_msg -> the account's key, for rendering; raises KeyError if one is missing."""
    keys = mapping[template.key]
    return {f.key: keys[f.label] for f in template.fields}


@dataclass
class Comparison:
    """templates_msg against the account's templates: the mapping found by name, and what is missing."""

    mapping: KeywordMap = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)  # event -> sentences naming each gap
    extra: dict[str, list[str]] = field(default_factory=dict)  # event -> account keywords nothing fills

    @property
    def ok(self) -> bool:
        """True when every keyword of every event was found."""
        return not self.problems


def compare(settings: Settings, templates: Mapping[str, MessageTemplate],
            account: list[AccountTemplate]) -> Comparison:
    """Match each event's fields to its account template's keywords by name, naming every one not found."""
    by_id = {t.template_id: t for t in account}
    result = Comparison()
    for event, template in sorted(templates.items()):
        template_id = wx_template_id(settings, template.template_id_setting)
        held = by_id.get(template_id)
        if held is None:
            result.problems[event] = [f"the account has no template {template_id} ({template.template_id_setting})"]
            continue
        names = {k.name: k.key for k in held.keywords}
        keys, gaps = {}, []
        for f in template.fields:
            key = names.get(f.label)
            if key is None:
                gaps.append(f"keyword {f.label} ({f.label_en}, {f.type}) is missing from {template_id}")
            elif keyword_type(key) != f.type:
                gaps.append(f"keyword {f.label} is {key} in {template_id}, expected a {f.type}")
            else:
                keys[f.label] = key
        result.mapping[event] = keys
        if gaps:
            result.problems[event] = gaps
        unused = sorted(set(names) - {f.label for f in template.fields})
        if unused:
            result.extra[event] = unused
    return result
