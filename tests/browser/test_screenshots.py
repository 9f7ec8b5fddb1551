"""Every web page in every state, at 390×844 and 1280×800: no horizontal overflow, no serious axe violation. Every
mini-program page in the same states, as the phone shows it at 375 px wide: no horizontal overflow.

The same run is `make screenshots`: with LIXIAO_SCREENSHOTS=<dir> the pictures land there (docs/screenshots/),
otherwise under test-artifacts/web/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.certificates.service import reissue_certificate, revoke_certificate
from server.clearance.contexts import load_contexts, recompute
from server.clearance.records import record_failure
from server.items import registry
from server.messaging import claims
from server.sources import build_sources
from server.timeutil import utcnow
from tests.browser.conftest import SHOTS, _page, axe_violations, cas_sign_in, require
from tests.browser.test_phone_first import BLOCKED
from tests.certificates.conftest import make_staff, submit  # noqa: F401 -- submit is a fixture
from tests.factories import ITEM_KEYS, cleared_student, make_batch, make_student, set_records
from tests.web.test_admin_pushes import _push

pytestmark = pytest.mark.browser

# Codes that must reach people as words (server/vocabulary.py and the items' labels), never as they are stored.
RAW_CODES = re.compile(r"\b(?:active|approved|cancelled|not_passed|not_submitted|unavailable|revoked|valid|"
                       r"[a-z_]+_record\.write|[a-z_]+\.(?:cancel|revoke|handover|submit))\b")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
OUT = Path(os.environ.get("LIXIAO_SCREENSHOTS") or SHOTS)
MINIPROGRAM = Path(__file__).resolve().parents[2] / "miniprogram"
JEST = MINIPROGRAM / "node_modules" / "jest" / "bin" / "jest.js"
# The mini-program is laid out in rpx (750 to the screen's width); its pictures are of a 375 px wide phone, at the
# pixel ratio of two, as phones have, so its 1rpx hairlines (0.5 px) show.
MP_SCREEN = {"width": 375, "height": 812}


def check_fits(page: Any, what: str, width: int) -> None:
    """Fail when the page is wider than the screen: it would scroll sideways."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{what}: {scroll}px wide, wider than the screen"
    # A table stacked for phones must not scroll sideways inside its frame either (that hides text too).
    wide = page.evaluate("""() => [...document.querySelectorAll("table.stacked")]
        .filter(t => getComputedStyle(t).display === "block" && t.scrollWidth > t.parentElement.clientWidth + 1)
        .map(t => t.parentElement.getAttribute("aria-label") || t.parentElement.getAttribute("aria-labelledby"))""")
    assert not wide, f"{what}: stacked tables wider than their frame: {wide}"


def check_words(page: Any, what: str) -> None:
    """Fail when a stored code reaches the page instead of its words (a code shown as one, in <code>, is meant)."""
    body = page.evaluate("""() => {
        const codes = [...document.querySelectorAll("code")];
        codes.forEach(c => { c.dataset.display = c.style.display; c.style.display = "none"; });
        const text = document.body.innerText;
        codes.forEach(c => { c.style.display = c.dataset.display; delete c.dataset.display; });
        return text;
    }""")
    raw = [body[max(m.start() - 40, 0):m.end() + 10] for m in RAW_CODES.finditer(body)]
    assert not raw, f"{what}: raw codes on the page: {raw[:3]}"


def shoot(page: Any, name: str, size: str) -> None:
    """Save the page; fail on horizontal overflow or on serious or critical axe violations."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=True)
    check_fits(page, f"{name} at {size}", SIZES[size]["width"])
    check_words(page, f"{name} at {size}")
    found = [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in axe_violations(page)]
    assert not found, f"{name} at {size}: axe-core found {found}"


@pytest.fixture
def cast(session, settings, submit):  # noqa: F811 -- the fixture imported above
    """A student in each state, an administrator and a counter clerk, and the certificates to scan."""
    batch = make_batch(session, name="2027 年 6 月毕业研究生")
    people: dict[str, Any] = {"passed": cleared_student(session, batch, name="全过甲", student_no="2027880001")}
    people["blocked"] = make_student(session, batch, name="未过乙", student_no="2027880002")
    set_records(session, people["blocked"], BLOCKED)
    grey = make_student(session, batch, name="不可查丙", student_no="2027880003")
    set_records(session, grey, BLOCKED, now=utcnow() - timedelta(hours=5))
    key = next(k for k in ITEM_KEYS if k != "library")
    model = registry.get(key).record
    record_failure(session, grey, key, session.scalars(select(model).where(model.student_id == grey.id)).one(),
                   "timeout", utcnow())
    people["unavailable"] = grey
    done = submit(batch=batch, name="已交丁", student_no="2027880004")
    people["submitted"] = done.student
    revoked = submit(batch=batch, name="撤销戊", student_no="2027880005")
    people["revoked"] = revoked.student
    admin = make_staff(session, "admin", username="admin", name="管理员")
    make_staff(session, "counter", username="counter", name="窗口")
    make_staff(session, "operator", username="libop", name="图书馆老师", department="library")
    revoke_certificate(session, revoked.certificate["serial"], "学籍信息有误", admin, utcnow())
    reissued = submit(batch=batch, name="补发己", student_no="2027880006")
    people["reissued"] = reissued.student
    revoke_certificate(session, reissued.certificate["serial"], "照片有误", admin, utcnow())
    reissue_certificate(session, settings, reissued.certificate["serial"], admin, utcnow())
    # A push of each kind of problem, so the administrator's push page is pictured with rows.
    blocked = people["blocked"]
    _push(session, blocked, "item_passed", f"item_passed:{batch.id}:library", status=claims.UNCONFIRMED,
          channel="wecom")
    _push(session, blocked, "certificate_issued", "certificate_issued:TS-1", status=claims.FAILED, channel="wechat")
    # The factories write records without the stored item states that the console's and admin's lists are built
    # from; a department's write would have left them, so compute them here as it would.
    sources = build_sources(settings)
    numbers = [p.student_no for p in people.values()]
    for ctx in load_contexts(session, numbers, keys=ITEM_KEYS, lock=False).values():
        recompute(session, settings, sources, ctx, cause="test", now=utcnow())
    session.commit()
    return {"people": people, "valid": done.certificate["qr_text"], "revoked": revoked.certificate["qr_text"],
            "replaced": reissued.certificate["qr_text"], "batch": batch.id,
            "serials": {"valid": done.certificate["serial"], "revoked": revoked.certificate["serial"]}}


STUDENT_PAGES = {
    "passed": ["/me"],
    "blocked": ["/me", "/me/submit", "/me/library-card/cancel"],
    "unavailable": ["/me"],
    "submitted": ["/me", "/me/certificate", "/me/certificate/print", "/me/applications", "/me/notifications",
                  "/me/devices"],
    "revoked": ["/me/certificate", "/me/certificate/print", "/me/applications"],
    "reissued": ["/me/certificate", "/me/applications"],
}
def staff_pages(cast: dict[str, Any]) -> dict[str, list[str]]:
    """Every staff page, as the administrator and as a department operator (whose console is scoped)."""
    serials = cast["serials"]
    return {
        "admin": ["/admin/progress", "/admin/progress/blocked?item=library", "/admin/progress/never-logged-in",
                  "/admin/batches",
                  f"/admin/batches/{cast['batch']}", "/admin/audit", "/admin/pushes", "/admin/certificates",
                  "/admin/exports", "/console/", "/console/students?q=2027", "/console/students/2027880002",
                  "/console/blocked/library", "/console/imports", "/console/staff", "/console/certificates",
                  f"/console/certificates/{serials['valid']}", f"/console/certificates/{serials['revoked']}"],
        "libop": ["/console/", "/console/students?q=2027", "/console/blocked/library", "/console/imports"],
    }


# GET routes that are not pages a person reads: redirects (to CAS, WeCom, WeChat or another page), callbacks,
# downloads and machine answers. Every other GET route must be pictured (test_every_web_page_is_pictured).
NOT_PAGES = {
    "/login", "/login/callback", "/bind/cas", "/bind/cas/callback", "/wecom/login", "/wecom/callback",
    "/wx/service-account/callback", "/wx/service-account/link", "/lang/<code>", "/admin",
    "/admin/exports/students.<fmt>", "/console/blocked/<key>.csv", "/healthz", "/readyz", "/metrics",
    "/.well-known/lixiao-certificate-keys.json", "/static/<path:filename>",
}


def _name(path: str) -> str:
    return path.strip("/").split("?")[0].replace("/", "-") or "home"


@pytest.mark.parametrize("size", SIZES)
def test_every_page_fits_and_passes_axe(portal, browser, cast, size):
    for state, paths in STUDENT_PAGES.items():
        student = cast["people"][state]
        portal.emulator.add_cas_users({"username": student.student_no, "password": "demo"})
        page = _page(browser, viewport=SIZES[size])
        cas_sign_in(page, portal, paths[0], student.student_no)
        for path in paths:
            page.goto(portal.url + path)
            shoot(page, f"student-{state}-{_name(path)}", size)
        page.context.close()

    portal.emulator.add_cas_users({"username": "libop", "password": "demo"})
    for who, paths in staff_pages(cast).items():
        page = _page(browser, viewport=SIZES[size])
        cas_sign_in(page, portal, paths[0], who)
        for path in paths:
            page.goto(portal.url + path)
            shoot(page, f"{who}-{_name(path)}", size)
        page.context.close()

    page = _page(browser, viewport=SIZES[size])
    cas_sign_in(page, portal, "/counter", "counter")
    shoot(page, "counter-scan", size)
    forged = cast["valid"][:-6] + "AAAAAA"
    for result, text in (("valid", cast["valid"]), ("revoked", cast["revoked"]), ("replaced", cast["replaced"]),
                         ("forged", forged)):
        page.goto(portal.url + "/counter")
        page.fill("#qr_text", text)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        shoot(page, f"counter-{result}", size)
    page.context.close()

    page = _page(browser, viewport=SIZES[size])  # nobody signed in: the landing page, log-out, a scanned QR code
    for name, path in (("landing", "/"), ("logout", "/logout"), ("verify-valid", verify_path(cast["valid"])),
                       ("verify-revoked", verify_path(cast["revoked"])),
                       ("verify-unknown", verify_path(cast["valid"][:-6] + "AAAAAA"))):
        page.goto(portal.url + path)
        shoot(page, f"public-{name}", size)
    page.context.close()


def verify_path(qr_text: str) -> str:
    """The local path of the public verification page a certificate's QR code opens."""
    return "/v/" + qr_text.rsplit("/v/", 1)[1]


def _pattern(rule: str) -> re.Pattern[str]:
    """A Flask rule as a pattern of the paths it serves (re.escape leaves < and > alone)."""
    return re.compile(re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "[^/?]+", re.escape(rule)) + r"(?:\?.*)?")


def test_every_web_page_is_pictured(app):
    pictured = ["/", "/logout", "/v/x", "/counter", *(p for ps in STUDENT_PAGES.values() for p in ps)]
    fake = {"batch": 1, "serials": {"valid": "S1", "revoked": "S2"}}
    pictured += [p for ps in staff_pages(fake).values() for p in ps]
    routes = {r.rule for r in app.url_map.iter_rules() if "GET" in (r.methods or ())
              and not r.rule.startswith("/api")}
    missing = [r for r in sorted(routes - NOT_PAGES) if not any(_pattern(r).fullmatch(p) for p in pictured)]
    assert not missing, f"GET pages with no picture in test_every_page_fits_and_passes_axe: {missing}"
    assert routes >= NOT_PAGES, f"NOT_PAGES names routes that are gone: {sorted(NOT_PAGES - routes)}"


def render_miniprogram(into: Path) -> list[Path]:
    """Every mini-program page in every state as HTML (miniprogram/test/screenshots/pages.test.js, under jest)."""
    require(shutil.which("node") is not None, "Node.js")
    require(JEST.exists(), "the mini-program's jest (cd miniprogram && npm ci)")
    done = subprocess.run(["node", str(JEST), "--ci", "--runTestsByPath", "test/screenshots/pages.test.js"],
                          cwd=MINIPROGRAM, env={**os.environ, "LIXIAO_MP_HTML": str(into)}, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"rendering the mini-program pages failed:\n{done.stderr[-4000:]}"
    return sorted(into.glob("mp-*.html"))


def test_every_miniprogram_page_fits(browser, tmp_path):
    files = render_miniprogram(tmp_path)
    # Each page of app.json, photographed at least once (names are mp-<page>-<state>, the state without hyphens).
    for entry in json.loads((MINIPROGRAM / "app.json").read_text(encoding="utf-8"))["pages"]:
        name = entry.split("/")[1]
        assert any(re.fullmatch(rf"mp-{re.escape(name)}-[a-z]+\.html", f.name) for f in files), f"no picture of {entry}"

    OUT.mkdir(parents=True, exist_ok=True)
    page = _page(browser, viewport=MP_SCREEN, device_scale_factor=2)
    for html in files:
        page.set_content(html.read_text(encoding="utf-8"), wait_until="load")
        page.screenshot(path=str(OUT / f"{html.stem}.png"), full_page=True)
        check_fits(page, html.stem, MP_SCREEN["width"])
        check_words(page, html.stem)
    page.context.close()
