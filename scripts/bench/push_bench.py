"""Push fan-out benchmark: pushes/s through one and two workers, beside a bare HTTP POST loop, same emulator.

    .venv/bin/python scripts/bench/push_bench.py [--transitions 10000] [--workers 1,2]

Uses LIXIAO_BENCH_DATABASE_URL / LIXIAO_BENCH_REDIS_URL when set (the bench harness's MariaDB and Redis),
else a throwaway SQLite file and in-process Redis stand-ins. The emulator runs as its own process on a
free loopback port; workers are real `python -m server.messaging.worker` processes. Each run queues
`--transitions` item-passed events for students who consented, and is timed by the emulator's receipt
times of the first and the last message; `main()` returns the best workers' rate divided by the bare loop's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.clearance.events import event_row, insert_events  # noqa: E402
from server.clearance.models import Batch, Student  # noqa: E402
from server.db import make_engine, make_session_factory  # noqa: E402
from server.identity.models import WechatBinding  # noqa: E402
from server.messaging.models import SubscriptionConsent  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.timeutil import utcnow  # noqa: E402

ITEMS = ("library", "archives", "apartment", "finance")
TEMPLATE = "demo-tmpl-item-passed"
DATA = {"thing1": {"value": "图书馆"}, "phrase2": {"value": "已通过"}, "name3": {"value": "测试学生"},
        "time4": {"value": "2027年6月20日 14:30"}, "thing5": {"value": "其余事项通过后即可提交离校申请"}}


class Emulator:
    """The platform emulators in their own process on a free port."""

    def __init__(self, log: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "server.emulators", "--port", "0"], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=log.open("ab"), text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not found:
            self.stop()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = f"http://127.0.0.1:{found.group(1)}/"
        self.http = requests.Session()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control API."""
        answer = self.http.request(method, self.url + "_control/" + path, json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        """End the emulator process."""
        self.proc.terminate()
        self.proc.wait(10)


def _prepare(database_url: str, emulator: Emulator, transitions: int, tag: str) -> None:
    """Students who consented to every push, their item_passed events, and WeChat's matching quota."""
    engine = make_engine(database_url)
    now = utcnow()
    with make_session_factory(engine)() as session:
        batch = Batch(name=f"推送压测 {tag}", opens_at=now, closes_at=now)
        session.add(batch)
        session.flush()
        count = -(-transitions // len(ITEMS))
        students = [Student(student_no=f"PB{tag}{i:06d}", name="压测学生", college="压测学院", major="压测",
                            degree_level="master", expected_graduation=now.date(), batch_id=batch.id)
                    for i in range(count)]
        session.add_all(students)
        session.flush()
        session.add_all(WechatBinding(openid=f"o-bench-{s.student_no}", student_id=s.id) for s in students)
        session.add_all(SubscriptionConsent(student_id=s.id, template_key="item_passed", remaining=len(ITEMS))
                        for s in students)
        rows = [event_row(s.id, "item_passed", f"item_passed:{batch.id}:{item}",
                          {"batch_id": batch.id, "item": item, "changed_at": now.isoformat()}, now)
                for s in students for item in ITEMS][:transitions]
        for start in range(0, len(rows), 1000):
            insert_events(session, rows[start:start + 1000])
        session.commit()
    engine.dispose()
    emulator.control("POST", "reset")
    for s in students:
        emulator.control("PUT", "wx/quota", {"openid": f"o-bench-{s.student_no}", "template_id": TEMPLATE,
                                             "count": len(ITEMS)})


def _through_workers(database_url: str, redis_url: str, emulator: Emulator, workers: int, transitions: int,
                     log: Path, threads: int) -> float:
    """Pushes per second through `workers` worker processes."""
    env = {**os.environ, "LIXIAO_DATABASE_URL": database_url, "LIXIAO_REDIS_URL": redis_url,
           "LIXIAO_WX_API_BASE": emulator.url, "LIXIAO_WECOM_API_BASE": emulator.url + "qy/cgi-bin/",
           "LIXIAO_WORKER_POLL_SECONDS": "0.05"}
    if threads:
        env["LIXIAO_WORKER_THREADS"] = str(threads)
    procs = [subprocess.Popen([sys.executable, "-m", "server.messaging.worker", "--until-idle", "--no-jobs"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
             for _ in range(workers)]
    try:
        deadline = time.monotonic() + 900
        while any(p.poll() is None for p in procs):  # --until-idle: they exit when nothing is left
            if time.monotonic() > deadline:
                raise SystemExit(f"workers too slow; see {log}")
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
            proc.wait(30)
    # Timed by the emulator's own receipt times, first to last, so start-up and polling cost nothing.
    received = sorted(datetime.fromisoformat(m["received_at"]) for m in emulator.control("GET", "messages"))
    if len(received) != transitions:
        raise SystemExit(f"{len(received)} of {transitions} pushes arrived; see {log}")
    return (transitions - 1) / (received[-1] - received[0]).total_seconds()


def _bare_loop(emulator: Emulator, count: int) -> float:
    """POSTs per second of a plain requests loop sending the same subscribe message."""
    config = emulator.control("GET", "config")["wechat"]
    emulator.control("PUT", "wx/quota", {"openid": "o-bench-bare", "template_id": TEMPLATE, "count": count})
    http = requests.Session()
    token = http.post(emulator.url + "cgi-bin/stable_token", timeout=10, json={
        "grant_type": "client_credential", "appid": config["appid"], "secret": config["secret"]}).json()
    url = emulator.url + "cgi-bin/message/subscribe/send"
    body = {"touser": "o-bench-bare", "template_id": TEMPLATE, "page": "pages/home/index", "data": DATA}
    started = time.monotonic()
    for _ in range(count):
        answer = http.post(url, params={"access_token": token["access_token"]}, json=body, timeout=10).json()
        if answer.get("errcode", 0) != 0:
            raise SystemExit(f"bare loop refused: {answer}")
    return count / (time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print pushes/s per worker count beside the bare loop; returns the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--threads", type=int, default=0, help="LIXIAO_WORKER_THREADS for the workers (0: default)")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="lixiao-push-bench-") as tmp:
        log = Path(tmp) / "processes.log"
        database_url = os.environ.get("LIXIAO_BENCH_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        redis_url = os.environ.get("LIXIAO_BENCH_REDIS_URL", "")
        upgrade(database_url)
        emulator = Emulator(log)
        try:
            rates = {}
            for n in counts:
                _prepare(database_url, emulator, args.transitions, f"{int(time.time()) % 100000:05d}{n}")
                rates[n] = _through_workers(database_url, redis_url, emulator, n, args.transitions, log, args.threads)
                print(f"{n} worker(s): {rates[n]:,.0f} pushes/s ({args.transitions:,} pushes)", flush=True)
            bare = _bare_loop(emulator, args.transitions)
        finally:
            emulator.stop()
    print(f"bare HTTP POST loop: {bare:,.0f} POST/s ({args.transitions:,} POSTs, same emulator)")
    best = max(rates, key=lambda n: rates[n])
    ratio = rates[best] / bare
    summary = ", ".join(f"{n}w {r:,.0f}/s" for n, r in rates.items()) + f" vs bare {bare:,.0f}/s"
    print(f"ratio={ratio:.2f} (best: {best} worker(s))")
    return {"ratio": ratio, "summary": summary}


if __name__ == "__main__":
    main()
