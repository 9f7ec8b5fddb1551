"""A small asyncio HTTP/1.1 client: every token's requests at once over many connections (storm, first visits)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Answers:
    """How the server answered."""

    statuses: Counter[int]
    seconds: float

    @property
    def requests(self) -> int:
        """Answers received."""
        return sum(self.statuses.values())

    @property
    def rps(self) -> float:
        """Answers per second, from the starting gun to the last answer."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        """5xx answers plus requests that got no answer at all (counted as 0)."""
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep_alive) of one HTTP/1.1 response; the body is read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed before answering")
    status = int(status_line.split()[1])
    length, keep_alive = 0, True
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            keep_alive = False
    await reader.readexactly(length)
    return status, keep_alive


async def _connection(port: int, head: str, jobs: asyncio.Queue[str], gun: asyncio.Event, statuses: Counter[int],
                      timeout_s: float, body: bytes = b"") -> None:
    """One client connection: take the next token, send, read the answer, reconnect when the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await gun.wait()
    try:
        while not jobs.empty():
            token = jobs.get_nowait()
            kind = "Content-Type: application/json\r\n" if body else ""
            request = (f"{head}\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                       f"{kind}Content-Length: {len(body)}\r\n\r\n").encode() + body
            try:
                writer.write(request)
                await writer.drain()
                status, keep_alive = await asyncio.wait_for(_read_response(reader), timeout_s)
            except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                status, keep_alive = 0, False
            statuses[status] += 1
            if not keep_alive and not jobs.empty():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _run(port: int, head: str, tokens: Sequence[str], repeats: int, connections: int,
               timeout_s: float, body: bytes = b"") -> Answers:
    jobs: asyncio.Queue[str] = asyncio.Queue()
    for token in tokens:
        for _ in range(repeats):  # the same student's submissions side by side, so they race each other
            jobs.put_nowait(token)
    gun = asyncio.Event()
    statuses: Counter[int] = Counter()
    clients = [asyncio.create_task(_connection(port, head, jobs, gun, statuses, timeout_s, body))
               for _ in range(connections)]
    await asyncio.sleep(0.5)  # let every connection open before the starting gun
    started = time.perf_counter()
    gun.set()
    await asyncio.wait_for(asyncio.gather(*clients), timeout=timeout_s * 4 + 120)
    return Answers(statuses=statuses, seconds=time.perf_counter() - started)


def run_concurrent(port: int, method: str, path: str, tokens: Sequence[str], *, repeats: int = 1,
                   connections: int = 200, timeout_s: float = 30, body: bytes = b"") -> Answers:
    """Send `method path` (with a JSON `body`, if any) `repeats` times per token (side by side) through
    `connections` connections to 127.0.0.1."""
    return asyncio.run(_run(port, f"{method} {path} HTTP/1.1", tokens, repeats, connections, timeout_s, body))
