"""Every Chinese name fits, on a MariaDB database created `CHARACTER SET utf8mb3` (a common DBA default).

Names outside the BMP (王𪚥, 𠮷, 𡈽) go in through the roster import, the console, the departmental API and CAS
attributes and come back on the status page, the certificate and an export. An install made before the tables
declared utf8mb4 is converted by migration 0011 with its data, and start-up in production and /readyz refuse a
schema that is not utf8mb4 (server/schema_check.py).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import column, create_engine, select, table, text
from sqlalchemy.exc import DataError, OperationalError

from server.app import create_app
from server.audit import AuditEntry
from server.clearance.models import Batch, Student
from server.departments.credentials import create_key
from server.emulators.testing import cas_login
from server.identity.models import Staff
from server.migrate import upgrade
from server.schema_check import charset_problems
from server.settings import Settings, SettingsError
from server.timeutil import utcnow
from tests.conftest import MYSQL_ROOT, backend
from tests.departments.console_client import ConsoleClient
from tests.departments.signing import signed
from tests.factories import ITEM_KEYS
from tests.identity.conftest import clock, emulator, http_server, live, overrides, settings  # noqa: F401

pytestmark = [pytest.mark.mysql,
              pytest.mark.skipif(backend() != "mysql", reason="MariaDB only (LIXIAO_TEST_DATABASE=mysql)")]

NAME, COLLEGE, MAJOR, CAS_NAME = "王𪚥", "𡈽木工程学院", "𠮷祥软件工程", "王𪚥𠮷"
HANDLER, FEE = "𡈽管理员", "住宿费（𪚥园）"
STUDENT_NO = "UTF0000001"


def _create_database(charset: str) -> tuple[str, str]:
    name = f"lixiao_{charset}_{uuid.uuid4().hex[:10]}"
    root = create_engine(MYSQL_ROOT)
    with root.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET {charset} COLLATE {charset}_general_ci"))
    root.dispose()
    return name, MYSQL_ROOT.replace("/?", f"/{name}?")


def _drop_database(name: str) -> None:
    root = create_engine(MYSQL_ROOT)
    with root.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    root.dispose()


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """This module's database: created utf8mb3, then brought to head by the migrations."""
    name, url = _create_database("utf8mb3")
    upgrade(url)
    yield url
    _drop_database(name)


@pytest.fixture
def old_install() -> Iterator[str]:
    """A database as the migrations used to leave it on a utf8mb3 server: every table utf8mb3, at 0006."""
    name, url = _create_database("utf8mb3")
    upgrade(url, "0006")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text("SELECT TABLE_NAME FROM information_schema.TABLES "
                                   "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")).scalars().all()
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in tables:
            conn.execute(text(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()
    yield url
    _drop_database(name)


def _insert_student(url: str, student_no: str, name: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            # The columns every schema since 0001 has (the model's later ones, e.g. data_version, may not exist yet).
            old_students = table("students", *(column(name) for name in (
                "student_no", "name", "college", "major", "degree_level", "expected_graduation", "lived_on_campus",
                "supervisor", "created_at")))
            conn.execute(old_students.insert().values(supervisor="", created_at=utcnow().replace(tzinfo=None),
                student_no=student_no, name=name, college="计算机学院", major="软件工程", degree_level="master",
                expected_graduation=utcnow().date(), lived_on_campus=True))
    finally:
        engine.dispose()


def _names(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = list(conn.execute(select(Student.name).order_by(Student.student_no)).scalars())
    engine.dispose()
    return names


def test_the_migrations_make_every_table_utf8mb4_on_a_utf8mb3_database(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert charset_problems(conn) == []
        collations = dict(conn.execute(text("SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES "
                                            "WHERE TABLE_SCHEMA = DATABASE()")).all())
    engine.dispose()
    assert "students" in collations and "alembic_version" in collations
    assert set(collations.values()) == {"utf8mb4_unicode_ci"}


def test_an_old_install_is_refused_then_converted_with_its_data(old_install, settings):  # noqa: F811
    # The review's reproduction: 张三 stores, 王𪚥 fails with error 1366.
    _insert_student(old_install, "OLD0000001", "张三")
    with pytest.raises((DataError, OperationalError)) as refused:
        _insert_student(old_install, "OLD0000002", NAME)
    assert "1366" in str(refused.value)

    app = create_app(settings.with_overrides(database_url=old_install))
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    problem = ready.json["problems"]["charset"]
    assert "utf8mb3, not utf8mb4" in problem and "students" in problem
    app.extensions["lixiao"].engine.dispose()
    with pytest.raises(SettingsError, match=r"(?s)cannot store every Chinese name.*students.*server.cli migrate"):
        create_app(Settings(env="production", database_url=old_install))

    upgrade(old_install)  # 0011
    _insert_student(old_install, "OLD0000002", NAME)
    assert _names(old_install) == ["张三", NAME]
    app = create_app(settings.with_overrides(database_url=old_install))
    assert app.test_client().get("/readyz").status_code == 200
    app.extensions["lixiao"].engine.dispose()
    create_app(Settings(env="production", database_url=old_install)).extensions["lixiao"].engine.dispose()


def test_a_table_a_dba_turned_back_to_utf8mb3_fails_readyz(app, settings):  # noqa: F811
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE job_runs CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"))
    try:
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503 and "tables not in utf8mb4: job_runs" in ready.json["problems"]["charset"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE job_runs CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        engine.dispose()
    assert app.test_client().get("/readyz").status_code == 200


def test_supplementary_plane_names_go_in_every_way_and_come_back_out(app, live, emulator, session):  # noqa: F811
    batch = Batch(name="2027届𪚥", opens_at=utcnow().replace(year=2020), closes_at=utcnow().replace(year=2099))
    admin = Staff(username="gs-admin", name="管理员", role="admin")
    session.add_all([batch, admin])
    session.commit()
    as_admin = ConsoleClient(live.url, app, staff=admin)

    # The roster import (a CSV uploaded on the console).
    roster = ("学号,姓名,学院,专业,学位类别,预计毕业日期,是否住校,批次\n"
              f"{STUDENT_NO},{NAME},{COLLEGE},{MAJOR},硕士,2027-06-30,是,{batch.name}\n").encode()
    imported = as_admin.post("/console/imports", {"kind": "roster", "batch": batch.name},
                             files={"file": ("roster.csv", roster, "text/csv")})
    assert imported.status_code == 200, imported.text

    # The console: an administrator adds the apartment manager 𡈽管理员, who records the move-out.
    added = as_admin.post("/console/staff", {"username": "apt-u", "name": HANDLER, "role": "operator",
                                             "department": "apartment"}, page="/console/staff")
    assert added.status_code in (302, 303), added.text
    manager = session.scalars(select(Staff).where(Staff.username == "apt-u")).one()
    moved = ConsoleClient(live.url, app, staff=manager).post(f"/console/students/{STUDENT_NO}/apartment/move-out",
                                                             {"move_out_date": ""})
    assert moved.status_code == 303, moved.text

    # The departmental API: finance names a fee line 住宿费（𪚥园）; library and archives clear.
    payloads = {"finance": {"arrears_cents": 0, "fee_items": [{"name": FEE, "due_cents": 120000,
                                                               "paid_cents": 120000}]},
                "library": {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
                            "thesis_status": "approved"},
                "archives": {"thesis_status": "reviewed"}}
    if "college" in ITEM_KEYS:  # the five-item run: the college's system signs too
        payloads["college"] = {"status": "signed_off", "signed_by": HANDLER, "signed_on": "2027-06-20"}
    for department, payload in payloads.items():
        key = create_key(session, app.extensions["lixiao"].settings.secret_key, department, now=utcnow())
        session.commit()
        put = signed(live.url, "PUT", f"/api/v1/departments/{department}/records/{STUDENT_NO}", payload,
                     key_id=key.key_id, secret=key.secret)
        assert put.status_code == 200, put.text

    # CAS attributes: the university's CAS calls the student 王𪚥𠮷 (recorded for staff, the roster stays).
    emulator.add_cas_users({"username": STUDENT_NO, "password": "demo", "attributes": {"cn": CAS_NAME}})
    browser = requests.Session()
    start = browser.get(f"{live.url}/login", params={"next": "/me"}, allow_redirects=False, timeout=10)
    ticket = cas_login(browser, start.headers["Location"], STUDENT_NO, "demo")
    assert browser.get(ticket.headers["Location"], allow_redirects=False, timeout=10).status_code == 302
    session.expire_all()
    [differs] = session.scalars(select(AuditEntry).where(AuditEntry.action == "cas.roster_differs")).all()
    assert differs.after == {"name": CAS_NAME} and differs.before == {"name": NAME}

    # Back out: the status page, the certificate, an export, and the console.
    status = browser.get(f"{live.url}/me", timeout=10).text
    for shown in (NAME, COLLEGE):
        assert shown in status
    page = browser.get(f"{live.url}/me/submit", timeout=10).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    submitted = browser.post(f"{live.url}/me/submit", data={"csrf_token": token}, allow_redirects=False, timeout=30)
    assert submitted.status_code == 302 and submitted.headers["Location"] == "/me/certificate", submitted.text
    printed = browser.get(f"{live.url}/me/certificate/print", timeout=10).text
    for shown in (NAME, COLLEGE, HANDLER):
        assert shown in printed, shown
    export = as_admin.get(f"/admin/exports/students.csv?batch={batch.id}")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [c for c in rows[1] if c in (NAME, COLLEGE, MAJOR)] == [NAME, COLLEGE, MAJOR]
    console = as_admin.get(f"/console/students/{STUDENT_NO}").text
    for shown in (NAME, CAS_NAME, HANDLER, FEE):
        assert shown in console, shown
    assert HANDLER in as_admin.get("/console/staff").text
