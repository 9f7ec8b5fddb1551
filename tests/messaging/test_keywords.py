"""Subscribe keywords come from the account: check/sync against gettemplate, held pushes, /readyz and /metrics."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from server import cli as cli_module
from server.clearance.events import OutboxEvent, event_row, insert_events
from server.emulators.config import DEMO_ACCOUNT_TEMPLATES, EmulatorConfig
from server.emulators.testing import ManualClock, RunningEmulator, running_emulator
from server.messaging import keywords
from server.messaging.templates import get_templates
from server.platforms.wechat import parse_template_content
from server.settings import Settings
from server.timeutil import utcnow
from tests.factories import make_batch
from tests.messaging.conftest import DEMO_TEMPLATE_IDS
from tests.messaging.pushes import openid_of, reachable_student, statuses

ITEM_TEMPLATE = "demo-tmpl-item-passed"


def _without(name: str) -> tuple[dict[str, Any], ...]:
    """The demo account, its item-passed template lacking the keyword `name`."""
    def cut(t: dict[str, Any]) -> dict[str, Any]:
        if t["priTmplId"] != ITEM_TEMPLATE:
            return t
        return {**t, "content": "\n".join(line for line in t["content"].split("\n") if not line.startswith(name))}
    return tuple(cut(t) for t in DEMO_ACCOUNT_TEMPLATES)


@pytest.fixture
def account() -> tuple[dict[str, Any], ...]:
    """The account's templates as the emulator holds them (parametrize to change)."""
    return DEMO_ACCOUNT_TEMPLATES


@pytest.fixture
def emulator(clock: ManualClock, account: tuple[dict[str, Any], ...]) -> Iterator[RunningEmulator]:
    """An emulator holding the account's templates, whose keys are not thing1, phrase2…"""
    with running_emulator(EmulatorConfig(clock=clock, wechat_template_ids=DEMO_TEMPLATE_IDS,
                                         wechat_templates=account)) as emu:
        yield emu


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    """Settings with a keyword file of this test's own (absent until synced)."""
    return settings.with_overrides(wx_keywords_file=str(tmp_path / "wechat-keywords.json"))


def _run(settings: Settings, monkeypatch, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli_module, "_settings", lambda: settings)
    return CliRunner().invoke(cli_module.cli, ["wechat-templates", *args])


def _queue_item_passed(session, emulator) -> Any:  # type: ignore[no-untyped-def]
    student = reachable_student(session, make_batch(session), consents={"item_passed": 1})
    now = utcnow()
    insert_events(session, [event_row(student.id, "item_passed", "item_passed:k:library",
                                      {"batch_id": student.batch_id, "item": "library",
                                       "changed_at": now.isoformat()}, now)])
    session.commit()
    emulator.set_quota(openid_of(student), ITEM_TEMPLATE, 1)
    return student


def test_template_content_names_each_keyword_and_its_key() -> None:
    [first] = [t for t in DEMO_ACCOUNT_TEMPLATES if t["priTmplId"] == ITEM_TEMPLATE]
    found = parse_template_content(first["content"])
    assert [(k.name, k.key) for k in found][:2] == [("办理事项", "thing7"), ("办理结果", "phrase12")]
    assert parse_template_content("学生姓名：{{name3.DATA}}")[0].key == "name3"  # a full-width colon too


def test_sync_maps_every_event_by_keyword_name_and_check_agrees(app, settings, emulator, monkeypatch) -> None:
    result = _run(settings, monkeypatch, "sync")
    assert result.exit_code == 0, result.output
    saved = json.loads(Path(settings.wx_keywords_file).read_text(encoding="utf-8"))
    assert saved["item_passed"] == {"办理事项": "thing7", "办理结果": "phrase12", "学生姓名": "name3",
                                    "通过时间": "time15", "温馨提示": "thing9"}
    assert set(saved) == set(get_templates())
    assert emulator.stats()["calls"]["gettemplate"] == 1
    assert _run(settings, monkeypatch, "check").exit_code == 0


@pytest.mark.parametrize("account", [_without("温馨提示")])
def test_check_names_every_missing_keyword(app, settings, emulator, monkeypatch) -> None:
    result = _run(settings, monkeypatch, "check")
    assert result.exit_code == 1
    assert "MISSING item_passed: keyword 温馨提示 (Note, thing) is missing from demo-tmpl-item-passed" in result.output
    assert "ok      all_passed" in result.output


def test_check_without_a_synced_file_says_it_is_stale(app, settings, emulator, monkeypatch) -> None:
    result = _run(settings, monkeypatch, "check")
    assert result.exit_code == 1 and "STALE   item_passed" in result.output  # the defaults are thing1, phrase2…


def test_the_worker_sends_with_the_accounts_keys_once_synced(app, session, settings, worker, emulator,
                                                            monkeypatch) -> None:
    assert _run(settings, monkeypatch, "sync").exit_code == 0
    _queue_item_passed(session, emulator)
    worker.run_once()
    assert statuses(session) == {"sent": 1}
    [message] = emulator.messages("wechat")
    assert set(message["data"]) == {"thing7", "phrase12", "name3", "time15", "thing9"}


def test_with_the_default_keys_the_real_account_refuses_every_send(app, session, settings, worker, emulator) -> None:
    """Why the mapping matters: templates_msg's own keys (thing1…) fail with 47003 on this account."""
    _queue_item_passed(session, emulator)
    worker.run_once()
    assert statuses(session) == {"refused": 1}
    assert emulator.messages("wechat") == []


@pytest.mark.parametrize("account", [_without("温馨提示")])
def test_a_missing_keyword_holds_pushes_and_readyz_and_metrics_say_so(app, session, settings, worker, emulator,
                                                                       monkeypatch) -> None:
    assert _run(settings, monkeypatch, "sync").exit_code == 1  # written all the same: the rest is usable
    _queue_item_passed(session, emulator)
    worker.run_once()
    worker.run_once()
    assert statuses(session) == {"pending": 1}
    row = session.scalars(select(OutboxEvent)).one()
    assert row.reason == "keywords_missing" and row.attempts == 0 and row.next_attempt_at is not None
    session.commit()
    assert emulator.stats()["calls"]["subscribe_send"] == 0  # no spray of failing sends
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["warnings"]["subscribe_keywords"] == "item_passed: 温馨提示 missing"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'lixiao_subscribe_keywords_missing{event="item_passed"} 1.0' in metrics
    assert 'lixiao_subscribe_keywords_missing{event="all_passed"} 0.0' in metrics
    assert 'lixiao_outbox_held{reason="keywords_missing"} 1.0' in metrics


def test_production_without_a_mapping_has_no_keys(settings) -> None:
    templates = get_templates()
    prod = dataclasses.replace(settings, env="production", wx_keywords_file="/nonexistent/wechat-keywords.json")
    assert keywords.missing(templates, keywords.load_map(prod, templates)).keys() == templates.keys()
    development = settings.with_overrides(wx_keywords_file="")
    assert keywords.load_map(development, templates) == keywords.default_map(templates)
