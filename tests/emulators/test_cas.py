"""The CAS emulator, driven by python-cas 1.7.2 (CAS 1, 2 and 3) over real HTTP."""

import pytest
import requests

from server.emulators import EmulatorConfig
from server.emulators.testing import (
    ManualClock,
    RunningEmulator,
    cas_login,
    fill_cas_form,
    running_emulator,
    ticket_from,
)

SERVICE = "http://127.0.0.1:5000/cas/callback?next=%2Fhome"

STUDENT = {
    "username": "2027000123",
    "password": "demo",
    "attributes": {"cn": "张三", "userType": "student", "department": "计算机学院", "groups": ["a", "b"]},
}


@pytest.fixture
def student(emulator: RunningEmulator) -> dict:
    emulator.add_cas_users(STUDENT)
    return STUDENT


DEMO_PASSWORD = "demo"


def _login(emulator: RunningEmulator, version: int = 3, username: str = "2027000123", password: str = DEMO_PASSWORD):
    """Log in through the form; return the python-cas client, the browser session and the POST answer."""
    client = emulator.cas_client(SERVICE, version=version)
    session = requests.Session()
    return client, session, cas_login(session, client.get_login_url(), username, password)


def test_login_form_is_bilingual_and_carries_lt_and_service(emulator: RunningEmulator) -> None:
    page = requests.get(emulator.cas_url + "login", params={"service": SERVICE}, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for text in ("统一身份认证", "Unified Identity Authentication", "用户名", "Username", "密码", "Password"):
        assert text in page.text
    assert 'name="lt" value="LT-' in page.text
    assert f'name="service" value="{SERVICE}"'.replace("&", "&amp;") in page.text


def test_v3_login_gives_a_ticket_with_attributes(emulator: RunningEmulator, student: dict) -> None:
    client, _, response = _login(emulator)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SERVICE + "&ticket=ST-")
    user, attributes, _ = client.verify_ticket(ticket_from(response))
    assert user == "2027000123"
    assert attributes["cn"] == "张三"
    assert attributes["department"] == "计算机学院"
    assert attributes["groups"] == ["a", "b"]
    assert attributes["isFromNewLogin"] == "true"


def test_v2_validation_gives_the_user_without_attributes(emulator: RunningEmulator, student: dict) -> None:
    client, _, response = _login(emulator, version=2)
    user, attributes, _ = client.verify_ticket(ticket_from(response))
    assert (user, attributes) == ("2027000123", None)


def test_v2_attributes_can_be_switched_on(clock: ManualClock) -> None:
    with running_emulator(EmulatorConfig(clock=clock, cas_v2_attributes=True)) as emulator:
        client, _, response = _login(emulator, version=2, username="finance")
        user, attributes, _ = client.verify_ticket(ticket_from(response))
    assert user == "finance"
    assert attributes["userType"] == "staff"


def test_v1_validation(emulator: RunningEmulator, student: dict) -> None:
    client, _, response = _login(emulator, version=1)
    assert client.verify_ticket(ticket_from(response)) == ("2027000123", None, None)


def test_ticket_is_single_use(emulator: RunningEmulator, student: dict) -> None:
    client, _, response = _login(emulator)
    ticket = ticket_from(response)
    assert client.verify_ticket(ticket)[0] == "2027000123"
    assert client.verify_ticket(ticket)[0] is None
    raw = requests.get(
        emulator.cas_url + "p3/serviceValidate", params={"ticket": ticket, "service": SERVICE}, timeout=5
    )
    assert '<cas:authenticationFailure code="INVALID_TICKET">' in raw.text


def test_service_must_match_exactly(emulator: RunningEmulator, student: dict) -> None:
    _, _, response = _login(emulator)
    ticket = ticket_from(response)
    other = SERVICE.replace("%2Fhome", "%2Fother")
    raw = requests.get(emulator.cas_url + "serviceValidate", params={"ticket": ticket, "service": other}, timeout=5)
    assert raw.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert raw.text.startswith('<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">')
    assert '<cas:authenticationFailure code="INVALID_SERVICE">' in raw.text
    # A failed validation consumes the ticket, as the CAS protocol requires.
    assert emulator.cas_client(SERVICE).verify_ticket(ticket)[0] is None


def test_ticket_expires(emulator: RunningEmulator, student: dict, clock: ManualClock) -> None:
    client, _, response = _login(emulator)
    clock.advance(300)
    assert client.verify_ticket(ticket_from(response))[0] is None


def test_wrong_password_shows_the_form_again(emulator: RunningEmulator, student: dict) -> None:
    _, _, response = _login(emulator, password="wrong")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    assert "Wrong username or password" in response.text
    assert 'name="lt"' in response.text


def test_a_login_form_can_be_posted_once(emulator: RunningEmulator, student: dict) -> None:
    client = emulator.cas_client(SERVICE)
    session = requests.Session()
    page = session.get(client.get_login_url(), timeout=5)
    form = fill_cas_form(page.text, "2027000123", "demo")
    assert session.post(client.get_login_url(), data=form, allow_redirects=False, timeout=5).status_code == 302
    replay = requests.post(client.get_login_url(), data=form, allow_redirects=False, timeout=5)
    assert replay.status_code == 200
    assert "expired" in replay.text


def test_a_login_form_left_open_too_long_expires(emulator: RunningEmulator, student: dict, clock: ManualClock) -> None:
    client = emulator.cas_client(SERVICE)
    session = requests.Session()
    form = fill_cas_form(session.get(client.get_login_url(), timeout=5).text, "2027000123", "demo")
    clock.advance(1800)
    late = session.post(client.get_login_url(), data=form, allow_redirects=False, timeout=5)
    assert late.status_code == 200
    assert "expired" in late.text


def test_sso_cookie_redirects_at_once_and_renew_asks_again(emulator: RunningEmulator, student: dict) -> None:
    client, session, first = _login(emulator)
    second = session.get(client.get_login_url(), allow_redirects=False, timeout=5)
    assert second.status_code == 302
    ticket = ticket_from(second)
    assert ticket != ticket_from(first)
    user, attributes, _ = client.verify_ticket(ticket)
    assert user == "2027000123"
    assert attributes["isFromNewLogin"] == "false"
    renew = session.get(client.get_login_url() + "&renew=true", allow_redirects=False, timeout=5)
    assert renew.status_code == 200
    assert 'name="password"' in renew.text


def test_logout_ends_sso_and_returns_to_the_service(emulator: RunningEmulator, student: dict) -> None:
    client, session, _ = _login(emulator)
    back = session.get(client.get_logout_url("http://127.0.0.1:5000/"), allow_redirects=False, timeout=5)
    assert back.status_code == 302
    assert back.headers["Location"] == "http://127.0.0.1:5000/"
    again = session.get(client.get_login_url(), allow_redirects=False, timeout=5)
    assert again.status_code == 200
    assert 'name="password"' in again.text


def test_unregistered_service_is_refused(emulator: RunningEmulator, student: dict) -> None:
    page = requests.get(emulator.cas_url + "login", params={"service": "https://evil.example/steal"}, timeout=5)
    assert page.status_code == 403
    assert "not registered" in page.text


def test_staff_accounts_exist_with_password_demo(emulator: RunningEmulator) -> None:
    for username in ("admin", "library", "archives", "apartment", "finance", "counter"):
        client, _, response = _login(emulator, username=username)
        assert client.verify_ticket(ticket_from(response))[0] == username


def test_cas_login_http_fault(emulator: RunningEmulator) -> None:
    emulator.inject_fault("cas_login", http_status=503)
    assert requests.get(emulator.cas_url + "login", timeout=5).status_code == 503
    assert requests.get(emulator.cas_url + "login", timeout=5).status_code == 200
