"""The administrators' dashboard under /admin: batches, progress, exports, the audit log, push problems."""

from server.web.admin import audit, batches, exports, progress, pushes  # noqa: F401 -- importing registers the views
from server.web.admin.base import bp

__all__ = ["bp"]
