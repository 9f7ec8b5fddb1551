"""Drills of the status read cache (issue 15.1; ../shared/reviews/2026-12-reliability-review.md F1-F5).

Lixiao's own writers in other processes (the import CLI, a bulk-write script, a script with the database URL
spelled differently) show on the very next read, also after Redis came back from an old RDB snapshot or was
flushed. Writes made outside Lixiao (a `text()` script, a DBA's UPDATE through the driver) show within the
cache's lifetime counted from when the page was made, in every app server, and at once after `cache retire`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import make_url, text

from server.app import create_app
from tests.conftest import LiveServer, backend
from tests.drills.servers import RedisServer
from tests.factories import cleared_student, make_batch, student_token

TIMEOUT = 15
ROOT = Path(__file__).resolve().parents[2]
LIFETIME = 2  # seconds: LIXIAO_READ_CACHE_SECONDS for the drills of writes made outside Lixiao
LIBRARY_OWED = "学号,欠书,欠费(元),违章,借书证状态,论文提交状态\n{no},3,0,0,已注销,记录审核通过\n"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own (its SAVE writes a snapshot it loads again when restarted)."""
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def overrides(request: pytest.FixtureRequest, redis_server: RedisServer) -> dict[str, Any]:
    """The app on the private Redis (parametrize indirectly to add settings)."""
    return {"redis_url": redis_server.url, **getattr(request, "param", {})}


def other_spelling(url: str) -> str:
    """The same database under another URL: `localhost` for 127.0.0.1, or a detour through the folder."""
    if backend() == "mysql":
        return url.replace("127.0.0.1", "localhost")
    path = Path(make_url(url).database or "")
    return f"sqlite:///{path.parent}/../{path.parent.name}/{path.name}"


def run(args: list[str], settings, **env: str) -> subprocess.CompletedProcess[str]:
    """A separate Lixiao process (a CLI command or a script) on the test's database and Redis."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "LIXIAO_DATABASE_URL": settings.database_url,
                   "LIXIAO_REDIS_URL": settings.redis_url, "LIXIAO_SECRET_KEY": settings.secret_key,
                   "LIXIAO_CERTIFICATE_PRIVATE_KEY": settings.certificate_private_key, **env}
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


BULK_SCRIPT = """
import os
from server.db import make_engine, make_session_factory, transaction
from server.departments.bulk import write_many
from server.settings import Settings, items_from_env
from server.sources import build_sources
from server.timeutil import utcnow
settings = Settings(database_url=os.environ["LIXIAO_DATABASE_URL"], items=items_from_env(os.environ))
with transaction(make_session_factory(make_engine(settings.database_url))) as session:
    write_many(session, settings, build_sources(settings), "library", [(os.environ["NO"], {"owed_books": 3})],
               source="script", actor="script", origin="script", cause="script", now=utcnow())
"""

TEXT_SCRIPT = """
import os
from sqlalchemy import create_engine, text
with create_engine(os.environ["LIXIAO_DATABASE_URL"]).begin() as conn:
    conn.execute(text("UPDATE library_records SET owed_books = 3 WHERE student_id = :s"), {"s": int(os.environ["ID"])})
"""


class Reader:
    """A student reading their status from one app server."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def library(self) -> str:
        answer = self.http.get(f"{self.base}/api/v1/me/clearance", timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        return str(next(i for i in answer.json()["items"] if i["key"] == "library")["status"])


@pytest.fixture
def student(session, settings, live):  # type: ignore[no-untyped-def]
    """A cleared student, their token, and a reader whose page is in the cache (and in Redis)."""
    person = cleared_student(session, make_batch(session))
    session.commit()
    reader = Reader(live.url, student_token(session, settings, person))
    assert [reader.library(), reader.library()] == ["passed", "passed"]
    return person, reader


def test_the_import_cli_shows_on_the_next_read(student, settings, tmp_path):
    person, reader = student
    owed = tmp_path / "library.csv"
    owed.write_text(LIBRARY_OWED.format(no=person.student_no), encoding="utf-8")
    run(["-m", "server.cli", "import", "library", str(owed)], settings)
    assert reader.library() == "not_passed"


@pytest.mark.parametrize("spelling", ["same", "other"])
def test_a_bulk_script_shows_on_the_next_read_whatever_the_url_spelling(student, settings, spelling):
    person, reader = student
    url = settings.database_url if spelling == "same" else other_spelling(settings.database_url)
    run(["-c", BULK_SCRIPT], settings, LIXIAO_DATABASE_URL=url, NO=person.student_no)
    assert reader.library() == "not_passed"


@pytest.mark.parametrize("overrides", [{"read_cache_seconds": LIFETIME}], indirect=True)
def test_a_text_script_shows_within_the_lifetime_in_every_app_server(session, settings, live, redis_server):
    person = cleared_student(session, make_batch(session))
    session.commit()
    token = student_token(session, settings, person)
    made = time.monotonic()
    assert Reader(live.url, token).library() == "passed"  # the page is made here, and shared through Redis
    time.sleep(LIFETIME * 0.6)
    late = LiveServer(create_app(settings))  # a worker started late (max_requests, a reload) takes it from Redis
    try:
        reader = Reader(late.url, token)
        assert reader.library() == "passed"
        run(["-c", TEXT_SCRIPT], settings, ID=str(person.id))
        while reader.library() == "passed":
            assert time.monotonic() - made < LIFETIME + 0.5, "a page outlived the lifetime from when it was made"
            time.sleep(0.05)
    finally:
        late.stop()


@pytest.mark.parametrize("overrides", [{"read_cache_seconds": LIFETIME}], indirect=True)
def test_a_dba_update_shows_within_the_lifetime_and_at_once_after_cache_retire(student, session, settings):
    person, reader = student
    engine = session.get_bind()
    dbapi = engine.raw_connection()  # the driver itself, as the `mysql` client would: no SQLAlchemy at all
    try:
        cursor = dbapi.cursor()
        marker = "%s" if backend() == "mysql" else "?"
        statement = f"UPDATE library_records SET owed_books = 4 WHERE student_id = {marker}"  # noqa: S608 -- a placeholder
        cursor.execute(statement, (person.id,))
        dbapi.commit()
    finally:
        dbapi.close()
    started = time.monotonic()
    while reader.library() == "passed":
        assert time.monotonic() - started < LIFETIME + 0.5
        time.sleep(0.05)
    with engine.begin() as conn:
        conn.execute(text("UPDATE library_records SET owed_books = 0 WHERE student_id = :s"), {"s": person.id})
    run(["-m", "server.cli", "cache", "retire"], settings)
    assert reader.library() == "passed"


def test_redis_back_from_an_old_snapshot_brings_no_page_back(student, session, settings, redis_server, tmp_path):
    person, reader = student
    import redis as redis_py

    redis_py.Redis.from_url(redis_server.url).save()  # the page as it was, in dump.rdb
    owed = tmp_path / "library.csv"
    owed.write_text(LIBRARY_OWED.format(no=person.student_no), encoding="utf-8")
    run(["-m", "server.cli", "import", "library", str(owed)], settings)
    assert reader.library() == "not_passed"
    redis_server.kill()
    redis_server.start()  # loads dump.rdb: the old page is back in Redis
    assert redis_py.Redis.from_url(redis_server.url).keys("lixiao:page:*")
    fresh = LiveServer(create_app(settings))  # a worker with no page of its own
    try:
        assert Reader(fresh.url, reader.http.headers["Authorization"].split()[1]).library() == "not_passed"
    finally:
        fresh.stop()
    assert reader.library() == "not_passed"


def test_after_flushall_every_writer_still_shows(student, settings, redis_server, tmp_path):
    import redis as redis_py

    person, reader = student
    redis_py.Redis.from_url(redis_server.url).flushall()
    assert reader.library() == "passed"  # made again, and kept again
    owed = tmp_path / "library.csv"
    owed.write_text(LIBRARY_OWED.format(no=person.student_no), encoding="utf-8")
    run(["-m", "server.cli", "import", "library", str(owed)], settings)
    assert reader.library() == "not_passed"
