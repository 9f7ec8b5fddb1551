"""Hand-over at the counter (each item once, all or nothing) and revocation by an administrator."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import get_args

from sqlalchemy import func, select

from server.api.certificates import HandoverItem
from server.audit import AuditEntry
from server.certificates.models import Handover
from server.vocabulary import HANDOVER_ITEMS


def handovers(session) -> list[tuple[str, int]]:
    session.expire_all()
    return [(h.item, h.staff_id) for h in session.scalars(select(Handover).order_by(Handover.id))]


def audits(session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_api_offers_exactly_the_handover_items():
    assert set(get_args(HandoverItem)) == set(HANDOVER_ITEMS)


def test_handover_records_each_item_once_and_shows_who(session, submit, counter_client):
    done = submit()
    serial = done.certificate["serial"]
    response = counter_client.post("/api/v1/counter/handover", json={"serial": serial, "items": ["diploma"]})
    assert response.status_code == 200, response.text
    certificate = response.json()["certificate"]
    assert certificate["status"] == "handed_over"
    [entry] = certificate["handed_over"]
    assert entry["item"] == "diploma" and entry["by"] == "窗口甲" and entry["at"].endswith("+08:00")
    assert entry["title"] == "毕业证书" and entry["title_en"] == "Diploma"
    # A later scan shows it was already handed over, by whom and when.
    scanned = counter_client.post("/api/v1/counter/verify", json={"qr_text": done.certificate["qr_text"]}).json()
    assert scanned["certificate"]["status"] == "handed_over"
    assert scanned["certificate"]["handed_over"] == [entry]
    more = counter_client.post("/api/v1/counter/handover",
                               json={"serial": serial, "items": ["degree_certificate", "archive_transfer"]})
    assert [h["item"] for h in more.json()["certificate"]["handed_over"]] == [
        "diploma", "degree_certificate", "archive_transfer"]
    assert [a.after["items"] for a in audits(session, "certificate.handover")] == [
        ["diploma"], ["degree_certificate", "archive_transfer"]]


def test_repeated_item_is_409_naming_who_and_when_and_writes_nothing(session, submit, counter_client, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    assert counter_client.post("/api/v1/counter/handover",
                               json={"serial": serial, "items": ["diploma"]}).status_code == 200
    before = handovers(session)
    response = admin_client.post("/api/v1/counter/handover",
                                 json={"serial": serial, "items": ["degree_certificate", "diploma"]})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "ALREADY_HANDED_OVER"
    assert "窗口甲" in error["message"] and "毕业证书" in error["message"]
    assert [h["item"] for h in error["handed_over"]] == ["diploma"] and error["handed_over"][0]["by"] == "窗口甲"
    assert handovers(session) == before  # degree_certificate was not written either
    assert len(audits(session, "certificate.handover")) == 1


def test_concurrent_handovers_of_one_item_record_it_once(session, submit, counter_client, admin_client):
    done = submit()
    body = {"serial": done.certificate["serial"], "items": ["diploma"]}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda client: client.post("/api/v1/counter/handover", json=body),
                                [counter_client, admin_client]))
    assert sorted(r.status_code for r in results) == [200, 409]
    assert len(handovers(session)) == 1


def test_handover_refusals(submit, counter_client, admin_client):
    done = submit()
    serial = done.certificate["serial"]
    unknown = counter_client.post("/api/v1/counter/handover", json={"serial": "LX2027-999999", "items": ["diploma"]})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "CERTIFICATE_NOT_FOUND"
    for body in ({"serial": serial, "items": []}, {"serial": serial, "items": ["car_keys"]},
                 {"serial": "lx 1", "items": ["diploma"]}, {"serial": serial}):
        response = counter_client.post("/api/v1/counter/handover", json=body)
        assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"
    admin_client.post(f"/api/v1/admin/certificates/{serial}/revoke", json={"reason": "重复签发"})
    revoked = counter_client.post("/api/v1/counter/handover", json={"serial": serial, "items": ["diploma"]})
    assert revoked.status_code == 422 and revoked.json()["error"]["code"] == "CERTIFICATE_REVOKED"


def test_admin_revokes_with_a_reason_audited_and_the_student_sees_it(session, submit, api, admin_client,
                                                                     counter_client):
    done = submit()
    serial = done.certificate["serial"]
    path = f"/api/v1/admin/certificates/{serial}/revoke"
    assert counter_client.post(path, json={"reason": "无权撤销"}).status_code == 403
    assert api(done.token).post(path, json={"reason": "无权撤销"}).status_code == 403
    assert admin_client.post(path, json={"reason": "x"}).status_code == 400
    response = admin_client.post(path, json={"reason": "论文查重未通过，学位撤销"})
    assert response.status_code == 200, response.text
    certificate = response.json()["certificate"]
    assert certificate["status"] == "revoked" and certificate["revoked_reason"] == "论文查重未通过，学位撤销"
    again = admin_client.post(path, json={"reason": "再次撤销"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_REVOKED"
    [audit] = audits(session, "certificate.revoke")
    assert audit.actor == "staff:admin" and audit.entity == f"certificate:{serial}"
    assert audit.after == {"revoked": True, "reason": "论文查重未通过，学位撤销"}
    student = api(done.token)
    mine = student.get("/api/v1/me/certificate").json()
    assert mine["status"] == "revoked" and mine["revoked_reason"] == "论文查重未通过，学位撤销"
    assert mine["revoked_at"].endswith("+08:00")
    # Nothing to show at the counter any more: no QR code in any form (#17.7), and the PNG says why.
    assert mine["qr_text"] is None and mine["qr_svg"] is None and mine["verify_url"] is None
    png = student.get("/api/v1/me/certificate.png")
    assert png.status_code == 422 and png.json()["error"]["code"] == "CERTIFICATE_REVOKED"
    assert png.json()["error"]["certificate"]["revoked_reason"] == "论文查重未通过，学位撤销"
    assert student.get("/api/v1/me/applications").json()["applications"][0]["certificate"]["status"] == "revoked"
    missing = admin_client.post("/api/v1/admin/certificates/LX2027-999999/revoke", json={"reason": "不存在"})
    assert missing.status_code == 404
    assert session.scalar(select(func.count()).select_from(Handover)) == 0
