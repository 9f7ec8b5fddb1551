"""`make demo`'s service account: a demo student follows through the emulator's real (signed, encrypted) callback,
and an item turning green reaches them as a template message that opens the mini-program page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from server.app import create_app
from server.emulators.service_account import DEMO_APPID
from server.messaging.demo import prepare_demo_pushes
from server.messaging.followers import ServiceAccountFollower
from server.messaging.service_account_demo import prepare_demo_follower
from server.messaging.worker import Worker
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, make_batch
from tests.messaging.pushes import RED, drain, import_records, reachable_student


@pytest.fixture
def live(settings, emulator) -> Iterator[tuple[object, object]]:  # type: ignore[no-untyped-def]
    """The app served over HTTP, with the service account on the emulator and its public URL its own."""
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{server.port}"
    app = create_app(settings.with_overrides(sa_appid=DEMO_APPID, sa_api_base=emulator.url + "sa/",
                                             public_base_url=url))
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, url
    server.shutdown()
    app.extensions["lixiao"].redis.flushdb()


def test_a_following_demo_student_gets_a_template_message_when_an_item_turns_green(live, session, emulator,
                                                                                   app) -> None:
    live_app, _ = live
    state = live_app.extensions["lixiao"]
    batch = make_batch(session)
    student = reachable_student(session, batch, bound=False)
    import_records(session, state.settings, [student], RED)
    session.commit()
    [number] = prepare_demo_pushes(session, state.settings, emulator.url, utcnow())
    openid = prepare_demo_follower(session, state.settings, emulator.url, number, utcnow())
    deadline = time.monotonic() + 10
    while session.scalar(select(ServiceAccountFollower.student_id)) != student.id:
        session.commit()
        assert time.monotonic() < deadline, emulator.control("GET", "sa/callbacks")
        time.sleep(0.05)
    item = next(iter(ALL_PASSED))
    import_records(session, state.settings, [student], {item: ALL_PASSED[item]})  # an operator clears one item
    session.commit()
    worker = Worker(state.settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
    counts = drain(worker, session)
    messages = emulator.messages()
    assert counts == {"sent": len(messages)}, [m["data"] for m in messages]
    assert {m["platform"] for m in messages} == {"service_account"}  # never a subscribe message as well
    assert {m["touser"] for m in messages} == {openid}
    assert {"appid": state.settings.wx_appid, "pagepath": "pages/home/index"} in [m["miniprogram"] for m in messages]
