"""Identity fixtures: the app on a known loopback port (its public URL is in its settings) beside an emulator.

The server socket is bound before the app is built, so `public_base_url` — from which every CAS service URL
is made — names the real port. `overrides` tweaks settings; parametrize it to change them for one test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from server.emulators import EmulatorConfig
from server.emulators.testing import ManualClock, RunningEmulator, running_emulator
from server.settings import Settings


def _not_ready(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready"]


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock (codes, tickets and platform tokens expire by it)."""
    return ManualClock(start=time.time())


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningEmulator]:
    """WeChat, WeCom and CAS emulators on an ephemeral port."""
    with running_emulator(EmulatorConfig(clock=clock)) as running:
        yield running


@pytest.fixture
def http_server() -> Iterator[BaseWSGIServer]:
    """A bound loopback socket; `live` puts the app behind it."""
    server = make_server("127.0.0.1", 0, _not_ready, threaded=True)
    yield server
    server.server_close()


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Extra settings for one test (parametrize `overrides` to set them)."""
    return {}


@pytest.fixture
def settings(settings: Settings, emulator: RunningEmulator, http_server: BaseWSGIServer,
             overrides: dict[str, Any]) -> Settings:
    """The suite's settings aimed at this test's emulator and public address."""
    return settings.with_overrides(**{
        "public_base_url": f"http://127.0.0.1:{http_server.server_port}",
        "wx_api_base": emulator.url,
        "wecom_api_base": emulator.url + "qy/cgi-bin/",
        "wecom_oauth_url": emulator.url + "qy/connect/oauth2/authorize",
        "cas_server_url": emulator.cas_url,
        "outside_timeout_seconds": 2.0,
        **overrides,
    })


@dataclass
class Live:
    """The app served on the pre-bound socket."""

    url: str
    server: BaseWSGIServer


@pytest.fixture
def live(app, http_server: BaseWSGIServer) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    """The app over real HTTP at `settings.public_base_url`."""
    http_server.app = app
    thread = threading.Thread(target=http_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield Live(f"http://127.0.0.1:{http_server.server_port}", http_server)
    http_server.shutdown()
    thread.join(5)
