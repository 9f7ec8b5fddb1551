"""Private Redis and MariaDB servers for fault drills: started by the test on free ports, stopped by their pid.

The machine's own servers (127.0.0.1:6379, :3306) are never touched; these drills kill their own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, seconds: float) -> None:
    """Return once something accepts connections on the port, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {seconds} s")


def require(binary: str) -> None:
    """Skip (or fail under CI=true) when a server binary is missing."""
    if not Path(binary).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is required under CI=true")
        pytest.skip(f"{binary} is not installed")


class RedisServer:
    """A redis-server of the test's own, without persistence."""

    def __init__(self) -> None:
        require(REDIS_SERVER)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="lixiao-redis-drill-")
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or start again, on the same port)."""
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 10)

    def kill(self) -> None:
        """Stop it dead (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections are accepted by the kernel but never answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze it (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Kill it and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class MariaDBServer:
    """A mariadbd on a private datadir and a free port (tooling-probe recipe A), run as user mysql."""

    def __init__(self) -> None:
        require(MARIADBD)
        require(INSTALL_DB)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="lixiao-mariadb-drill-"))
        self.dir.chmod(0o755)  # mysqld runs as mysql and must reach its files
        self.datadir = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run(["chown", "mysql:mysql", str(self.dir)], check=True)
        subprocess.run([INSTALL_DB, "--no-defaults", "--user=mysql", f"--datadir={self.datadir}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        self.start()
        self.sql("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; "
                 "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;")

    def url(self, database: str = "") -> str:
        """A SQLAlchemy URL for root over TCP."""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    def start(self) -> None:
        """Start (or start again, on the same port and data)."""
        self.process = subprocess.Popen(
            [MARIADBD, "--no-defaults", "--user=mysql", f"--datadir={self.datadir}", f"--socket={self.socket}",
             f"--pid-file={self.dir / 'mysqld.pid'}", "--bind-address=127.0.0.1", f"--port={self.port}",
             "--skip-name-resolve", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
             "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M",
             "--innodb-lock-wait-timeout=5", f"--log-error={self.dir / 'error.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 60)

    def sql(self, statements: str) -> None:
        """Run SQL as root through the socket."""
        subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={self.socket}", "-e", statements],
                       check=True, timeout=60)

    def kill(self) -> None:
        """SIGKILL: a crash, as far as InnoDB can tell (it recovers from its redo log at the next start)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def close(self) -> None:
        """Stop it and remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    import random

    for _ in range(200):
        port = random.randint(20000, 45000)  # a port, not a secret
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


class RedisCluster:
    """Three redis-server processes of the test's own joined into a Redis Cluster (no replicas)."""

    def __init__(self, nodes: int = 3) -> None:
        require(REDIS_SERVER)
        self.ports = [free_cluster_port() for _ in range(nodes)]
        self.dir = tempfile.mkdtemp(prefix="lixiao-redis-cluster-")
        self.processes = [self._node(port) for port in self.ports]
        for port in self.ports:
            wait_for_port(port, 10)
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 20
        while b"cluster_state:ok" not in subprocess.run(
                ["redis-cli", "-p", str(self.ports[0]), "cluster", "info"], capture_output=True, timeout=10).stdout:
            assert time.monotonic() < deadline, "the cluster did not come up"
            time.sleep(0.1)

    def _node(self, port: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--cluster-enabled", "yes", "--cluster-config-file", f"{self.dir}/nodes-{port}.conf",
             "--cluster-node-timeout", "2000", "--dir", self.dir, "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self, index: int) -> None:
        """SIGKILL one master (no replica takes over: its slots are gone until it is back)."""
        self.processes[index].kill()
        self.processes[index].wait(10)

    def restart(self, index: int) -> None:
        """Start a killed master again: it rejoins from its nodes file with its slots."""
        self.processes[index] = self._node(self.ports[index])
        wait_for_port(self.ports[index], 10)
        deadline = time.monotonic() + 20
        while b"cluster_state:ok" not in subprocess.run(
                ["redis-cli", "-p", str(self.ports[0]), "cluster", "info"], capture_output=True, timeout=10).stdout:
            assert time.monotonic() < deadline, "the cluster did not recover"
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def keys_per_node(self) -> list[int]:
        """How many keys each node holds."""
        return [int(subprocess.run(["redis-cli", "-p", str(p), "dbsize"], capture_output=True, text=True,
                                   timeout=10).stdout.strip() or 0) for p in self.ports]

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
