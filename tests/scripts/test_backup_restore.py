"""scripts/backup_mysql.sh and scripts/restore_mysql.sh on the MariaDB server (MariaDB run only).

Fill a database (the demo cohort, submissions with certificates, a hand-over, a revocation, a department
key), back it up while the app keeps running, restore it under another name, and show nothing was lost:
the same tables, the same row counts and the same CHECKSUM TABLE for each, and the app on the restored
database verifies a certificate with a token issued before the backup.

Then the ways a restore used to destroy data (reliability review F10): a cut-off dump that passes `gzip -t`,
a dump whose load loses rows, a restore killed by SIGKILL or by a lost terminal (SIGHUP), and a restore over
an existing database. The database being replaced stays exactly as it was in every failure.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from server.app import create_app
from server.clearance.models import Student
from server.db import make_engine, make_session_factory
from server.demo_data import fill_demo_data
from server.departments.credentials import create_key
from server.identity.models import Staff
from server.identity.tokens import issue_token
from server.migrate import upgrade
from server.settings import Settings, items_from_env
from server.timeutil import utcnow
from tests.conftest import MYSQL_ROOT, LiveServer, backend
from tests.factories import student_token

pytestmark = [pytest.mark.mysql, pytest.mark.slow,
              pytest.mark.skipif(backend() != "mysql", reason="runs in the MariaDB run (LIXIAO_TEST_DATABASE=mysql)")]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20


def command(script: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run one of the scripts against the test server."""
    url = make_url(MYSQL_ROOT)
    return (["bash", str(ROOT / "scripts" / script), "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306),
             "-u", url.username or "root", *args],
            {**os.environ, **({"MYSQL_PWD": url.password} if url.password else {})})


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the scripts against the test server."""
    argv, env = command(script, *args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)


def inventory(engine, database: str) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Each table of a database: (row count, CHECKSUM TABLE)."""
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT table_name FROM information_schema.tables WHERE table_schema = :db "
                                   "ORDER BY table_name"), {"db": database}).scalars().all()
        found = {}
        for table in tables:
            name = f"`{database}`.`{table}`"  # names from information_schema, not from a user
            count = conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()  # noqa: S608
            checksum = conn.execute(text(f"CHECKSUM TABLE {name}")).one()[1]
            found[table] = (int(count), int(checksum))
    return found


def fill(session, settings, live) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The demo cohort plus real submissions, certificates, a hand-over and a revocation through the API."""
    fill_demo_data(session, settings, now=utcnow(), count=120)
    session.commit()
    counter = session.scalars(select(Staff).where(Staff.role == "counter")).first()
    admin = session.scalars(select(Staff).where(Staff.role == "admin")).first()
    staff_tokens = {s.role: issue_token(session, settings.secret_key, channel="browser", now=utcnow(),
                                        ttl_seconds=settings.token_ttl_seconds, staff_id=s.id)
                    for s in (counter, admin)}
    create_key(session, settings.secret_key, "library", now=utcnow())
    session.commit()
    certificates = []
    for student in session.scalars(select(Student).order_by(Student.id)).all():
        token = student_token(session, settings, student)
        answer = requests.post(f"{live.url}/api/v1/me/application", headers={"Authorization": f"Bearer {token}"},
                               json={"confirm": True}, timeout=TIMEOUT)
        if answer.status_code == 201:
            certificates.append(requests.get(f"{live.url}/api/v1/me/certificate",
                                             headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT).json())
        if len(certificates) == 12:
            break
    assert len(certificates) >= 6, "the demo cohort should have students ready to submit"
    counter_auth = {"Authorization": f"Bearer {staff_tokens['counter']}"}
    handed = requests.post(f"{live.url}/api/v1/counter/handover", headers=counter_auth, timeout=TIMEOUT,
                           json={"serial": certificates[0]["serial"], "items": ["diploma", "degree_certificate"]})
    assert handed.status_code == 200, handed.text
    revoked = requests.post(f"{live.url}/api/v1/admin/certificates/{certificates[1]['serial']}/revoke",
                            headers={"Authorization": f"Bearer {staff_tokens['admin']}"}, json={"reason": "备份测试"},
                            timeout=TIMEOUT)
    assert revoked.status_code == 200, revoked.text
    return {"counter_token": staff_tokens["counter"], "qr_text": certificates[2]["qr_text"],
            "serial": certificates[2]["serial"], "revoked_qr": certificates[1]["qr_text"]}


def test_backup_then_restore_under_another_name_loses_nothing(app, live, session, settings, tmp_path):
    kept = fill(session, settings, live)
    source = make_url(settings.database_url).database
    target = f"lixiao_restored_{uuid.uuid4().hex[:8]}"
    backup = tmp_path / "lixiao.sql.gz"
    root = create_engine(settings.database_url)
    try:
        made = run("backup_mysql.sh", source, str(backup))
        assert made.returncode == 0, made.stderr
        path, size, sha = made.stdout.strip().split("\t")
        assert Path(path) == backup and int(size) == backup.stat().st_size and len(sha) == 64
        assert oct(backup.stat().st_mode & 0o777) == "0o600"

        restored = run("restore_mysql.sh", str(backup), target)
        assert restored.returncode == 0, restored.stderr
        before, after = inventory(root, source), inventory(root, target)
        assert set(before) == set(after) and "alembic_version" in after
        assert {t: n for t, (n, _) in after.items()} == {t: n for t, (n, _) in before.items()}
        assert after == before  # CHECKSUM TABLE of every table, too
        assert before["students"][0] == 120 and before["certificates"][0] >= 6 and before["handovers"][0] == 2

        # A second restore into the now-filled database is refused and changes nothing; --replace does it.
        again = run("restore_mysql.sh", str(backup), target)
        assert again.returncode != 0 and "--replace" in again.stderr
        assert inventory(root, target) == before
        assert run("restore_mysql.sh", "--replace", str(backup), target).returncode == 0
        assert inventory(root, target) == before

        # The app on the restored database: a token issued before the backup verifies a certificate.
        restored_app = create_app(settings.with_overrides(database_url=settings.database_url.replace(
            f"/{source}?", f"/{target}?")))
        server = LiveServer(restored_app)
        try:
            auth = {"Authorization": f"Bearer {kept['counter_token']}"}
            valid = requests.post(f"{server.url}/api/v1/counter/verify", json={"qr_text": kept["qr_text"]},
                                  headers=auth, timeout=TIMEOUT)
            assert valid.status_code == 200 and valid.json()["certificate"]["serial"] == kept["serial"], valid.text
            revoked = requests.post(f"{server.url}/api/v1/counter/verify", json={"qr_text": kept["revoked_qr"]},
                                    headers=auth, timeout=TIMEOUT)
            assert revoked.status_code == 422 and revoked.json()["error"]["code"] == "CERTIFICATE_REVOKED"
        finally:
            server.stop()
            restored_app.extensions["lixiao"].engine.dispose()
    finally:
        drop_databases(root, target)
        root.dispose()


def databases(engine, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The databases whose names start with prefix."""
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT schema_name FROM information_schema.schemata "
                                      "WHERE schema_name LIKE :p ORDER BY schema_name"),
                                 {"p": prefix.replace("_", "\\_") + "%"}).scalars())


def drop_databases(engine, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Drop the target and what restores left beside it (TARGET__before_*, TARGET__restore_*)."""
    for name in databases(engine, prefix):
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))


def test_a_failed_restore_leaves_no_half_restored_database(tmp_path, settings):
    broken = tmp_path / "broken.sql.gz"
    broken.write_bytes(gzip.compress(b"CREATE TABLE t (id INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nNOT SQL;\n"
                                     b"-- Dump completed on 2027-06-20 12:00:00\n"))
    target = f"lixiao_broken_{uuid.uuid4().hex[:8]}"
    answer = run("restore_mysql.sh", str(broken), target)
    assert answer.returncode != 0 and "nothing is left half-restored" in answer.stdout + answer.stderr
    root = create_engine(settings.database_url)
    assert databases(root, target) == []
    root.dispose()
    assert run("backup_mysql.sh", "no_such_database_here", str(tmp_path / "x.sql.gz")).returncode != 0
    assert not list(tmp_path.glob("x.sql.gz*"))  # no file that looks like a backup


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory, certificate_key_pem: str) -> Iterator[dict]:
    """Two backups of one database of its own: `old` (the demo cohort) and `new` (after some edits)."""
    folder = tmp_path_factory.mktemp("dumps")
    source = f"lixiao_source_{uuid.uuid4().hex[:8]}"
    root = create_engine(MYSQL_ROOT)
    with root.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{source}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = MYSQL_ROOT.replace("/?", f"/{source}?")
    try:
        upgrade(url)
        settings = Settings(database_url=url, testing=True, secret_key="test-secret-key-that-is-long-enough-0123",
                            certificate_private_key=certificate_key_pem, items=items_from_env(os.environ))
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            fill_demo_data(session, settings, now=utcnow(), count=20)
            session.commit()
        assert run("backup_mysql.sh", source, str(folder / "old.sql.gz")).returncode == 0
        with engine.begin() as conn:
            conn.execute(text("UPDATE students SET name = CONCAT(name, '·') ORDER BY id LIMIT 5"))
        engine.dispose()
        assert run("backup_mysql.sh", source, str(folder / "new.sql.gz")).returncode == 0
        found = {"old": folder / "old.sql.gz", "new": folder / "new.sql.gz", "root": root}
        staging = f"lixiao_inventory_{uuid.uuid4().hex[:8]}"
        for which in ("old", "new"):  # what each backup holds, measured by restoring it once
            assert run("restore_mysql.sh", str(found[which]), staging).returncode == 0
            found[f"{which}_inventory"] = inventory(root, staging)
            drop_databases(root, staging)
        assert found["old_inventory"] != found["new_inventory"] and found["old_inventory"]["students"][0] == 20
        yield found
    finally:
        drop_databases(root, source)
        root.dispose()


@pytest.fixture
def live_db(dumps: dict) -> Iterator[str]:
    """A database holding the `old` backup: the one an operator might replace."""
    name = f"lixiao_live_{uuid.uuid4().hex[:8]}"
    assert run("restore_mysql.sh", str(dumps["old"]), name).returncode == 0
    assert inventory(dumps["root"], name) == dumps["old_inventory"]
    yield name
    drop_databases(dumps["root"], name)


def rewrite(source: Path, target: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """A gzipped copy of a dump with its lines edited; it passes `gzip -t`."""
    lines = gzip.decompress(source.read_bytes()).decode().splitlines(keepends=True)
    target.write_bytes(gzip.compress("".join(edit(lines)).encode()))
    assert subprocess.run(["gzip", "-t", str(target)], check=False).returncode == 0
    return target


def test_a_cut_off_dump_that_passes_gzip_test_replaces_nothing(dumps, live_db, tmp_path):
    cut = rewrite(dumps["new"], tmp_path / "cut.sql.gz", lambda lines: lines[: len(lines) // 2])
    answer = run("restore_mysql.sh", "--replace", str(cut), live_db)
    assert answer.returncode != 0
    assert "Dump completed" in answer.stdout and "was not touched" in answer.stdout, answer.stdout
    assert inventory(dumps["root"], live_db) == dumps["old_inventory"]
    assert databases(dumps["root"], live_db) == [live_db]  # no staging copy, no "before" copy


def test_a_dump_whose_load_loses_rows_replaces_nothing(dumps, live_db, tmp_path):
    def delete_after_students(lines: list[str]) -> list[str]:
        at = next(i for i, line in enumerate(lines) if line.startswith("UNLOCK TABLES") and
                  any(x.startswith("INSERT INTO `students`") for x in lines[i - 30:i]))
        return [*lines[:at], "DELETE FROM `students` WHERE id % 2 = 0;\n", *lines[at:]]

    lossy = rewrite(dumps["new"], tmp_path / "lossy.sql.gz", delete_after_students)
    answer = run("restore_mysql.sh", "--replace", str(lossy), live_db)
    assert answer.returncode != 0
    assert re.search(r"table students has \d+ rows, the dump 20", answer.stdout), answer.stdout
    assert inventory(dumps["root"], live_db) == dumps["old_inventory"]
    assert databases(dumps["root"], live_db) == [live_db]


def test_a_restore_over_an_existing_database_keeps_the_old_tables(dumps, live_db):
    refused = run("restore_mysql.sh", str(dumps["new"]), live_db)
    assert refused.returncode != 0 and "--replace" in refused.stderr
    assert inventory(dumps["root"], live_db) == dumps["old_inventory"]
    replaced = run("restore_mysql.sh", "--replace", str(dumps["new"]), live_db)
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert inventory(dumps["root"], live_db) == dumps["new_inventory"]
    [before] = [name for name in databases(dumps["root"], live_db) if name != live_db]
    assert before.startswith(f"{live_db}__before_") and before in replaced.stdout
    assert inventory(dumps["root"], before) == dumps["old_inventory"]


def slow_dump(dumps: dict, folder: Path) -> Path:
    """The `new` dump with a 3-second pause after its first table, so a test can interrupt it mid-way."""
    def pause(lines: list[str]) -> list[str]:
        at = lines.index("UNLOCK TABLES;\n") + 1
        return [*lines[:at], "SELECT SLEEP(3);\n", *lines[at:]]
    return rewrite(dumps["new"], folder / "slow.sql.gz", pause)


def start_restore(dumps: dict, backup: Path, target: str) -> tuple[subprocess.Popen[str], int, Path]:
    """Start a --replace restore as from a terminal (a session of its own); wait until it is loading."""
    argv, env = command("restore_mysql.sh", "--replace", str(backup), target)
    terminal = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    assert terminal.stdout is not None
    started = re.search(r"running as pid (\d+) .* log: (\S+)", terminal.stdout.readline())
    assert started, "the restore names its process and log"
    deadline = time.monotonic() + 60
    while not any(inventory(dumps["root"], name) for name in databases(dumps["root"], f"{target}__restore_")):
        assert time.monotonic() < deadline, "the restore never started loading"
        time.sleep(0.1)
    return terminal, int(started.group(1)), Path(started.group(2))


def test_sigkill_mid_restore_leaves_the_database_intact(dumps, live_db, tmp_path):
    terminal, worker, log = start_restore(dumps, slow_dump(dumps, tmp_path), live_db)
    os.killpg(worker, signal.SIGKILL)  # the restore and its mariadb client, as on a power cut
    os.killpg(terminal.pid, signal.SIGKILL)
    terminal.wait(10)
    log.unlink()
    assert inventory(dumps["root"], live_db) == dumps["old_inventory"]
    [left] = [name for name in databases(dumps["root"], live_db) if name != live_db]
    assert left.startswith(f"{live_db}__restore_")  # the staging copy, never the live tables

    again = run("restore_mysql.sh", "--replace", str(dumps["new"]), live_db)
    assert again.returncode == 0 and left in again.stdout, again.stdout  # named, for the operator to drop
    assert inventory(dumps["root"], live_db) == dumps["new_inventory"]


def test_a_lost_terminal_does_not_stop_the_restore(dumps, live_db, tmp_path):
    terminal, _, log = start_restore(dumps, slow_dump(dumps, tmp_path), live_db)
    os.killpg(terminal.pid, signal.SIGHUP)  # the SSH session drops: SIGHUP to the terminal's process group
    assert terminal.wait(10) == -signal.SIGHUP
    deadline = time.monotonic() + 120
    while "restored " not in log.read_text() and "failed" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    assert f"into {live_db} (" in log.read_text(), log.read_text()
    assert inventory(dumps["root"], live_db) == dumps["new_inventory"]
    [before] = [name for name in databases(dumps["root"], live_db) if name != live_db]
    assert inventory(dumps["root"], before) == dumps["old_inventory"]
    log.unlink()


def test_sigterm_mid_restore_stops_it_cleanly(dumps, live_db, tmp_path):
    terminal, _, _ = start_restore(dumps, slow_dump(dumps, tmp_path), live_db)
    os.kill(terminal.pid, signal.SIGTERM)  # Ctrl-C or `kill`: the restore stops and drops its staging copy
    assert terminal.wait(30) != 0
    assert inventory(dumps["root"], live_db) == dumps["old_inventory"]
    assert databases(dumps["root"], live_db) == [live_db]
