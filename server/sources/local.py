"""Lixiao's own records: the department keeps them here through the console, imports and the API."""

from __future__ import annotations

from typing import Any


class LocalSource:
    """Records live in Lixiao's database; nothing to pull, and a student's action is done in our own record."""

    kind = "local"
    pulls = False

    def fetch(self, student_no: str) -> Any:
        """Never called: local records are read from the database."""
        raise NotImplementedError("local records are read from the database")

    def perform(self, action: str, student_no: str) -> None:
        """Nothing outside to tell: the record update is the action."""
