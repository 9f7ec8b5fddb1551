"""scripts/backup_mysql.sh and scripts/restore_mysql.sh on the MariaDB server (MariaDB run only).

Fill a database (the demo cohort, submissions with certificates, a hand-over, a revocation, a department
key), back it up while the app keeps running, restore it under another name, and show nothing was lost:
the same tables, the same row counts and the same CHECKSUM TABLE for each, and the app on the restored
database verifies a certificate with a token issued before the backup.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from server.app import create_app
from server.clearance.models import Student
from server.demo_data import fill_demo_data
from server.departments.credentials import create_key
from server.identity.models import Staff
from server.identity.tokens import issue_token
from server.timeutil import utcnow
from tests.conftest import LiveServer, backend
from tests.factories import student_token

pytestmark = [pytest.mark.mysql, pytest.mark.slow,
              pytest.mark.skipif(backend() != "mysql", reason="runs in the MariaDB run (LIXIAO_TEST_DATABASE=mysql)")]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the scripts against the test server."""
    url = make_url(os.environ.get("LIXIAO_TEST_MYSQL_ROOT", "mysql+pymysql://root@127.0.0.1:3306/"))
    return subprocess.run(["bash", str(ROOT / "scripts" / script), "-h", url.host or "127.0.0.1",
                           "-P", str(url.port or 3306), "-u", url.username or "root", *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **({"MYSQL_PWD": url.password} if url.password else {})})


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
                               timeout=TIMEOUT)
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
        with root.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{target}`"))
        root.dispose()


def test_a_failed_restore_leaves_no_half_restored_database(tmp_path, settings):
    broken = tmp_path / "broken.sql.gz"
    broken.write_bytes(gzip.compress(b"CREATE TABLE t (id INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nNOT SQL;\n"))
    target = f"lixiao_broken_{uuid.uuid4().hex[:8]}"
    answer = run("restore_mysql.sh", str(broken), target)
    assert answer.returncode != 0 and "nothing is left half-restored" in answer.stderr
    root = create_engine(settings.database_url)
    with root.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = :n"),
                            {"n": target}).scalar_one() == 0
    root.dispose()
    assert run("backup_mysql.sh", "no_such_database_here", str(tmp_path / "x.sql.gz")).returncode != 0
    assert not list(tmp_path.glob("x.sql.gz*"))  # no file that looks like a backup
