"""A browser-like client of the console over real HTTP: a signed-in session cookie and CSRF tokens from the pages."""

from __future__ import annotations

import re
from typing import Any

import requests

from server.identity.models import Staff
from tests.factories import web_session_cookie

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def session_cookie(app, **who: Any) -> str:
    """The cookie `server.web.session.sign_in` would set (signed with the app's secret key), with its session row."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({**web_session_cookie(app, **who), "_permanent": True})


class ConsoleClient:
    """requests against the live app as one signed-in person."""

    def __init__(self, base: str, app, *, staff: Staff | None = None, student_id: int | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        values = {"staff_id": staff.id} if staff is not None else {}
        if student_id is not None:
            values["student_id"] = student_id
        if values:
            self.http.cookies.set("session", session_cookie(app, **values), domain="127.0.0.1", path="/")

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, **kw)

    def csrf(self, page: str = "/console/") -> str:
        """A CSRF token from a console page."""
        found = _CSRF.search(self.get(page).text)
        return found.group(1) if found else ""

    def post(self, path: str, data: dict[str, Any] | None = None, *, page: str = "/console/",
             **kw: Any) -> requests.Response:
        """Post a form with a CSRF token taken from `page`."""
        kw.setdefault("timeout", 60)
        kw.setdefault("allow_redirects", False)
        return self.http.post(self.base + path, data={"csrf_token": self.csrf(page), **(data or {})}, **kw)
