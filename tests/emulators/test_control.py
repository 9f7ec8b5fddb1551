"""The emulators' control API, reset, users file and command line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from server.emulators import EmulatorConfig, load_users_file
from server.emulators.testing import ManualClock, RunningEmulator, cas_login, running_emulator, ticket_from

SERVICE = "http://localhost:8000/cas/callback"


def _error(response: requests.Response) -> dict:
    body = response.json()["error"]
    assert body["message"] and body["message_en"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "wx/code", {}),
        ("POST", "wx/code", {"openid": ""}),
        ("POST", "wecom/code", {"userid": 5}),
        ("PUT", "wx/quota", {"openid": "o", "template_id": "t", "count": -1}),
        ("PUT", "wx/quota", {"openid": "o", "template_id": "t"}),
        ("POST", "faults", {"api": "nonexistent", "errcode": -1}),
        ("POST", "faults", {"api": "token"}),
        ("POST", "faults", {"api": "cas_validate", "errcode": 40001}),
        ("POST", "faults", {"api": "token", "errcode": -1, "times": 0}),
        ("POST", "cas/users", {"username": "x"}),
        (
            "POST",
            "cas/users",
            [{"username": "ok", "password": "p"}, {"username": "bad", "password": "p", "attributes": {"1x": "v"}}],
        ),
        ("PUT", "wecom/rate_limit", {"mode": "explode"}),
        ("POST", "wx/consent", {"openid": "o"}),
        ("PUT", "wx/release", {}),
        ("PUT", "wx/release", {"pages": "pages/status/index"}),
        ("PUT", "wx/release", {"pages": [""]}),
    ],
)
def test_bad_control_requests_are_400_and_change_nothing(
    emulator: RunningEmulator, method: str, path: str, body: object
) -> None:
    before = emulator.control("GET", "cas/users")
    response = requests.request(method, emulator.url + "_control/" + path, json=body, timeout=5)
    assert response.status_code == 400
    assert _error(response)["code"] == "BAD_REQUEST"
    assert emulator.control("GET", "cas/users") == before
    assert emulator.control("GET", "faults") == []
    assert emulator.control("GET", "wx/quota") == []


def test_cas_users_upsert_single_and_bulk_and_list_without_passwords(emulator: RunningEmulator) -> None:
    emulator.control("POST", "cas/users", {"username": "2027000001", "password": "demo", "attributes": {"cn": "甲"}})
    answer = emulator.control(
        "POST",
        "cas/users",
        [
            {"username": "2027000002", "password": "demo"},
            {"username": "2027000001", "password": "new", "attributes": {"cn": "甲乙"}},
        ],
    )
    assert answer == {"count": 2, "usernames": ["2027000002", "2027000001"]}
    users = {u["username"]: u for u in emulator.control("GET", "cas/users")}
    assert users["2027000001"]["attributes"] == {"cn": "甲乙"}
    assert {"admin", "library", "archives", "apartment", "finance", "counter"} <= set(users)
    assert all("password" not in u for u in users.values())
    client = emulator.cas_client(SERVICE)
    response = cas_login(requests.Session(), client.get_login_url(), "2027000001", "new")
    assert client.verify_ticket(ticket_from(response))[0] == "2027000001"


def test_staff_cannot_be_deleted_but_others_can(emulator: RunningEmulator) -> None:
    emulator.add_cas_users({"username": "temp", "password": "demo"})
    assert requests.delete(emulator.url + "_control/cas/users/admin", timeout=5).status_code == 409
    assert requests.delete(emulator.url + "_control/cas/users/temp", timeout=5).status_code == 204
    assert requests.delete(emulator.url + "_control/cas/users/temp", timeout=5).status_code == 404


def test_messages_from_both_platforms_oldest_first(emulator: RunningEmulator, clock: ManualClock) -> None:
    emulator.set_quota("o_1", "tmpl", 1)
    emulator.wechat_client().wxa.send_subscribe_message("o_1", "tmpl", {"thing1": {"value": "已通过"}})
    clock.advance(5)
    emulator.wecom_client().message.send_text_card(
        emulator.config.wecom_agentid, "admin", "标题", "描述", "http://127.0.0.1:8000/"
    )
    sent = emulator.messages()
    assert [(m["platform"], m["touser"]) for m in sent] == [("wechat", "o_1"), ("wecom", "admin")]
    assert sent[0]["received_at"] < sent[1]["received_at"]
    assert [m["touser"] for m in emulator.control("GET", "messages?touser=admin")] == ["admin"]
    assert emulator.stats()["messages"] == {"wechat": 1, "wecom": 1}


def test_faults_can_be_listed_queued_and_cleared(emulator: RunningEmulator) -> None:
    emulator.inject_fault("subscribe_send", 45009, times=2)
    emulator.inject_fault("subscribe_send", delay_ms=10)
    listed = emulator.control("GET", "faults")
    assert [(f["errcode"], f["times"], f["delay_ms"]) for f in listed] == [(45009, 2, 0), (None, 1, 10)]
    assert emulator.control("DELETE", "faults") == []


def test_reset_forgets_runtime_state_but_keeps_accounts(emulator: RunningEmulator) -> None:
    emulator.add_cas_users({"username": "temp", "password": "demo"})
    emulator.set_quota("o_1", "tmpl", 3)
    emulator.inject_fault("token", -1)
    code = emulator.mint_wx_code("o_1")
    emulator.control("POST", "reset")
    assert emulator.control("GET", "wx/quota") == []
    assert emulator.control("GET", "faults") == []
    assert "temp" not in {u["username"] for u in emulator.control("GET", "cas/users")}
    assert "admin" in {u["username"] for u in emulator.control("GET", "cas/users")}
    body = requests.get(
        emulator.url + "sns/jscode2session",
        params={
            "appid": emulator.config.wechat_appid,
            "secret": emulator.config.wechat_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        },
        timeout=5,
    ).json()
    assert body["errcode"] == 40029


def test_expired_codes_are_swept_when_tables_grow(
    emulator: RunningEmulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("server.emulators.state.PRUNE_ABOVE", 3)
    for n in range(4):
        emulator.mint_wx_code(f"o_{n}")
    clock.advance(300)
    fresh = emulator.mint_wx_code("o_fresh")
    assert list(emulator.state.wx_codes) == [fresh]


def test_configured_users_and_members_survive_reset(clock: ManualClock) -> None:
    config = EmulatorConfig(clock=clock, wecom_members=["2027000777"])
    config.cas_users = load_users_file(Path(__file__).parent / "roster_example.json")
    with running_emulator(config) as emulator:
        emulator.control("POST", "reset")
        names = {u["username"] for u in emulator.control("GET", "cas/users")}
        assert {"2027000101", "2027000102"} <= names
        assert emulator.control("POST", "wecom/code", {"userid": "2027000777"})["member"] is True
        assert emulator.control("POST", "wecom/code", {"userid": "2027000102"})["member"] is True


def test_command_line_serves_users_file(tmp_path: Path) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps([{"username": "2027000555", "password": "demo", "attributes": {"cn": "王五"}}]))
    process = subprocess.Popen(
        [sys.executable, "-m", "server.emulators", "--host", "127.0.0.1", "--port", "0", "--users-file", str(roster)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = banner.split(" on ", 1)[1].split("/ ", 1)[0] + "/"
        assert requests.get(url + "healthz", timeout=5).json()["status"] == "ok"
        users = {u["username"]: u for u in requests.get(url + "_control/cas/users", timeout=5).json()}
        assert users["2027000555"]["attributes"] == {"cn": "王五"}
        assert "counter" in users
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_command_line_rejects_a_bad_users_file(tmp_path: Path) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps([{"username": "no-password"}]))
    result = subprocess.run(
        [sys.executable, "-m", "server.emulators", "--port", "0", "--users-file", str(roster)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "password" in result.stderr


def test_each_consent_tap_allows_one_message(emulator: RunningEmulator) -> None:
    emulator.consent("o_tap", "t1")
    emulator.consent("o_tap", "t1")
    assert emulator.control("GET", "wx/quota") == [{"openid": "o_tap", "template_id": "t1", "count": 2}]
