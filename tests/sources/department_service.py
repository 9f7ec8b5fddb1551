"""A tiny departmental HTTP service (a library system) on a loopback port, that can be made slow, down and back."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, jsonify
from werkzeug.serving import make_server


class DepartmentService:
    """Serves `GET /records/<student_no>` and `POST /records/<student_no>/cancel-card` from `records`."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.delay_seconds = 0.0
        self.refuse_cancel = False
        self.calls: list[str] = []
        self.port = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        app = Flask("department_service")

        @app.get("/records/<student_no>")
        def read(student_no: str):  # type: ignore[no-untyped-def]
            self.calls.append(f"GET {student_no}")
            if self.delay_seconds:
                time.sleep(self.delay_seconds)
            record = self.records.get(student_no)
            return (jsonify(record), 200) if record is not None else (jsonify({"error": "unknown"}), 404)

        @app.post("/records/<student_no>/cancel-card")
        def cancel(student_no: str):  # type: ignore[no-untyped-def]
            self.calls.append(f"CANCEL {student_no}")
            record = self.records.get(student_no)
            if record is None or self.refuse_cancel:
                return jsonify({"error": "refused"}), 409
            record["card_status"] = "cancelled"
            return jsonify(record), 200

        self.app = app

    @property
    def url(self) -> str:
        """The base URL (stays the same across stop/start)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on the same port."""
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
