"""The push-problems page in words (#17): what each push was about, the channel it went by and the state it is in,
in the page's one language; the stored codes (item_passed, svc_acct, unconfirmed) stay off the page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from server.clearance.events import OutboxEvent, event_row, insert_events
from server.identity import sessions
from server.messaging import claims
from server.messaging.service_account import CHANNEL as SERVICE_ACCOUNT
from server.messaging.templates import EVENT_KEYS
from server.timeutil import utcnow
from server.vocabulary import DELIVERY_LABELS, EVENT_LABELS, PUSH_CHANNEL_LABELS, SESSION_CHANNEL_LABELS
from tests.factories import make_batch, make_student

ENGLISH = {"Accept-Language": "en"}
TAGS = re.compile(r"<[^>]+>")


def _push(session, student, event: str, key: str, *, status: str, channel: str | None) -> int:  # type: ignore[no-untyped-def]
    now = utcnow()
    insert_events(session, [event_row(student.id, event, key, {"batch_id": student.batch_id, "item": "library",
                                                               "changed_at": now.isoformat()}, now)])
    row_id = session.scalars(select(OutboxEvent.id).where(OutboxEvent.student_id == student.id,
                                                          OutboxEvent.event_key == key)).one()
    session.execute(update(OutboxEvent).where(OutboxEvent.id == row_id).values(
        status=status, channel=channel, last_error="41030: invalid page"))
    return row_id


@pytest.fixture
def problems(session):  # type: ignore[no-untyped-def]
    student = make_student(session, make_batch(session))
    _push(session, student, "item_passed", f"item_passed:{student.batch_id}:library", status=claims.UNCONFIRMED,
          channel="wecom")
    _push(session, student, "batch_closing_reminder", f"reminder:{student.batch_id}:3", status=claims.REFUSED,
          channel=SERVICE_ACCOUNT)
    _push(session, student, "certificate_issued", "certificate_issued:TS-1", status=claims.FAILED, channel="wechat")
    session.commit()


def _text(html: str) -> str:
    """What the page says: its text and no markup (ids and form values hold codes on purpose)."""
    return " ".join(TAGS.sub(" ", html).split())


def test_events_channels_and_states_are_words_in_chinese(problems, admin_client):
    text = _text(admin_client.get("/admin/pushes").get_data(as_text=True))
    for words in (EVENT_LABELS["item_passed"], EVENT_LABELS["batch_closing_reminder"],
                  EVENT_LABELS["certificate_issued"], PUSH_CHANNEL_LABELS["wecom"],
                  PUSH_CHANNEL_LABELS[SERVICE_ACCOUNT], PUSH_CHANNEL_LABELS["wechat"],
                  DELIVERY_LABELS[claims.UNCONFIRMED], DELIVERY_LABELS[claims.REFUSED]):
        assert words[0] in text and words[1] not in text
    for code in ("item_passed", "batch_closing_reminder", "certificate_issued", SERVICE_ACCOUNT, "wecom", "wechat"):
        assert code not in text, code


def test_events_channels_and_states_are_words_in_english(problems, admin_client):
    text = _text(admin_client.get("/admin/pushes", headers=ENGLISH).get_data(as_text=True))
    for words in (EVENT_LABELS["item_passed"], EVENT_LABELS["batch_closing_reminder"],
                  PUSH_CHANNEL_LABELS["wecom"], PUSH_CHANNEL_LABELS[SERVICE_ACCOUNT],
                  DELIVERY_LABELS[claims.FAILED]):
        assert words[1] in text and words[0] not in text
    for code in ("item_passed", "batch_closing_reminder", SERVICE_ACCOUNT):
        assert code not in text, code


def test_every_event_channel_and_delivery_state_has_words_in_both_languages():
    channels = ("wechat", "wecom", SERVICE_ACCOUNT)
    for table, codes in ((EVENT_LABELS, EVENT_KEYS), (PUSH_CHANNEL_LABELS, channels),
                         (DELIVERY_LABELS, (claims.PENDING, claims.SENDING, *claims.FINAL))):
        assert set(table) == set(codes)
        for code, (zh, en) in table.items():
            assert zh and en and code not in (zh, en)
    for kind, channel in sessions.CHANNELS:
        zh, en = SESSION_CHANNEL_LABELS[f"{kind}:{channel}"]
        assert zh and en and channel not in (zh, en)


def test_an_unknown_code_shows_as_it_is_stored(session, admin_client):
    student = make_student(session, make_batch(session))
    _push(session, student, "graduation_party", "graduation_party:1", status=claims.UNCONFIRMED, channel="fax")
    session.commit()
    text = _text(admin_client.get("/admin/pushes").get_data(as_text=True))
    assert "graduation_party" in text and "fax" in text
