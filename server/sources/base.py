"""What Lixiao asks of a departmental system, whatever it is."""

from __future__ import annotations

from typing import Protocol

from server.clearance.rules import DepartmentData


class SourceUnavailable(Exception):
    """The departmental system did not answer in time or answered nonsense."""


class SourceRefused(Exception):
    """The departmental system answered and said no (e.g. the library would not cancel a card)."""


class DepartmentSource(Protocol):
    """A departmental system Lixiao reads from (or, for `local`, Lixiao's own records)."""

    kind: str
    pulls: bool  # True: records are read from it; False: departments push into Lixiao

    def fetch(self, student_no: str) -> DepartmentData | None:
        """The student's record, or None when the system does not know the student."""
        ...

    def cancel_library_card(self, student_no: str) -> None:
        """Ask the library to cancel the card; raises SourceRefused or SourceUnavailable."""
        ...
