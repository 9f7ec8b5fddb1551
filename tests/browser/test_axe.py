"""The accessibility check itself: axe-core is loaded and does report serious violations."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_axe_reports_what_it_should(desktop):
    desktop.set_content('<html lang="zh-CN"><head><title>t</title></head><body><main>'
                        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text">'
                        '<a href="/x"></a></main></body></html>')
    found = {v["id"] for v in axe_violations(desktop)}
    assert {"image-alt", "label", "link-name"} <= found


def test_axe_passes_a_clean_page(desktop):
    desktop.set_content('<html lang="zh-CN"><head><title>t</title></head><body><main><h1>离校 Lixiao</h1>'
                        '<label for="q">学号</label><input id="q"></main></body></html>')
    assert axe_violations(desktop) == []
