"""Slots for benchmarks other parts of the project provide: the import, the push fan-out and the export.

A slot module (`scripts/bench/import_bench.py`, `scripts/bench/push_bench.py`) has `main(argv=None)`. The harness
calls it with `argv=[]`, the bench database and Redis named in LIXIAO_BENCH_DATABASE_URL / LIXIAO_BENCH_REDIS_URL,
and reads the ratio from what `main()` returns — a mapping with "ratio" (and optionally "summary"), import_bench's
mapping of rows/s, or a bare number — or, failing that, from a `ratio=<number>` (or `ratio: <number>`) printed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import io
import multiprocessing
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scripts.bench.services import vm_hwm_kib

_RATIO = re.compile(r"ratio\s*[:=]\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class SlotResult:
    """What a slot benchmark reported: a ratio to its baseline (None when not built or broken)."""

    ratio: float | None
    summary: str
    built: bool = True


def run_slot(module: str) -> SlotResult:
    """Call `module.main()` if the module exists, and make sense of its answer."""
    if importlib.util.find_spec(module) is None:
        return SlotResult(None, "not built yet", built=False)
    out = io.StringIO()
    argv = sys.argv
    try:
        main = importlib.import_module(module).main
        sys.argv = [module]
        with contextlib.redirect_stdout(out):
            answer = main([]) if inspect.signature(main).parameters else main()
    except SystemExit as exc:
        answer = None
        if exc.code not in (0, None):
            return SlotResult(None, f"error: exited with {exc.code}: {_tail(out.getvalue())}")
    except Exception as exc:
        traceback.print_exc()
        return SlotResult(None, f"error: {type(exc).__name__}: {exc}")
    finally:
        sys.argv = argv
    printed = out.getvalue()
    if printed:
        print(printed, end="", flush=True)  # the slot's own report stays visible in the log
    return _interpret(answer, printed)


def _interpret(answer: Any, printed: str) -> SlotResult:
    if isinstance(answer, Mapping) and isinstance(answer.get("ratio"), int | float):
        return SlotResult(float(answer["ratio"]), str(answer.get("summary", "")) or _tail(printed))
    if isinstance(answer, Mapping) and "raw_executemany" in answer and "library_import" in answer:
        # import_bench.py's own shape: rows/s of the full import and of the raw executemany
        measured, raw = answer["library_import"]["rows_per_second"], answer["raw_executemany"]["rows_per_second"]
        return SlotResult(measured / raw if raw else 0.0,
                          f"import {measured:,.0f} rows/s vs raw executemany {raw:,.0f} rows/s")
    if isinstance(answer, float):
        return SlotResult(answer, _tail(printed))
    found = _RATIO.findall(printed)
    if found:
        return SlotResult(float(found[-1]), _tail(printed))
    return SlotResult(None, "error: main() reported no ratio")


def _tail(printed: str) -> str:
    lines = [ln.strip() for ln in printed.strip().splitlines() if ln.strip()]
    return lines[-1][:100] if lines else ""


def _measure_child(export: Callable[[], object], queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import os

    try:
        before = vm_hwm_kib(os.getpid())
        export()
        queue.put((before, vm_hwm_kib(os.getpid()), None))
    except Exception as exc:
        queue.put((0, 0, f"{type(exc).__name__}: {exc}"))


def export_peak_rss(export: Callable[[], object] | None, timeout_s: float = 300) -> SlotResult:
    """Peak RSS (MiB) of a new process running `export` (e.g. writing 30,000 students); "ratio" holds MiB.

    The process is spawned, not forked: a forked child would start with the harness's own high-water mark.
    `export` must therefore be picklable (a module-level function, or a functools.partial of one).
    """
    if export is None:
        return SlotResult(None, "not built yet", built=False)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_measure_child, args=(export, queue))
    child.start()
    child.join(timeout_s)
    if child.is_alive():
        child.kill()
        child.join()
        return SlotResult(None, f"error: export ran longer than {timeout_s:.0f} s")
    if queue.empty():
        return SlotResult(None, f"error: export process died ({child.exitcode})")
    before, peak, error = queue.get()
    if error:
        return SlotResult(None, f"error: {error}")
    return SlotResult(peak / 1024, f"{peak / 1024:.0f} MiB peak ({before / 1024:.0f} MiB before the export)")
