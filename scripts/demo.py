"""`make demo`: the whole service on embedded defaults, with the emulators and a fictitious cohort.

Serves Lixiao on 127.0.0.1:$PORT (8000) and the WeChat/WeCom/CAS emulators on 127.0.0.1:$EMULATOR_PORT
(8001) until stopped with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.settings import PROJECT_ROOT  # noqa: E402

VAR = PROJECT_ROOT / "var" / "demo"


def _wait_for(url: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def main() -> None:
    """Start emulators, prepare the database, serve the app (and the worker) until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    parser.add_argument("--emulator-port", type=int, default=int(os.environ.get("EMULATOR_PORT", 8001)))
    args = parser.parse_args()

    emulator = f"http://127.0.0.1:{args.emulator_port}"
    os.environ.setdefault("LIXIAO_DATABASE_URL", f"sqlite:///{VAR / 'lixiao.sqlite3'}")
    os.environ.setdefault("LIXIAO_PUBLIC_BASE_URL", f"http://127.0.0.1:{args.port}")
    os.environ.setdefault("LIXIAO_WX_API_BASE", f"{emulator}/")
    os.environ.setdefault("LIXIAO_WECOM_API_BASE", f"{emulator}/qy/cgi-bin/")
    os.environ.setdefault("LIXIAO_CAS_SERVER_URL", f"{emulator}/cas/")
    os.environ.setdefault("LIXIAO_WECOM_OAUTH_URL", f"{emulator}/qy/connect/oauth2/authorize")
    os.environ.setdefault("LIXIAO_SA_APPID", "wx00000000demosa01")  # the emulated service account (服务号)
    os.environ.setdefault("LIXIAO_SA_API_BASE", f"{emulator}/sa/")
    os.environ.setdefault("LIXIAO_SA_OAUTH_URL", f"{emulator}/sa/connect/oauth2/authorize")
    os.environ.setdefault("LIXIAO_WX_KEYWORDS_FILE", str(VAR / "wechat-keywords.json"))
    VAR.mkdir(parents=True, exist_ok=True)

    from server.cli import cli

    cas_users = VAR / "cas-users.json"
    cli.main(["migrate"], standalone_mode=False)
    cli.main(["demo-data", "--cas-users", str(cas_users)], standalone_mode=False)

    emulator_proc = subprocess.Popen(
        [sys.executable, "-m", "server.emulators", "--host", "127.0.0.1", "--port", str(args.emulator_port),
         "--users-file", str(cas_users), "--account-templates", "demo"],
        cwd=ROOT,
    )
    try:
        _wait_for(f"{emulator}/_control/cas/users")
        # The demo account's templates have their own keyword keys, as a real account's do: map them by name.
        cli.main(["wechat-templates", "sync"], standalone_mode=False)
        serve(args.port, emulator)
    finally:
        emulator_proc.send_signal(signal.SIGTERM)
        emulator_proc.wait(10)


def serve(port: int, emulator: str) -> None:
    """Serve the app in this process, with the push worker beside it sharing the in-process Redis."""
    from werkzeug.serving import make_server

    from server.app import create_app

    app = create_app()
    worker = _start_worker(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(BANNER.format(port=port, emulator=emulator), flush=True)
    _announce_pushes(app, emulator)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.set()


def _start_worker(app) -> threading.Event | None:  # type: ignore[no-untyped-def]
    try:
        from server.messaging.worker import run_in_thread
    except ImportError:
        return None
    return run_in_thread(app)


def _announce_pushes(app, emulator: str) -> None:  # type: ignore[no-untyped-def]
    try:
        from server.messaging.demo import prepare_demo_pushes
    except ImportError:
        return
    from server.timeutil import utcnow

    state = app.extensions["lixiao"]
    with state.sessions() as session:
        numbers = prepare_demo_pushes(session, state.settings, emulator, utcnow())
    if numbers:
        print(PUSH_BANNER.format(students=", ".join(numbers), emulator=emulator), flush=True)
        _announce_follower(app, emulator, numbers[0])


def _announce_follower(app, emulator: str, student_no: str) -> None:  # type: ignore[no-untyped-def]
    from server.messaging.service_account_demo import prepare_demo_follower
    from server.timeutil import utcnow

    state = app.extensions["lixiao"]
    with state.sessions() as session:
        openid = prepare_demo_follower(session, state.settings, emulator, student_no, utcnow())
    if openid:
        print(FOLLOW_BANNER.format(student=student_no, openid=openid, emulator=emulator), flush=True)


PUSH_BANNER = """  Pushes: students {students} are bound to WeChat and allowed pushes.
  Clear one of their red items (as an operator) and the push appears at {emulator}/_control/messages
  (the push worker runs inside this process).
"""

FOLLOW_BANNER = """  Service account: student {student} follows it (openid {openid}); their pushes arrive as
  template messages that open the mini-program: {emulator}/_control/messages?platform=service_account
  Follow/unfollow by hand: POST {emulator}/_control/sa/follow (or /unfollow) with {{"openid": "..."}}.
"""

BANNER = """
  Lixiao 离校 demo is running.
  ─────────────────────────────────────────────────────────────
  Service        http://127.0.0.1:{port}/            (log in: /login)
  API document   http://127.0.0.1:{port}/api/openapi.json
  Emulators      {emulator}/  (WeChat, WeCom, CAS; control API under /_control/)

  Students log in with their student number (2099000001 … 2099000320) and password `demo`.
  Staff: admin, library, archives, apartment, finance, counter, viewer — password `demo`.
  Play the mini-program without WeChat DevTools:  .venv/bin/python scripts/miniprogram_player.py
  Stop with Ctrl-C.
"""


if __name__ == "__main__":
    main()
