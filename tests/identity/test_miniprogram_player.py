"""scripts/miniprogram_player.py plays the mini-program flow against a live app and emulator."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.factories import ALL_PASSED, make_batch, make_student, set_records

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "miniprogram_player.py"


@pytest.fixture(scope="module")
def player() -> ModuleType:
    spec = importlib.util.spec_from_file_location("miniprogram_player", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def student(session, emulator):
    student = make_student(session, make_batch(session), name="演示乙")
    set_records(session, student, ALL_PASSED)
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "demo"})
    return student


def args(live, emulator, student_no: str, *extra: str) -> list[str]:
    return ["--student", student_no, "--base", live.url, "--emulator", emulator.url, *extra]


def test_the_player_logs_in_binds_and_prints_the_clearance(player, live, emulator, student, capsys):
    assert player.main(args(live, emulator, student.student_no)) == 0
    out = capsys.readouterr().out
    assert "bound: False" in out and "绑定成功" in out and "演示乙" in out
    assert out.count("✅ 通过 passed") == 4 and "可以提交" in out
    assert player.main(args(live, emulator, student.student_no)) == 0  # the second time it is bound
    assert "already bound" in capsys.readouterr().out


def test_the_player_reports_a_wrong_password(player, live, emulator, student, capsys):
    assert player.main(args(live, emulator, student.student_no, "--password", "wrong")) == 1
    assert "用户名或密码错误" in capsys.readouterr().err


def test_the_player_says_when_the_demo_is_not_running(player, capsys):
    assert player.main(["--base", "http://127.0.0.1:9", "--emulator", "http://127.0.0.1:9"]) == 1
    assert "make demo" in capsys.readouterr().err
