"""Words for codes: every way a record arrives has words, no stored code reaches a page as it is, and the words
are kept in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server import vocabulary
from server.certificates.models import SCAN_RESULTS
from server.vocabulary import actor_label, cause_label, scan_label, source_label

SERVER = Path(__file__).resolve().parents[1] / "server"
TEMPLATE_PAIR = re.compile(r"""["'](\w+)["']\s*:\s*\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']\s*\)""")


def test_every_source_a_record_is_written_with_has_words():
    for source in ("http", "fake", "local", "api", "import"):
        zh, en = source_label(source)
        assert zh and en and source not in (zh, en)


def test_a_console_entry_names_the_staff_not_their_account():
    assert source_label("console:lib-teacher") == ("部门老师录入", "Entered by department staff")


def test_no_source_is_no_words_and_an_unknown_one_is_not_shown_as_its_code():
    assert source_label("") == ("", "")
    assert source_label("ftp-drop") == ("其他来源", "Another source")


def test_a_status_change_says_why_in_words():
    assert cause_label("console:move_out") == source_label("console")
    assert cause_label("import:library") == source_label("import")
    for cause in ("refresh", "roster", "card_cancelled", "demo"):
        zh, en = cause_label(cause)
        assert zh and en and cause not in (zh, en)
    assert cause_label("something-new") == ("其他原因", "Another cause")


def test_a_change_names_the_staff_by_username_and_others_in_words():
    assert actor_label("staff:lib-teacher") == ("lib-teacher", "lib-teacher")
    for actor in ("student:TS00000001", "system:cli", "system:http-library", "department_key:lib-1"):
        zh, en = actor_label(actor)
        assert zh and en and ":" not in zh + en
    assert actor_label("someone") == ("其他", "Someone else")


def test_every_scan_result_and_channel_has_words():
    for result in SCAN_RESULTS:
        for channel in ("public", "console", "console-wecom", "api-wechat", "api-wecom"):
            (zh, en), (where, where_en) = scan_label(result, channel)
            assert zh and en and where and where_en and result not in (zh, en) and channel not in (where, where_en)
    assert scan_label("new", "fax")[1] == ("其他渠道", "Another channel")


def _vocabulary() -> dict[str, set[tuple[str, str]]]:
    """Every (code, words) entry of the vocabulary's tables, by code."""
    entries: dict[str, set[tuple[str, str]]] = {}
    for value in vars(vocabulary).values():
        if isinstance(value, dict):
            for code, pair in value.items():
                if isinstance(code, str) and isinstance(pair, tuple) and len(pair) == 2:
                    entries.setdefault(code, set()).add(pair)
    return entries


def test_no_page_or_module_keeps_its_own_copy_of_the_vocabulary():
    """One vocabulary: a table elsewhere giving a code the vocabulary's words for it is a copy that will drift."""
    known = _vocabulary()
    copies = []
    for path in sorted(SERVER.rglob("*.py")):
        if path.name == "vocabulary.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Tuple) and len(value.elts) == 2 \
                        and all(isinstance(e, ast.Constant) for e in value.elts):
                    pair = tuple(e.value for e in value.elts)  # type: ignore[attr-defined]
                    if pair in known.get(key.value, set()):
                        copies.append(f"{path.relative_to(SERVER.parent)}:{key.lineno} {key.value}")
    for path in sorted((SERVER / "templates").rglob("*.html")):
        for code, zh, en in TEMPLATE_PAIR.findall(path.read_text(encoding="utf-8")):
            if (zh, en) in known.get(code, set()):
                copies.append(f"{path.relative_to(SERVER.parent)} {code}")
    assert not copies, f"copies of the vocabulary: {copies}"
