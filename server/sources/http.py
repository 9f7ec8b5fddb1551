"""A departmental system read over HTTP JSON: `GET {url}/records/{student_no}`, library card cancellation by POST.

Contract of the departmental service:
- `GET {url}/records/{student_no}` → 200 with the department's fields as JSON (the same names and units as the
  departmental API: counts, amounts in cents, statuses, `YYYY-MM-DD` dates), or 404 when it does not know
  the student; for an item whose "no record" means no data (finance, 无数据视为通过) a 404 or `{}` is the empty
  data, which passes. Any other answer that cannot be read makes the item unavailable as "answered, unusable",
  never "cannot be reached".
- `POST {url}/records/{student_no}/{action}` for a student's action (the library's `cancel-card`) → 200 done (or
  already), 409/422 refused.
When `LIXIAO_<DEPT>_API_KEY` is set it is sent as `Authorization: Bearer <key>`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

from server.items import registry
from server.items.fields import FieldProblem
from server.settings import DepartmentSettings
from server.sources.base import SourceAnswerUnusable, SourceRefused, SourceUnavailable
from server.sources.breaker import CircuitBreaker, CircuitOpen

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_CAP = 1.0  # a system that does not accept a connection within a second is down


class HttpJsonSource:
    """Reads one department's records from its own HTTP service, with timeouts, one retry and a breaker."""

    kind = "http"
    pulls = True

    def __init__(self, department: str, settings: DepartmentSettings, *, session: requests.Session | None = None,
                 breaker: CircuitBreaker | None = None) -> None:
        self.department = department
        self.base = settings.url.rstrip("/")
        self.timeout = (min(CONNECT_TIMEOUT_CAP, settings.timeout_seconds), settings.timeout_seconds)
        self.http = session or requests.Session()
        self.http.headers["Accept"] = "application/json"
        if settings.api_key:
            self.http.headers["Authorization"] = f"Bearer {settings.api_key}"
        self.breaker = breaker or CircuitBreaker(f"{department}-source")

    def _request(self, method: str, path: str) -> requests.Response:
        """One call through the breaker; a refused connection is retried once (the request never arrived)."""
        try:
            self.breaker.before_call()
        except CircuitOpen as exc:
            raise SourceUnavailable(str(exc)) from exc
        url = f"{self.base}{path}"
        for attempt in (1, 2):
            try:
                response = self.http.request(method, url, timeout=self.timeout, allow_redirects=False)
            except requests.ConnectionError as exc:  # refused, reset or connect timeout: safe to try once more
                if attempt == 1:
                    continue
                self.breaker.failure()
                raise SourceUnavailable(f"{self.department}: cannot connect") from exc
            except requests.Timeout as exc:
                self.breaker.failure()
                raise SourceUnavailable(f"{self.department}: timed out") from exc
            except requests.RequestException as exc:
                self.breaker.failure()
                raise SourceUnavailable(f"{self.department}: {type(exc).__name__}") from exc
            if response.status_code >= 500:
                self.breaker.failure()
                raise SourceUnavailable(f"{self.department}: answered {response.status_code}")
            self.breaker.success()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def fetch(self, student_no: str) -> Any:
        """The student's record, None when the system does not know them; SourceUnavailable otherwise."""
        response = self._request("GET", f"/records/{quote(student_no, safe='')}")
        item = registry.get(self.department)
        if response.status_code == 404:
            return item.data() if item.absent_is_empty else None
        if response.status_code != 200:
            raise SourceAnswerUnusable(f"{self.department}: answered {response.status_code}")
        try:
            payload: Any = response.json()
            return item.from_json(payload)
        except (ValueError, FieldProblem) as exc:
            log.warning("%s source answered nonsense for a student: %s", self.department, exc)
            raise SourceAnswerUnusable(f"{self.department}: unusable answer ({exc})"[:200]) from exc

    def perform(self, action: str, student_no: str) -> None:
        """Ask the system to do a student's action."""
        response = self._request("POST", f"/records/{quote(student_no, safe='')}/{quote(action, safe='')}")
        if response.status_code in (409, 422, 404):
            raise SourceRefused(f"{self.department} refused {action} ({response.status_code})")
        if response.status_code != 200:
            raise SourceUnavailable(f"{self.department} answered {response.status_code}")
