"""Fixtures of the push tests: an emulator on a loopback port and the app's settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.emulators.config import EmulatorConfig
from server.emulators.testing import ManualClock, RunningEmulator, running_emulator
from server.messaging.worker import Worker
from server.settings import Settings

DEMO_TEMPLATE_IDS = frozenset({"demo-tmpl-item-passed", "demo-tmpl-all-passed", "demo-tmpl-certificate-issued",
                               "demo-tmpl-batch-closing-reminder", "demo-tmpl-wechat-bound"})


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock; tests move it to expire tokens or rate-limit windows."""
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[RunningEmulator]:
    """WeChat and WeCom emulators that know only our template ids and start every quota at 0."""
    with running_emulator(EmulatorConfig(clock=clock, wechat_template_ids=DEMO_TEMPLATE_IDS)) as emu:
        yield emu


@pytest.fixture
def settings(settings: Settings, emulator: RunningEmulator) -> Settings:
    """The suite's settings with both platforms on the emulator and quick retries."""
    return settings.with_overrides(wx_api_base=emulator.url, wecom_api_base=emulator.url + "qy/cgi-bin/",
                                   outbox_retry_base_seconds=0.01, worker_poll_seconds=0.02)


@pytest.fixture
def worker(app) -> Worker:  # type: ignore[no-untyped-def]
    """A worker sharing the app's engine, Redis and sources."""
    state = app.extensions["lixiao"]
    return Worker(state.settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
