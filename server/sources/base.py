"""What Lixiao asks of a departmental system, whatever it is."""

from __future__ import annotations

from typing import Any, Protocol


class SourceUnavailable(Exception):
    """The departmental system did not answer in time or answered nonsense."""


class SourceAnswerUnusable(SourceUnavailable):
    """The departmental system answered, but with something that cannot be judged by (it is reachable)."""


class SourceRefused(Exception):
    """The departmental system answered and said no (e.g. the library would not cancel a card)."""


class DepartmentSource(Protocol):
    """A departmental system Lixiao reads from (or, for `local`, Lixiao's own records)."""

    kind: str
    pulls: bool  # True: records are read from it; False: departments push into Lixiao

    def fetch(self, student_no: str) -> Any:
        """The student's record as the item's rule data, or None when the system does not know the student."""
        ...

    def perform(self, action: str, student_no: str) -> None:
        """Ask the system to do a student's action (e.g. cancel-card); raises SourceRefused or SourceUnavailable."""
        ...
