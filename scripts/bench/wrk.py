"""Running wrk with one of our Lua scripts and reading its summary."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    errors: int  # non-2xx/3xx answers, connect/read/write errors and timeouts

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def script_text(name: str, *, delay_ms: float = 0.0) -> str:
    """A wrk script: the named request part, the report tail, and pacing when asked."""
    text = (LUA / f"{name}.lua").read_text() + "\n" + (LUA / "report.lua").read_text()
    if delay_ms > 0:
        # wrk looks for `delay` once at start-up, so it is defined only in paced scripts.
        text += f"\nfunction delay()\n  return {delay_ms:.3f} * (0.5 + math.random())\nend\n"
    return text


def run_wrk(url: str, *, script: str, args: list[str] | None = None, connections: int, seconds: int,
            threads: int = 2, delay_ms: float = 0.0, timeout_s: int = 10) -> WrkResult:
    """Run wrk for a bounded time against a loopback URL and parse the JSON line our Lua tail prints."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("the benchmark only ever targets 127.0.0.1")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script_text(script, delay_ms=delay_ms))
        path = f.name
    try:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "-s", path,
               url]
        if args:
            cmd += ["--", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False)
    finally:
        Path(path).unlink(missing_ok=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(data[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"))
    return WrkResult(requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                     p99_ms=data["p99_us"] / 1000, mean_ms=data["mean_us"] / 1000, errors=errors)
