"""The results table: one line per benchmark, each marked against its goal."""

from __future__ import annotations

from dataclasses import dataclass

MEETS = "meets goal"
MISSES = "misses goal"
NOT_BUILT = "not built yet"
FOR_SCALE = "for scale"  # a measurement with no goal of its own, that a goal's line is read against


@dataclass(frozen=True)
class Line:
    """One benchmark's outcome."""

    name: str
    result: str
    baseline: str
    goal: str
    verdict: str  # MEETS, MISSES, NOT_BUILT or FOR_SCALE


def verdict(ok: bool) -> str:
    """The verdict for a goal that was or was not met."""
    return MEETS if ok else MISSES


def render(lines: list[Line]) -> str:
    """A Markdown table (readable in a terminal, pasteable into BENCHMARKS.md)."""
    header = ("Benchmark", "Result", "Baseline (same run)", "Goal", "Verdict")
    rows = [header] + [(ln.name, ln.result, ln.baseline, ln.goal, ln.verdict) for ln in lines]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(rows[0]), rule, *(fmt(r) for r in rows[1:])])


def ms(value: float) -> str:
    """Milliseconds, e.g. "12.3 ms"."""
    return f"{value:.1f} ms"


def rate(value: float, unit: str = "req/s") -> str:
    """A rate with thousands separators, e.g. "1,234 req/s"."""
    return f"{value:,.0f} {unit}"
