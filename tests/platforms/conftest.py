"""Fixtures of the platform adapter tests: the emulators on a loopback port and the app's settings aimed at them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from server.emulators.config import EmulatorConfig
from server.emulators.testing import ManualClock, RunningEmulator, running_emulator
from server.settings import Settings


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock."""
    return ManualClock(start=time.time())


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningEmulator]:
    """WeChat and WeCom emulators; every quota starts at 0."""
    with running_emulator(EmulatorConfig(clock=clock)) as emu:
        yield emu


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Extra settings for one test (parametrize `overrides` to set them)."""
    return {}


@pytest.fixture
def settings(settings: Settings, emulator: RunningEmulator, overrides: dict[str, Any]) -> Settings:
    """The suite's settings with both platforms on the emulator."""
    return settings.with_overrides(**{"wx_api_base": emulator.url, "wecom_api_base": emulator.url + "qy/cgi-bin/",
                                      "outside_timeout_seconds": 2.0, **overrides})
