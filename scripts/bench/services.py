"""What the bench runs against: wrk, MariaDB, Redis, a fresh database, and gunicorn processes it starts and stops."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text

from server.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
MYSQL_ROOT = "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"
DATABASE = "lixiao_bench"
REDIS_URL = "redis://127.0.0.1:6379/13"  # tests use 15; the bench keeps to its own number


def _mysql_up() -> bool:
    try:
        engine = create_engine(MYSQL_ROOT, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def ensure_services() -> None:
    """wrk installed, MariaDB and Redis answering; the CI services script installs and starts what is missing."""
    if shutil.which("wrk") and _mysql_up() and _redis_up():
        return
    subprocess.run(["bash", str(ROOT / "scripts/ci/services.sh")], check=True, timeout=600)
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk)")


def fresh_database() -> str:
    """Drop and recreate the bench database, bring it to head with the migrations, and return its URL."""
    engine = create_engine(MYSQL_ROOT)
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
        conn.execute(text(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()
    url = MYSQL_ROOT.replace("/?", f"/{DATABASE}?")
    upgrade(url)
    redis.Redis.from_url(REDIS_URL).flushdb()
    return url


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class GunicornConfig:
    """How both the app and the hello baseline are served (the same for both, so the ratio is fair)."""

    workers: int = 2
    worker_class: str = "gthread"
    threads: int = 4

    def describe(self) -> str:
        """E.g. "gunicorn -w 4 -k sync"."""
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return f"gunicorn -w {self.workers} -k {self.worker_class}{threads}"


@dataclass
class Gunicorn:
    """One gunicorn master serving `app` on a loopback port, started and stopped by the bench."""

    app: str
    config: GunicornConfig
    env: dict[str, str]
    log: Path
    ready_path: str = "/healthz"
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:40123."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 60) -> None:
        """Start and wait until every worker is up and the ready path answers 200."""
        self.port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{self.port}", "-w", str(self.config.workers),
               "-k", self.config.worker_class, "--threads", str(self.config.threads), "--backlog", "2048",
               "--keep-alive", "5", "--graceful-timeout", "5", "--error-logfile", str(self.log), self.app]
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn for {self.app} exited; see {self.log}")
            try:
                ok = requests.get(self.url + self.ready_path, timeout=2).status_code == 200
            except requests.RequestException:
                ok = False
            if ok and len(self.worker_pids()) == self.config.workers:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn for {self.app} did not become ready in {wait_s:.0f} s; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The worker processes of this master."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def peak_rss_mib(self) -> float:
        """The largest peak resident set (VmHWM) of any worker so far, in MiB."""
        peaks = [vm_hwm_kib(pid) for pid in self.worker_pids()]
        return max(peaks, default=0) / 1024

    def stop(self) -> None:
        """Stop the master (and so its workers); kill it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def vm_hwm_kib(pid: int) -> int:
    """A process's peak resident set size (VmHWM) in KiB, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
