"""Headless Chromium against the app and a CAS emulator; axe-core (tests/browser/node_modules) checks each page.

`make test-sqlite` / `make test-mysql` run `npm ci` here first. Without axe-core or Chromium the browser
tests skip, and fail under CI=true.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.certificates.conftest import (  # noqa: F401 -- portal is a fixture, shared by importing it
    ARGS,
    CHROMIUM,
    Portal,
    cas_sign_in,
    portal,
    require,
)
from tests.conftest import ARTIFACTS

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "web"
PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's, never a downloaded one)."""
    require(Path(CHROMIUM).exists(), "Chromium")
    require(AXE.exists(), "axe-core (cd tests/browser && npm ci)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def _page(browser: Any, **context: Any) -> Any:
    # bypass_csp lets the test inject axe-core as an inline script; the pages themselves keep their CSP.
    ctx = browser.new_context(locale="zh-CN", accept_downloads=True, bypass_csp=True, **context)
    page = ctx.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1:")
               else route.abort())
    return page


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page the size of a phone screen (390×844), touch-enabled."""
    page = _page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    """A page the size of an office screen."""
    page = _page(browser, viewport={"width": 1280, "height": 900})
    yield page
    page.context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def check_page(page: Any, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/web/ and fail on serious or critical axe violations."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    violations = axe_violations(page)
    summary = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                "targets": [n["target"] for n in v["nodes"][:5]]} for v in violations]
    assert not violations, f"{name}: axe-core found\n{json.dumps(summary, ensure_ascii=False, indent=1)}"
