"""Every pushed link opens the page it talks about, signed in as that student (issue 14 point 1).

End to end: an item turns green, the worker delivers a WeCom text card to the emulator, and Chromium follows
the card's link as WeCom's own browser would: through WeCom OAuth (the emulator knows who is using WeCom) to
the student's status page, signed in. The other links (every template's card, subscribe page, in-app link)
are checked over plain HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from server.messaging.recipients import remember_wecom_user
from server.messaging.templates import get_templates
from server.messaging.worker import Worker
from server.timeutil import utcnow
from tests.factories import ALL_PASSED, ITEM_KEYS, make_batch, make_student
from tests.messaging.pushes import RED, import_records, statuses

APP_JSON = Path(__file__).resolve().parents[2] / "miniprogram" / "app.json"
USERID_COOKIE = "emu_wecom_userid"  # the emulator's stand-in for "who is using WeCom on this phone"


def _wecom_student(session, portal, student_no: str, name: str) -> Any:  # type: ignore[no-untyped-def]
    """A student who has opened the app in WeCom once (so cards reach them), every item red."""
    student = make_student(session, make_batch(session), student_no=student_no, name=name)
    remember_wecom_user(session, student.id, student_no, utcnow())
    session.flush()
    import_records(session, portal.app.extensions["lixiao"].settings, [student], RED)
    session.commit()
    portal.emulator.control("POST", "wecom/members", {"userid": student_no})
    return student


def _deliver(session, portal) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    state = portal.app.extensions["lixiao"]
    worker = Worker(state.settings, engine=state.engine, redis_client=state.redis)
    worker.run_once()
    assert statuses(session).get("sent", 0) >= 1
    return portal.emulator.messages("wecom")


@pytest.mark.browser
def test_a_green_item_pushes_a_card_whose_link_lands_signed_in_on_the_status_page(
        portal, session, phone) -> None:
    student = _wecom_student(session, portal, "2027990077", "宋某丙")
    first = ITEM_KEYS[0]
    import_records(session, portal.app.extensions["lixiao"].settings, [student], {first: ALL_PASSED[first]})
    session.commit()
    card = _deliver(session, portal)[0]  # (an item judged on another's record may pass along with it)
    url = card["msg"]["url"]
    assert card["touser"] == student.student_no and url == portal.url + "/wecom/login?next=/me"

    page = phone  # WeCom opens cards in its own browser on the phone
    page.context.add_cookies([{"name": USERID_COOKIE, "value": student.student_no, "url": portal.emulator.url}])
    page.goto(url)
    # The authorize URL's "#wechat_redirect" rides along through the redirects, as browsers keep fragments.
    assert page.url.split("#")[0] == portal.url + "/me", page.url
    assert page.locator("h1").inner_text().startswith("我的离校")
    assert "宋某丙" in page.inner_text("body")
    assert "通过" in page.locator(f"#item-{first} .badge").inner_text()


def test_every_templates_links_open_their_page_signed_in(portal, session) -> None:
    student = _wecom_student(session, portal, "2027990078", "韩某丁")
    base = portal.app.extensions["lixiao"].settings.public_base_url
    pages = set(json.loads(APP_JSON.read_text(encoding="utf-8"))["pages"])
    browser = requests.Session()
    browser.cookies.set(USERID_COOKIE, student.student_no, domain="127.0.0.1")
    for key, template in get_templates().items():
        assert template.page in pages, f"{key}: subscribe page {template.page} is not in app.json"
        card = urlsplit(template.wecom.url)
        assert card.path == "/wecom/login", f"{key}: a WeCom card must sign in through WeCom OAuth"
        answer = browser.get(base + template.wecom.url, timeout=10)
        assert answer.status_code == 200, f"{key}: {template.wecom.url} → {answer.status_code}"
        assert answer.url.split("#")[0] == base + template.link and "/logout" in answer.text, key  # signed in
        again = browser.get(base + template.link, timeout=10)  # the in-app link, in the same signed-in browser
        assert again.status_code == 200 and again.url == base + template.link, key


def test_notifications_carry_the_page_and_link_of_their_event(portal, session) -> None:
    student = _wecom_student(session, portal, "2027990079", "曹某戊")
    first = ITEM_KEYS[0]
    import_records(session, portal.app.extensions["lixiao"].settings, [student], {first: ALL_PASSED[first]})
    session.commit()
    browser = requests.Session()
    browser.cookies.set(USERID_COOKIE, student.student_no, domain="127.0.0.1")
    base = portal.app.extensions["lixiao"].settings.public_base_url
    html = browser.get(base + "/wecom/login?next=/me/notifications", timeout=10).text
    assert 'href="/me"' in html and "查看" in html
