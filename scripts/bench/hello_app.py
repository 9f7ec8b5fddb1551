"""The baseline: a bare Flask "hello" served by the same gunicorn configuration as the app."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> dict[str, str]:
    """The cheapest JSON answer Flask gives."""
    return {"hello": "world"}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Readiness, as the app answers it."""
    return {"status": "ok"}
