"""Shared fixtures: the schema comes from the migrations, on SQLite or MariaDB, with fakeredis or Redis.

`LIXIAO_TEST_DATABASE=mysql` runs the suite on the MariaDB server at 127.0.0.1:3306 (root, no password),
in a database of its own; `LIXIAO_TEST_REDIS=redis://127.0.0.1:6379/15` uses a real Redis.
Under `CI=true` a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from server.app import create_app
from server.certificates.signing import generate_private_key_pem
from server.db import Base, make_engine, make_session_factory
from server.migrate import upgrade
from server.settings import Settings, items_from_env

MYSQL_ROOT = os.environ.get("LIXIAO_TEST_MYSQL_ROOT", "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def backend() -> str:
    """Which database this run uses: sqlite or mysql."""
    return os.environ.get("LIXIAO_TEST_DATABASE", "sqlite")


def _server_missing(what: str, exc: Exception) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true but unreachable: {exc}")
    pytest.skip(f"{what} unreachable: {exc}")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database brought to head by the migrations."""
    if backend() == "mysql":
        name = f"lixiao_test_{uuid.uuid4().hex[:10]}"
        root = create_engine(MYSQL_ROOT)
        try:
            with root.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        except Exception as exc:
            _server_missing("MariaDB at 127.0.0.1:3306", exc)
        url = MYSQL_ROOT.replace("/?", f"/{name}?")
        upgrade(url)
        yield url
        with root.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        root.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lixiao.sqlite3'}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Empty for the in-process stand-in, or a real server's URL (a database of this run's own, see below)."""
    url = os.environ.get("LIXIAO_TEST_REDIS", "")
    if not url:
        yield url
        return
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        _server_missing(f"Redis at {url}", exc)
    with _private_redis_db(url) as private:
        yield private


@contextmanager
def _private_redis_db(url: str) -> Iterator[str]:
    """Claim a Redis database no other concurrent run uses, so one run's FLUSHDB cannot reset another's counters.

    Claims live in database 0 (`lixiao:test-db-claim:<n>`, expiring after six hours in case a run dies);
    databases 1-14 are handed out and the one named in LIXIAO_TEST_REDIS is never taken, since runs that
    predate claiming use it directly. LIXIAO_TEST_REDIS_SHARED=1 keeps the named database.
    """
    import redis
    from redis.connection import parse_url

    named = int(parse_url(url).get("db", 0))
    if os.environ.get("LIXIAO_TEST_REDIS_SHARED") == "1":
        yield url
        return
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url.rstrip("/")
    claims = redis.Redis.from_url(f"{base}/0", socket_connect_timeout=1)
    run = uuid.uuid4().hex
    for db in (n for n in range(1, 15) if n != named):
        if claims.set(f"lixiao:test-db-claim:{db}", run, nx=True, ex=6 * 3600):
            redis.Redis.from_url(f"{base}/{db}").flushdb()  # leftovers of a run that died holding it
            try:
                yield f"{base}/{db}"
            finally:
                if claims.get(f"lixiao:test-db-claim:{db}") == run.encode():
                    claims.delete(f"lixiao:test-db-claim:{db}")
                claims.close()
            return
    claims.close()
    yield url  # every database is claimed: share the named one


@pytest.fixture(scope="session")
def certificate_key_pem() -> str:
    """One certificate signing key per run, so no test writes a development key into the checkout's var/."""
    return generate_private_key_pem()


@pytest.fixture
def settings(database_url: str, redis_url: str, certificate_key_pem: str) -> Settings:
    """Test settings; tests adjust them with `settings.with_overrides(...)`.

    The items are those LIXIAO_ITEMS names (the default four when unset): the suite runs with four and with five.
    """
    return Settings(database_url=database_url, redis_url=redis_url, testing=True,
                    secret_key="test-secret-key-that-is-long-enough-0123",
                    certificate_private_key=certificate_key_pem, items=items_from_env(os.environ))


def _wipe(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "data_epoch":  # made by the migration, like alembic_version
                conn.execute(table.delete())
        if engine.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator:
    """The app on a clean database."""
    application = create_app(settings)
    state = application.extensions["lixiao"]
    state.redis.flushdb()
    yield application
    _wipe(settings.database_url)
    state.redis.flushdb()
    state.engine.dispose()


@pytest.fixture
def session(app, settings: Settings) -> Iterator:
    """A session for arranging and checking data directly (commit what you arrange).

    On SQLite it begins transactions lazily, so a test reading between requests does not hold the
    write lock the app's own sessions take up front.
    """
    engine = make_engine(settings.database_url, sqlite_immediate=False)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


class LiveServer:
    """The app served over real HTTP on a loopback port."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live(app) -> Iterator[LiveServer]:
    """The app on a loopback port."""
    server = LiveServer(app)
    yield server
    server.stop()


class Api:
    """A requests session against the live server, with an optional bearer token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def __getattr__(self, method: str):  # get, post, put, delete, patch
        def call(path: str, **kw):
            kw.setdefault("timeout", 30)
            return self.http.request(method.upper(), self.base + path, **kw)

        return call


@pytest.fixture
def api(live: LiveServer):
    """Make API clients: `api()` anonymous, `api(token)` authenticated."""
    return lambda token=None: Api(live.url, token)
