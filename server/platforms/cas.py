"""The university's unified identity authentication (CAS), through python-cas 1.7.2 with timeouts.

Like the other adapters here it is built from settings alone: the web pages hand them in.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError  # only the exception python-cas raises  # nosec B405

import requests
from cas import CASClient

from server.errors import ApiError, ErrorCode
from server.platforms.common import TimeoutSession, platform_unavailable
from server.settings import Settings

log = logging.getLogger(__name__)

_TICKET = re.compile(r"^[A-Za-z0-9._\-]{1,256}$")


@dataclass(frozen=True)
class CasIdentity:
    """Who CAS says logged in."""

    username: str
    attributes: dict[str, Any]


class _RenewSession(TimeoutSession):
    """Asks CAS to validate with `renew=true`: python-cas 1.7.2 puts `renew` on the login URL only."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send with renew=true added to the query (after any query python-cas built into the URL)."""
        kwargs["params"] = {**dict(kwargs.get("params") or {}), "renew": "true"}
        return super().request(method, url, *args, **kwargs)


def cas_client(settings: Settings, service_url: str, *, renew: bool = False) -> Any:
    """A python-cas client for one service URL; its HTTP session has the outside-call timeout.

    `renew` is on the login URL and on ticket validation: the validation is what holds the CAS server to it.
    """
    session = (_RenewSession if renew else TimeoutSession)(settings.outside_timeout_seconds)
    return CASClient(version=settings.cas_version, server_url=settings.cas_server_url, service_url=service_url,
                     renew=renew, session=session)


def login_url(settings: Settings, service_url: str, *, renew: bool = False) -> str:
    """Where the browser logs in; `renew` forces a fresh password login even with a CAS SSO session."""
    return str(cas_client(settings, service_url, renew=renew).get_login_url())


def logout_url(settings: Settings, return_to: str) -> str:
    """CAS logout, coming back to `return_to` (a URL we built, never one from the request)."""
    return str(cas_client(settings, return_to).get_logout_url(return_to))


def validate_ticket(settings: Settings, ticket: str, service_url: str, *, renew: bool = False) -> CasIdentity:
    """Validate a service ticket for exactly `service_url`; 401 when CAS refuses, 503 when it is unreachable.

    `renew`: CAS must confirm that the ticket came from a password login just now, not from a single-sign-on
    session (the browser decides whether the login URL kept `renew=true`; only this check binds CAS to it).
    """
    if not _TICKET.match(ticket or ""):
        raise _refused()
    try:
        user, attributes, _ = cas_client(settings, service_url, renew=renew).verify_ticket(ticket)
    except (requests.RequestException, ParseError, ValueError, StopIteration) as exc:
        log.warning("CAS validation failed: %s", type(exc).__name__)
        raise platform_unavailable("统一身份认证", "Unified identity authentication") from exc
    if not user:
        raise _refused()
    return CasIdentity(str(user).strip(), dict(attributes or {}))


def _refused() -> ApiError:
    return ApiError(401, ErrorCode.LOGIN_FAILED, "统一身份认证未能确认您的登录，请重新登录",
                    "The unified identity authentication could not confirm your login; please log in again")
