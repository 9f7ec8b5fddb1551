"""The departmental API over real HTTP: signatures, replay, idempotent upserts, batches, and bad input."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from server.app import create_app
from server.audit import AuditEntry
from server.clearance.models import ItemState, Transition
from server.departments.credentials import create_key
from server.items.library import LibraryRecord
from server.settings import DepartmentSettings
from server.timeutil import utcnow
from tests.conftest import LiveServer
from tests.departments.signing import signed
from tests.factories import ITEM_KEYS, make_batch, make_student

PASSING_LIBRARY = {"owed_books": 0, "owed_fees_cents": 0, "violations": 0, "card_status": "cancelled",
                   "thesis_status": "approved"}


@pytest.fixture
def library_key(session, settings):
    issued = create_key(session, settings.secret_key, "library", now=utcnow())
    session.commit()
    return issued


def count(session, model) -> int:
    session.commit()  # ends the read snapshot, so the app's commits are seen
    return session.scalar(select(func.count()).select_from(model))


def error_code(response) -> str:
    body = response.json()
    assert set(body["error"]) >= {"code", "message", "message_en"}
    return body["error"]["code"]


def put(live, key, student_no, payload, **kw):
    return signed(live.url, "PUT", f"/api/v1/departments/library/records/{student_no}", payload,
                  key_id=key.key_id, secret=key.secret, **kw)


def test_put_creates_then_is_idempotent_and_writes_transitions(session, live, library_key):
    student = make_student(session, make_batch(session), student_no="API0000001")
    session.commit()
    first = put(live, library_key, "API0000001", PASSING_LIBRARY)
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "created" and first.json()["item"]["status"] == "passed"
    again = put(live, library_key, "API0000001", PASSING_LIBRARY)  # a new timestamp: not a replay
    if again.status_code == 409:  # the same second gives the same signature; sign a second later
        time.sleep(1.05)
        again = put(live, library_key, "API0000001", PASSING_LIBRARY)
    assert again.status_code == 200 and again.json()["result"] == "unchanged"
    partial = put(live, library_key, "API0000001", {"owed_books": 2}, timestamp=int(time.time()) - 2)
    assert partial.json()["result"] == "updated" and partial.json()["item"]["status"] == "not_passed"
    session.expire_all()
    record = session.scalars(select(LibraryRecord).where(LibraryRecord.student_id == student.id)).one()
    assert (record.owed_books, record.card_status, record.source) == (2, "cancelled", "api")
    flips = session.scalars(select(Transition).where(Transition.item == "library").order_by(Transition.id)).all()
    assert [(t.from_status, t.to_status) for t in flips] == [(None, "passed"), ("passed", "not_passed")]
    audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "library_record.write")).all()
    assert len(audits) == 2 and audits[0].actor == f"department_key:{library_key.key_id}"


def test_bad_signature_stale_timestamp_unknown_key_and_missing_headers(session, live, library_key):
    make_student(session, make_batch(session), student_no="API0000002")
    session.commit()
    path = "/api/v1/departments/library/records/API0000002"
    bad = signed(live.url, "PUT", path, PASSING_LIBRARY, key_id=library_key.key_id, secret="wrong-secret")
    assert bad.status_code == 401 and error_code(bad) == "BAD_SIGNATURE"
    stale = put(live, library_key, "API0000002", PASSING_LIBRARY, timestamp=int(time.time()) - 301)
    assert stale.status_code == 401 and error_code(stale) == "STALE_TIMESTAMP"
    future = put(live, library_key, "API0000002", PASSING_LIBRARY, timestamp=int(time.time()) + 400)
    assert error_code(future) == "STALE_TIMESTAMP"
    unknown = signed(live.url, "PUT", path, PASSING_LIBRARY, key_id="lib_nosuchkey", secret=library_key.secret)
    assert unknown.status_code == 401 and error_code(unknown) == "UNKNOWN_KEY"
    import requests

    bare = requests.put(live.url + path, json=PASSING_LIBRARY, timeout=10)
    assert bare.status_code == 401 and error_code(bare) == "UNAUTHORIZED"
    # A body changed after signing is a bad signature too.
    tampered = signed(live.url, "PUT", path, None, key_id=library_key.key_id, secret=library_key.secret,
                      body=b'{"owed_books": 0}')
    assert tampered.status_code == 200  # control: a correctly signed raw body works
    assert count(session, LibraryRecord) == 1


def test_replayed_request_is_refused(session, live, library_key):
    make_student(session, make_batch(session), student_no="API0000003")
    session.commit()
    ts = int(time.time())
    first = put(live, library_key, "API0000003", PASSING_LIBRARY, timestamp=ts)
    replay = put(live, library_key, "API0000003", PASSING_LIBRARY, timestamp=ts)
    assert first.status_code == 200
    assert replay.status_code == 409 and error_code(replay) == "REPLAYED_REQUEST"


def _raw(live, key_id: str, path: str, data: bytes, ts: str, signature: str):
    import requests

    return requests.put(live.url + path, data=data, timeout=10, headers={
        "Content-Type": "application/json", "X-Lixiao-Key": key_id, "X-Lixiao-Timestamp": ts,
        "X-Lixiao-Signature": signature})


def test_a_respelled_key_id_does_not_replay_a_captured_request(session, live, library_key):
    """Review F3: on MariaDB the key lookup ignores case and trailing spaces; the replay guard must not."""
    import json

    from server.departments.credentials import sign

    make_student(session, make_batch(session), student_no="API0000013")
    session.commit()
    path = "/api/v1/departments/library/records/API0000013"
    ts = str(int(time.time()))
    captured = json.dumps({"owed_books": 0}).encode()
    signature = sign(library_key.secret, "PUT", path, ts, captured)
    assert _raw(live, library_key.key_id, path, captured, ts, signature).status_code == 200
    newer = put(live, library_key, "API0000013", {"owed_books": 4}, timestamp=int(ts) - 1)
    assert newer.status_code == 200 and newer.json()["result"] == "updated"
    exact = _raw(live, library_key.key_id, path, captured, ts, signature)
    assert exact.status_code == 409 and error_code(exact) == "REPLAYED_REQUEST"
    for spelling in (library_key.key_id.upper(), library_key.key_id.capitalize(),
                     library_key.key_id + " " * (40 - len(library_key.key_id)) + "x",
                     library_key.key_id + " " * (41 - len(library_key.key_id)) + "x"):
        replay = _raw(live, spelling, path, captured, ts, signature)
        assert replay.status_code == 401 and error_code(replay) == "UNKNOWN_KEY", (spelling, replay.text)
    session.expire_all()
    record = session.scalars(select(LibraryRecord)).one()
    assert record.owed_books == 4  # the newer record stands


def test_key_of_another_department_is_forbidden(session, settings, live):
    make_student(session, make_batch(session), student_no="API0000004")
    finance = create_key(session, settings.secret_key, "finance", now=utcnow())
    session.commit()
    response = signed(live.url, "PUT", "/api/v1/departments/library/records/API0000004", PASSING_LIBRARY,
                      key_id=finance.key_id, secret=finance.secret)
    assert response.status_code == 403 and error_code(response) == "WRONG_DEPARTMENT"
    assert count(session, LibraryRecord) == 0


def test_wrong_types_and_foreign_fields_write_nothing(session, live, library_key):
    make_student(session, make_batch(session), student_no="API0000005")
    session.commit()
    wrong_type = put(live, library_key, "API0000005", {**PASSING_LIBRARY, "owed_books": "2"})
    assert wrong_type.status_code == 400 and error_code(wrong_type) == "VALIDATION_ERROR"
    assert any("owed_books" in f["loc"] for f in wrong_type.json()["error"]["fields"])
    foreign = put(live, library_key, "API0000005", {"arrears_cents": 100}, timestamp=int(time.time()) - 1)
    assert foreign.status_code == 400 and foreign.json()["error"]["fields"][0]["loc"] == ["arrears_cents"]
    bad_status = put(live, library_key, "API0000005", {"thesis_status": "reviewed"}, timestamp=int(time.time()) - 2)
    assert bad_status.status_code == 400
    negative = put(live, library_key, "API0000005", {"owed_books": -1}, timestamp=int(time.time()) - 3)
    assert negative.status_code == 400
    unknown_field = put(live, library_key, "API0000005", {"owed_bookz": 1}, timestamp=int(time.time()) - 4)
    assert unknown_field.status_code == 400
    assert count(session, LibraryRecord) == 0 and count(session, AuditEntry) == 1  # only the key's creation


def test_unknown_student(session, live, library_key):
    response = put(live, library_key, "NOSUCH0001", PASSING_LIBRARY)
    assert response.status_code == 404 and error_code(response) == "STUDENT_NOT_FOUND"


def test_batch_of_1000_all_or_nothing(session, live, library_key):
    batch = make_batch(session)
    for n in range(1000):
        make_student(session, batch, student_no=f"BAT{n:07d}")
    session.commit()
    records = [{"student_no": f"BAT{n:07d}", **PASSING_LIBRARY, "owed_books": n % 3} for n in range(1000)]
    with_unknown = [*records[:500], {"student_no": "NOSUCH0002", **PASSING_LIBRARY}, *records[500:]]
    rejected = signed(live.url, "POST", "/api/v1/departments/library/records", {"records": with_unknown},
                      key_id=library_key.key_id, secret=library_key.secret)
    assert rejected.status_code == 422 and error_code(rejected) == "RECORDS_REJECTED"
    assert rejected.json()["error"]["rows"] == [
        {"index": 500, "student_no": "NOSUCH0002", "code": "STUDENT_NOT_FOUND",
         "message": "学号不存在：NOSUCH0002", "message_en": "No student with number NOSUCH0002"}]
    assert count(session, LibraryRecord) == 0 and count(session, ItemState) == 0
    bad_row = [*records[:10], {"student_no": "BAT0000010", "owed_books": 1.5}]
    typed = signed(live.url, "POST", "/api/v1/departments/library/records", {"records": bad_row},
                   key_id=library_key.key_id, secret=library_key.secret)
    assert typed.status_code == 400
    assert typed.json()["error"]["fields"][0]["loc"][:3] == ["body", "records", "10"] or \
        typed.json()["error"]["fields"][0]["loc"][:2] == ["records", "10"]
    started = time.monotonic()
    ok = signed(live.url, "POST", "/api/v1/departments/library/records", {"records": records},
                key_id=library_key.key_id, secret=library_key.secret)
    elapsed = time.monotonic() - started
    assert ok.status_code == 200, ok.text
    assert ok.json()["counts"] == {"created": 1000, "updated": 0, "unchanged": 0}
    assert count(session, LibraryRecord) == 1000 and count(session, ItemState) == 1000 * len(ITEM_KEYS)
    assert elapsed < 30
    again = signed(live.url, "POST", "/api/v1/departments/library/records", {"records": records},
                   key_id=library_key.key_id, secret=library_key.secret, timestamp=int(time.time()) + 2)
    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 1000}


def test_department_read_from_elsewhere_refuses_pushes(session, settings):
    departments = dict(settings.departments)
    departments["library"] = DepartmentSettings(source="http", url="http://127.0.0.1:9/library")
    app = create_app(settings.with_overrides(departments=departments))
    server = LiveServer(app)
    try:
        make_student(session, make_batch(session), student_no="API0000006")
        key = create_key(session, settings.secret_key, "library", now=utcnow())
        session.commit()
        response = signed(server.url, "PUT", "/api/v1/departments/library/records/API0000006", PASSING_LIBRARY,
                          key_id=key.key_id, secret=key.secret)
        assert response.status_code == 409 and error_code(response) == "DEPARTMENT_READ_ONLY"
    finally:
        server.stop()
        app.extensions["lixiao"].engine.dispose()


def test_reference_client_script(session, live, library_key, tmp_path):
    """scripts/department_client.py signs and sends a file of records in batches."""
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "department_client.py"
    spec = importlib.util.spec_from_file_location("department_client", path)
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    batch = make_batch(session)
    for n in range(5):
        make_student(session, batch, student_no=f"CLI{n:07d}")
    session.commit()
    records = tmp_path / "records.json"
    records.write_text(json.dumps([{"student_no": f"CLI{n:07d}", **PASSING_LIBRARY} for n in range(5)]))
    code = client.main(["--url", live.url, "--department", "library", "--key-id", library_key.key_id,
                        "--secret", library_key.secret, "--batch-size", "2", str(records)])
    assert code == 0 and count(session, LibraryRecord) == 5
    wrong = client.main(["--url", live.url, "--department", "library", "--key-id", library_key.key_id,
                         "--secret", "not-the-secret", str(records)])
    assert wrong == 1
