"""The rate limit of this request: its address (and a login code, token or username) against the app's Redis."""

from __future__ import annotations

from flask import request

from server.identity.ratelimit import limit
from server.state import app_state


def enforce(scope: str, *, key: str | None = None, per_key: int | None = None) -> None:
    """Rate-limit this request by its address and, when given, by `key`; raise 429 when over."""
    state = app_state()
    limit(state.redis, state.settings, scope, request.remote_addr or "", key=key, per_key=per_key)


def enforce_counter_verify(staff_id: int) -> None:
    """Counter verification's own limit, per staff member (page and API share it; review I-4)."""
    enforce("counter-verify", key=f"staff:{staff_id}", per_key=app_state().settings.counter_verify_per_minute)
