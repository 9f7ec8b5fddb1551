"""Benchmark: import 100,000 departmental records into MariaDB through Lixiao, beside a raw PyMySQL executemany.

    .venv/bin/python scripts/bench/import_bench.py [--rows 100000] [--mysql-root mysql+pymysql://root@127.0.0.1:3306/]

It creates a scratch database, migrates it, imports a roster of N students (students, audit rows, four item states
each), then a library file of N records (validation, audit rows, item states and transitions), then the same file
again (all unchanged). The baselines insert the same student rows and the same library rows with one raw PyMySQL
`executemany` each into empty copies of their tables, before and after the imports (the faster is kept). It prints
rows/s for each, the ratios against the goal, and drops the database. `--profile DIR` writes a pyinstrument
profile of each import. `main()` returns the numbers as a dict for the shared benchmark harness ("ratio" is the
library import's).
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
GOAL = 0.3  # issue #9: import throughput at least 0.3x a raw executemany of the same rows


def _roster_rows(rows: int) -> list[tuple[str, str, str, str, str, str, bool]]:
    return [(f"B{n:09d}", f"基准{n % 1000}", f"学院{n % 12}", f"专业{n % 30}", "master" if n % 7 else "doctor",
             "2027-06-30", bool(n % 9)) for n in range(rows)]


def _roster_csv(rows: list[tuple[str, str, str, str, str, str, bool]]) -> bytes:
    lines = ["student_no,name,college,major,degree_level,expected_graduation,lived_on_campus"]
    lines += [f"{no},{name},{college},{major},{degree},{graduation},{'yes' if lived else 'no'}"
              for no, name, college, major, degree, graduation, lived in rows]
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


def _import(url: str, kind: str, data: bytes, profile: Path | None = None, **kw: Any) -> tuple[Any, float]:
    from server.db import make_engine, make_session_factory
    from server.imports.records import import_file
    from server.settings import Settings
    from server.sources import build_sources
    from server.timeutil import utcnow

    settings = Settings(database_url=url)
    engine = make_engine(url)
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
    started = time.perf_counter()
    with make_session_factory(engine)() as session:
        report = import_file(session, settings, build_sources(settings), kind, data, f"bench-{kind}.csv",
                             actor="system:bench", origin="bench", now=utcnow(), **kw)
        session.commit()
    elapsed = time.perf_counter() - started
    if profiler is not None and profile is not None:
        profiler.stop()
        profile.parent.mkdir(parents=True, exist_ok=True)
        profile.write_text(profiler.output_text(unicode=True))
    engine.dispose()
    if not report.applied or report.counts["rejected"]:
        raise SystemExit(f"the {kind} import was not applied: {report.summary()}")
    return report, elapsed


def _raw_executemany(url: str, table: str, columns: tuple[str, ...], values: list[tuple[Any, ...]]) -> float:
    """Rows straight into an empty copy of `table` (same columns and indexes, no foreign keys) with one PyMySQL
    executemany, in one transaction; returns the seconds it took.

    Only plain %s placeholders, so PyMySQL folds the rows into multi-row INSERT statements (its fast path).
    """
    import pymysql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = pymysql.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 3306, user=parsed.username or "root",
                           password=parsed.password or "", database=parsed.database, charset="utf8mb4")
    copy = f"bench_raw_{table}"
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {copy}")
            cur.execute(f"CREATE TABLE {copy} LIKE {table}")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            # names from this file only, never from input
            sql = f"INSERT INTO {copy} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            cur.executemany(sql, values)
        conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def _raw_students(url: str, roster: list[tuple[str, str, str, str, str, str, bool]]) -> float:
    """The roster's students, raw (the baseline of the roster import)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        batch_id = conn.scalar(text("SELECT id FROM batches"))
    engine.dispose()
    now = datetime.now(UTC).replace(tzinfo=None)
    values = [(no, name, college, major, degree, "", graduation, lived, batch_id, now)
              for no, name, college, major, degree, graduation, lived in roster]
    return _raw_executemany(url, "students", ("student_no", "name", "college", "major", "degree_level", "supervisor",
                                              "expected_graduation", "lived_on_campus", "batch_id", "created_at"),
                            values)


def _raw_library(url: str, library: list[tuple[str, int, int, int, str, str]]) -> float:
    """The library file's records, raw (the baseline of the department import)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT student_no, id FROM students")).all())
    engine.dispose()
    now = datetime.now(UTC).replace(tzinfo=None)
    values = [(ids[no], "import", now, 1, books, cents, violations, card, thesis)
              for no, books, cents, violations, card, thesis in library]
    return _raw_executemany(url, "library_records", ("student_id", "source", "read_at", "known", "owed_books",
                                                     "owed_fees_cents", "violations", "card_status", "thesis_status"),
                            values)


def _raw_audit(url: str, action: str, entities: list[str], afters: list[dict[str, Any]]) -> float:
    """The audit rows an import writes (one per created or changed row), raw, their JSON made beforehand."""
    import json

    now = datetime.now(UTC).replace(tzinfo=None)
    values = [(now, "system:bench", action, entity, "null", json.dumps(after), "bench")
              for entity, after in zip(entities, afters, strict=True)]
    return _raw_executemany(url, "audit_log", ("at", "actor", "action", "entity", "`before`", "`after`", "origin"),
                            values)


def _raw_states(url: str) -> float:
    """Four item states per student, raw: what a roster import must store for new students."""
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = list(conn.scalars(text("SELECT id FROM students")))
    engine.dispose()
    now = datetime.now(UTC).replace(tzinfo=None)
    values = [(i, item, "not_passed", now) for i in ids for item in ("library", "archives", "apartment", "finance")]
    return _raw_executemany(url, "item_states", ("student_id", "item", "status", "changed_at"), values)


def _floors(url: str, roster: list[tuple[Any, ...]], library: list[tuple[Any, ...]], results: dict[str, Any]) -> None:
    """What the rows each import must write cost raw: the best ratio any implementation could reach."""
    rows = len(roster)
    student_audit = _raw_audit(url, "student.create", [f"student:{r[0]}" for r in roster],
                               [{"name": r[1], "college": r[2], "major": r[3], "degree_level": r[4], "supervisor": "",
                                 "expected_graduation": r[5], "lived_on_campus": r[6], "batch_id": 1}
                                for r in roster])
    states = _raw_states(url)
    library_audit = _raw_audit(url, "library_record.write", [f"library_record:{r[0]}" for r in library],
                               [{"known": True, "owed_books": r[1], "owed_fees_cents": r[2], "violations": r[3],
                                 "card_status": r[4], "thesis_status": r[5]} for r in library])
    results["raw_roster_writes"] = _timed("raw: roster's students + audit + 4 item states", rows,
                                          results["raw_students"]["seconds"] + student_audit + states)
    results["raw_library_writes"] = _timed("raw: library's records + audit rows", rows,
                                           results["raw_executemany"]["seconds"] + library_audit)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mysql-root", default=DEFAULT_ROOT_URL, help="A MariaDB URL without a database name.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="Profile each import with pyinstrument (wall clock) and write DIR/<step>.txt.")
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
        where = (lambda step: args.profile / f"{step}.txt") if args.profile else (lambda step: None)
        roster, library = _roster_rows(args.rows), _library_rows(args.rows)
        # Each raw baseline is taken before and after the imports and the faster one kept: the machine is shared,
        # and a baseline slowed by someone else's load would flatter the ratio.
        raw_students = [_raw_students(url, roster)]
        _report, seconds = _import(url, "roster", _roster_csv(roster), where("roster"), batch_name="基准批次")
        results["roster_import"] = _timed("roster import (students, audit, item states)", args.rows, seconds)
        raw_library = [_raw_library(url, library)]
        _report, seconds = _import(url, "library", _library_csv(library), where("library"))
        results["library_import"] = _timed("library import (records, audit, transitions)", args.rows, seconds)
        _again, seconds = _import(url, "library", _library_csv(library), where("library-again"))
        results["library_reimport"] = _timed("library re-import (all unchanged)", args.rows, seconds)
        raw_students.append(_raw_students(url, roster))
        raw_library.append(_raw_library(url, library))
        results["raw_students"] = _timed("raw executemany, the roster's students", args.rows, min(raw_students))
        results["raw_executemany"] = _timed("raw executemany, the library's records", args.rows, min(raw_library))
        _floors(url, roster, library, results)
        with make_session_factory(engine)() as session:
            results["records"] = session.scalar(select(func.count()).select_from(LibraryRecord))
            results["transitions"] = session.scalar(select(func.count()).select_from(Transition))
        engine.dispose()
        print(f"records {results['records']}, transitions {results['transitions']}", flush=True)
        pairs = [("roster import / raw students", "roster_ratio", "roster_import", "raw_students"),
                 ("library import / raw library records", "library_ratio", "library_import", "raw_executemany"),
                 ("library re-import / raw library records", "reimport_ratio", "library_reimport", "raw_executemany")]
        for label, key, mine, raw in pairs:
            results[key] = round(results[mine]["rows_per_second"] / max(results[raw]["rows_per_second"], 1), 3)
            verdict = "meets goal" if results[key] >= GOAL else "misses goal"
            print(f"{label:<44} ratio {results[key]:.3f}  (goal >= {GOAL})  {verdict}", flush=True)
        # The ceiling: raw baseline / raw cost of every row the import must write (it writes more than the baseline).
        for label, key, raw, floor in (("roster", "roster_ceiling", "raw_students", "raw_roster_writes"),
                                       ("library", "library_ceiling", "raw_executemany", "raw_library_writes")):
            results[key] = round(results[raw]["seconds"] / results[floor]["seconds"], 3)
            print(f"{label} ratio if only its writes cost anything (raw): {results[key]:.3f}", flush=True)
        results["ratio"] = results["library_ratio"]  # the departmental records line of the shared harness
        results["summary"] = (f"library {results['library_ratio']:.2f}, roster {results['roster_ratio']:.2f} "
                              f"of raw executemany")
        print(f"ratio={results['ratio']}", flush=True)
    finally:
        if not args.keep:
            with root.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        root.dispose()
    return results


if __name__ == "__main__":
    main()
