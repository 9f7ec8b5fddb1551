"""Liveness of the service."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag

from server.api.schemas import HealthOut

bp = APIBlueprint("health", __name__, abp_tags=[Tag(name="operations")])


@bp.get("/healthz", responses={200: HealthOut})
def healthz():
    """200 while the process is up."""
    return jsonify({"status": "ok"})
