"""The university's unified identity authentication (CAS), through python-cas 1.7.2 with timeouts."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError  # only the exception python-cas raises  # nosec B405

import requests
from cas import CASClient

from server.errors import ApiError, ErrorCode
from server.identity.platform import TimeoutSession, platform_unavailable
from server.state import app_state

log = logging.getLogger(__name__)

_TICKET = re.compile(r"^[A-Za-z0-9._\-]{1,256}$")


@dataclass(frozen=True)
class CasIdentity:
    """Who CAS says logged in."""

    username: str
    attributes: dict[str, Any]


def cas_client(service_url: str, *, renew: bool = False) -> Any:
    """A python-cas client for one service URL; its HTTP session has the outside-call timeout."""
    settings = app_state().settings
    return CASClient(version=settings.cas_version, server_url=settings.cas_server_url, service_url=service_url,
                     renew=renew, session=TimeoutSession(settings.outside_timeout_seconds))


def login_url(service_url: str, *, renew: bool = False) -> str:
    """Where the browser logs in; `renew` forces a fresh password login even with a CAS SSO session."""
    return str(cas_client(service_url, renew=renew).get_login_url())


def logout_url(return_to: str) -> str:
    """CAS logout, coming back to `return_to` (a URL we built, never one from the request)."""
    return str(cas_client(return_to).get_logout_url(return_to))


def validate_ticket(ticket: str, service_url: str) -> CasIdentity:
    """Validate a service ticket for exactly `service_url`; 401 when CAS refuses, 503 when it is unreachable."""
    if not _TICKET.match(ticket or ""):
        raise _refused()
    try:
        user, attributes, _ = cas_client(service_url).verify_ticket(ticket)
    except (requests.RequestException, ParseError, ValueError, StopIteration) as exc:
        log.warning("CAS validation failed: %s", type(exc).__name__)
        raise platform_unavailable("统一身份认证", "Unified identity authentication") from exc
    if not user:
        raise _refused()
    return CasIdentity(str(user).strip(), dict(attributes or {}))


def _refused() -> ApiError:
    return ApiError(401, ErrorCode.LOGIN_FAILED, "统一身份认证未能确认您的登录，请重新登录",
                    "The unified identity authentication could not confirm your login; please log in again")
