"""The floor under line 1a: the hello app plus one primary-key SELECT on MariaDB per request, and nothing of Lixiao.

Issues 15 and 16 make every status read ask the database (is the session still live, does the kept page still
match the versions MariaDB holds): one statement per request at the least. This app does only that much — one
`api_sessions` row by its primary key, on a raw PyMySQL cursor, one connection per thread, no SQLAlchemy — so its
ratio to hello, measured in the same rounds, is the most any design that reads MariaDB once per request can reach
on this machine with this driver. Line 1a is read against it (BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any

import pymysql
from flask import Flask
from sqlalchemy.engine import make_url

app = Flask(__name__)
_local = threading.local()
_ids_lock = threading.Lock()
_ids: itertools.cycle[str] | None = None

# LIXIAO_BENCH_DATABASE_URL names the bench's database; its sessions are the status line's own students.
_SESSION = "SELECT student_id, kind, expires_at, revoked_at FROM api_sessions WHERE id = %s"


def _connection() -> Any:
    connection = getattr(_local, "connection", None)
    if connection is None:
        url = make_url(os.environ["LIXIAO_BENCH_DATABASE_URL"])
        connection = _local.connection = pymysql.connect(
            host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
            password=url.password or "", database=url.database, charset="utf8mb4", autocommit=True)
    return connection


def _next_session_id(connection: Any) -> str:
    global _ids
    with _ids_lock:
        if _ids is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM api_sessions ORDER BY id LIMIT 10000")
                _ids = itertools.cycle([row[0] for row in cursor.fetchall()] or [""])
        return next(_ids)


@app.get("/floor")
def floor() -> dict[str, str]:
    """Hello's answer, after one session row read by its primary key."""
    connection = _connection()
    with connection.cursor() as cursor:
        cursor.execute(_SESSION, (_next_session_id(connection),))
        cursor.fetchone()
    return {"hello": "world"}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Readiness, as the app answers it."""
    return {"status": "ok"}
