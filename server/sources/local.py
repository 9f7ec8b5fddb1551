"""Lixiao's own records: the department keeps them here through the console, imports and the API."""

from __future__ import annotations

from server.clearance.rules import DepartmentData


class LocalSource:
    """Records live in Lixiao's database; nothing to pull, and the card is cancelled in our own record."""

    kind = "local"
    pulls = False

    def fetch(self, student_no: str) -> DepartmentData | None:
        """Never called: local records are read from the database."""
        raise NotImplementedError("local records are read from the database")

    def cancel_library_card(self, student_no: str) -> None:
        """Nothing outside to tell: the record update is the cancellation."""
