"""URLs the login flows build: service URLs from the configured public address, and local `next` paths."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from server.state import app_state


def public_url(path: str, **query: str) -> str:
    """An absolute URL of ours, built from LIXIAO_PUBLIC_BASE_URL (never from the request's Host header)."""
    base = app_state().settings.public_base_url.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site ("/x"; not "//host" nor a backslash trick), else `default`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
