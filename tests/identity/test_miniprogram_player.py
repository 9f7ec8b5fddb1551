"""scripts/miniprogram_player.py plays the mini-program flow against a live app and emulator."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select

from server.certificates.models import Certificate
from server.certificates.service import revoke_certificate
from server.timeutil import utcnow
from tests.certificates.conftest import make_staff
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch, make_student, set_records

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
    assert out.count("✅ 通过 passed") == len(ITEM_KEYS) and "可以提交" in out
    assert player.main(args(live, emulator, student.student_no)) == 0  # the second time it is bound
    assert "already bound" in capsys.readouterr().out


def test_the_player_reports_a_wrong_password(player, live, emulator, student, capsys):
    assert player.main(args(live, emulator, student.student_no, "--password", "wrong")) == 1
    assert "用户名或密码错误" in capsys.readouterr().err


def test_the_player_says_when_the_demo_is_not_running(player, capsys):
    assert player.main(["--base", "http://127.0.0.1:9", "--emulator", "http://127.0.0.1:9"]) == 1
    assert "make demo" in capsys.readouterr().err


def test_the_player_plays_on_to_the_certificate_and_honours_the_ports(player, live, emulator, student, capsys,
                                                                      monkeypatch):
    monkeypatch.setenv("PORT", live.url.rsplit(":", 1)[1])
    monkeypatch.setenv("EMULATOR_PORT", emulator.url.rstrip("/").rsplit(":", 1)[1])
    assert player.main(["--student", student.student_no]) == 0
    out = capsys.readouterr().out
    assert "POST /api/v1/me/application" in out and "GET /api/v1/me/certificate → LX" in out
    assert "push consent" in out  # it says what binding the player's identity does to the demo's pushes


def staff_account(session, emulator, role: str, username: str, **kw):
    """A staff member who can log in at the CAS emulator (password demo)."""
    staff = make_staff(session, role, username=username, **kw)
    session.commit()
    emulator.add_cas_users({"username": username, "password": "demo"})
    return staff


@pytest.fixture
def certificate(player, live, emulator, student, capsys) -> str:
    """The student plays to the certificate; the verification URL the player printed."""
    assert player.main(args(live, emulator, student.student_no)) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "GET /api/v1/me/certificate" in x)
    return line.rsplit(" ", 1)[1]


def test_the_counter_finds_the_students_certificate_valid(player, session, live, emulator, student, certificate,
                                                          capsys, monkeypatch):
    staff_account(session, emulator, "counter", "counter", name="窗口甲")
    monkeypatch.setenv("PORT", live.url.rsplit(":", 1)[1])
    monkeypatch.setenv("EMULATOR_PORT", emulator.url.rstrip("/").rsplit(":", 1)[1])
    assert player.main(["--as", "counter", "--student", student.student_no]) == 0  # the student's phone shows it
    out = capsys.readouterr().out
    assert "staff counter (counter)" in out and "POST /api/v1/counter/verify → HTTP 200" in out
    assert "✅ 有效 Valid" in out
    assert f"学号 Student number: {student.student_no}" in out and "姓名 Name: 演示乙" in out
    assert f"学院 College: {student.college}" in out
    # The printed QR text, scanned as the URL and as the bare token, is the same valid certificate.
    token = certificate.rsplit("/", 1)[1]
    assert player.main(["--as", "counter", "--qr", certificate, "--base", live.url, "--emulator", emulator.url]) == 0
    assert player.main(["--as", "counter", "--token", token, "--base", live.url, "--emulator", emulator.url]) == 0
    assert capsys.readouterr().out.count("✅ 有效 Valid") == 2


def test_the_counter_is_told_a_revoked_certificate(player, session, live, emulator, student, certificate, capsys):
    staff_account(session, emulator, "counter", "counter")
    admin = staff_account(session, emulator, "admin", "admin1")
    revoke_certificate(session, session.scalars(select(Certificate.serial)).one(), "信息有误，已重新办理", admin,
                       utcnow())
    session.commit()
    assert player.main(["--as", "counter", "--qr", certificate, "--base", live.url,
                        "--emulator", emulator.url]) == 3  # not valid: neither 0 nor a failed step
    out = capsys.readouterr().out
    assert "⛔ 已撤销 Revoked — LX" in out and "信息有误，已重新办理" in out and "有效 Valid" not in out
    assert "演示乙" not in out and student.student_no not in out.split("verify")[1]


def test_the_counter_is_told_a_forged_certificate(player, session, live, emulator, student, certificate, capsys):
    staff_account(session, emulator, "counter", "counter")
    head, signature = certificate.rsplit(".", 1)
    forged = f"{head}.{('A' if signature[5] != 'A' else 'B').join((signature[:5], signature[6:]))}"
    assert player.main(["--as", "counter", "--qr", forged, "--base", live.url,
                        "--emulator", emulator.url]) == 3  # not valid: neither 0 nor a failed step
    out = capsys.readouterr().out
    assert "❌ 伪造或被篡改 Forged" in out and "signature is invalid" in out and "演示乙" not in out


@pytest.mark.parametrize("who", ["operator", "student"])
def test_the_counter_refuses_whoever_is_not_counter_staff(player, session, live, emulator, student, certificate,
                                                          capsys, who):
    username = student.student_no
    if who == "operator":
        username = staff_account(session, emulator, "operator", "library1", department="library").username
    code = player.main(["--as", "counter", "--staff", username, "--qr", certificate, "--base", live.url,
                        "--emulator", emulator.url])
    captured = capsys.readouterr()
    assert code == 1 and "HTTP 403" in captured.err and "FORBIDDEN" in captured.err
    assert "Valid" not in captured.out and "演示乙" not in captured.out.split("verify")[-1]
