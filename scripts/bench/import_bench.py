"""Benchmark: import 100,000 departmental records into MariaDB through Lixiao, beside a raw PyMySQL executemany.

    .venv/bin/python scripts/bench/import_bench.py [--rows 100000] [--mysql-root mysql+pymysql://root@127.0.0.1:3306/]

It creates a scratch database, migrates it, imports a roster of N students (the roster path), then a library file
of N records (validation, audit rows, item states and transitions included), then inserts the same N library rows
with one raw PyMySQL `executemany` into a copy of the table. It prints rows/s for each and drops the database.
`main()` returns the numbers as a dict for the shared benchmark harness.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

DEFAULT_ROOT_URL = "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"


def _roster_csv(rows: int) -> bytes:
    lines = ["student_no,name,college,major,degree_level,expected_graduation,lived_on_campus"]
    lines += [f"B{n:09d},基准{n % 1000},学院{n % 12},专业{n % 30},{'master' if n % 7 else 'doctor'},2027-06-30,"
              f"{'yes' if n % 9 else 'no'}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _library_rows(rows: int) -> list[tuple[str, int, int, int, str, str]]:
    return [(f"B{n:09d}", n % 3, (n % 5) * 100, 0 if n % 11 else 1, "cancelled" if n % 2 else "active",
             "approved" if n % 4 else "submitted") for n in range(rows)]


def _library_csv(rows: list[tuple[str, int, int, int, str, str]]) -> bytes:
    lines = ["学号,欠书,欠费,违章,借书证状态,论文提交状态"]
    lines += [f"{no},{books},{cents / 100:.2f},{violations},{card},{thesis}"
              for no, books, cents, violations, card, thesis in rows]
    return ("\n".join(lines) + "\n").encode()


def _timed(label: str, rows: int, seconds: float) -> dict[str, Any]:
    rate = rows / seconds if seconds else float("inf")
    print(f"{label:<44} {rows:>8} rows  {seconds:8.2f} s  {rate:10.0f} rows/s", flush=True)
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rate)}


def _import(url: str, kind: str, data: bytes, **kw: Any) -> tuple[Any, float]:
    from server.db import make_engine, make_session_factory
    from server.imports.records import import_file
    from server.settings import Settings
    from server.sources import build_sources
    from server.timeutil import utcnow

    settings = Settings(database_url=url)
    engine = make_engine(url)
    started = time.perf_counter()
    with make_session_factory(engine)() as session:
        report = import_file(session, settings, build_sources(settings), kind, data, f"bench-{kind}.csv",
                             actor="system:bench", origin="bench", now=utcnow(), **kw)
        session.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    if not report.applied or report.counts["rejected"]:
        raise SystemExit(f"the {kind} import was not applied: {report.summary()}")
    return report, elapsed


def _raw_executemany(url: str, rows: list[tuple[str, int, int, int, str, str]]) -> float:
    """The same library rows, straight into a copy of the table with one PyMySQL executemany.

    Only plain %s placeholders, so PyMySQL folds the rows into multi-row INSERT statements (its fast path).
    """
    import pymysql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = pymysql.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 3306, user=parsed.username or "root",
                           password=parsed.password or "", database=parsed.database, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE bench_raw_library LIKE library_records")
            cur.execute("SELECT student_no, id FROM students")
            ids = dict(cur.fetchall())
        conn.commit()
        now = datetime.now(UTC).replace(tzinfo=None)
        values = [(ids[no], "import", now, 1, books, cents, violations, card, thesis)
                  for no, books, cents, violations, card, thesis in rows]
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_raw_library (student_id, source, read_at, known, owed_books, owed_fees_cents, "
                "violations, card_status, thesis_status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                values)
        conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mysql-root", default=DEFAULT_ROOT_URL, help="A MariaDB URL without a database name.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args(argv)

    from server.clearance.models import Batch, LibraryRecord, Transition
    from server.db import make_engine, make_session_factory
    from server.migrate import upgrade
    from server.timeutil import utcnow

    name = f"lixiao_bench_{uuid.uuid4().hex[:8]}"
    root = create_engine(args.mysql_root)
    with root.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = args.mysql_root.replace("/?", f"/{name}?") if "/?" in args.mysql_root else f"{args.mysql_root}{name}"
    results: dict[str, Any] = {"database": name, "rows": args.rows}
    try:
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            now = utcnow()
            session.add(Batch(name="基准批次", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30)))
            session.commit()
        print(f"MariaDB scratch database {name}, {args.rows} rows", flush=True)
        _report, seconds = _import(url, "roster", _roster_csv(args.rows), batch_name="基准批次")
        results["roster_import"] = _timed("roster import (students + item states)", args.rows, seconds)
        library = _library_rows(args.rows)
        _report, seconds = _import(url, "library", _library_csv(library))
        results["library_import"] = _timed("library import (records, audit, transitions)", args.rows, seconds)
        _again, seconds = _import(url, "library", _library_csv(library))
        results["library_reimport"] = _timed("library re-import (all unchanged)", args.rows, seconds)
        seconds = _raw_executemany(url, library)
        results["raw_executemany"] = _timed("raw PyMySQL executemany (same rows)", args.rows, seconds)
        with make_session_factory(engine)() as session:
            results["records"] = session.scalar(select(func.count()).select_from(LibraryRecord))
            results["transitions"] = session.scalar(select(func.count()).select_from(Transition))
        engine.dispose()
        ratio = results["raw_executemany"]["rows_per_second"] / max(results["library_import"]["rows_per_second"], 1)
        results["raw_vs_import"] = round(ratio, 1)
        print(f"records {results['records']}, transitions {results['transitions']}; raw executemany is "
              f"{ratio:.1f}x the full import (which also validates, audits and recomputes every item)", flush=True)
    finally:
        if not args.keep:
            with root.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        root.dispose()
    return results


if __name__ == "__main__":
    main()
