"""App-wide wiring: which client address the app believes behind a reverse proxy."""

from __future__ import annotations

import pytest
import requests

from server.app import create_app
from server.settings import SettingsError, load_settings
from tests.conftest import LiveServer


def _login_statuses(settings, forwarded_for: list[str]) -> list[int]:
    """GET /login (limited per client address) once per X-Forwarded-For value."""
    app = create_app(settings.with_overrides(rate_limit_per_ip=2))
    app.extensions["lixiao"].redis.flushdb()
    server = LiveServer(app)
    try:
        return [requests.get(f"{server.url}/login", headers={"X-Forwarded-For": address}, allow_redirects=False,
                             timeout=10).status_code for address in forwarded_for]
    finally:
        server.stop()
        app.extensions["lixiao"].redis.flushdb()
        app.extensions["lixiao"].engine.dispose()


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(settings):
    assert _login_statuses(settings, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) == [302, 302, 429]


def test_behind_one_proxy_each_client_address_has_its_own_limit(settings):
    proxied = settings.with_overrides(trusted_proxies=1)
    assert _login_statuses(proxied, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) == [302, 302, 302]
    # A client prepending a forged address gains nothing: only the hop the proxy appended counts.
    assert _login_statuses(proxied, ["1.1.1.1, 10.0.0.9", "2.2.2.2, 10.0.0.9", "3.3.3.3, 10.0.0.9"]) == [302, 302, 429]


def test_trusted_proxies_is_read_from_the_environment_and_checked():
    assert load_settings({"LIXIAO_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    with pytest.raises(SettingsError, match="LIXIAO_TRUSTED_PROXIES"):
        load_settings({"LIXIAO_TRUSTED_PROXIES": "-1"})
