"""Profile `GET /api/v1/me/clearance` in-process with pyinstrument, on the database the last bench run left.

    .venv/bin/python -m scripts.bench.profile_status [--requests 2000] [--html out.html]
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import select

from scripts.bench.harness import SECRET, STATUS_PATH
from scripts.bench.services import DATABASE, MYSQL_ROOT, REDIS_URL
from server.app import create_app
from server.identity.models import ApiSession
from server.identity.tokens import sign_session_id
from server.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Run the status request many times under the profiler and print where the time goes."""
    from pyinstrument import Profiler

    p = argparse.ArgumentParser(prog="python -m scripts.bench.profile_status")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--html", default="")
    a = p.parse_args(argv)
    url = MYSQL_ROOT.replace("/?", f"/{DATABASE}?")
    app = create_app(Settings(database_url=url, redis_url=REDIS_URL, secret_key=SECRET))
    state = app.extensions["lixiao"]
    with state.sessions() as s:
        ids = s.scalars(select(ApiSession.id).where(ApiSession.revoked_at.is_(None)).limit(a.requests)).all()
    if not ids:
        raise SystemExit("no sessions: run the bench first (python -m scripts.bench)")
    headers = [{"Authorization": f"Bearer {sign_session_id(SECRET, i)}"} for i in ids]
    client = app.test_client()
    for h in headers:  # every student's first visit, so the profile shows returning students (line 1a's rounds)
        client.get(STATUS_PATH, headers=h)
    profiler = Profiler(interval=0.0002)
    started = time.perf_counter()
    profiler.start()
    for n in range(min(a.requests, 100_000)):
        response = client.get(STATUS_PATH, headers=headers[n % len(headers)])
        assert response.status_code == 200, response.text
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(f"{a.requests} requests in {elapsed:.2f} s: {elapsed / a.requests * 1000:.2f} ms each (profiled)")
    if a.html:
        with open(a.html, "w") as f:
            f.write(profiler.output_html())
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
