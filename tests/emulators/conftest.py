"""Fixtures: a live emulator on an ephemeral loopback port with a hand-moved clock."""

from collections.abc import Iterator

import pytest

from server.emulators import EmulatorConfig
from server.emulators.testing import ManualClock, RunningEmulator, running_emulator


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock(start=1_800_000_000.0)


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningEmulator]:
    """A fresh emulator serving real HTTP for one test."""
    with running_emulator(EmulatorConfig(clock=clock)) as running:
        yield running
