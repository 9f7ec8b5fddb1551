"""Every model, imported once so Alembic and create_all see the whole schema."""

from server.audit import AuditEntry
from server.clearance.models import (
    ApartmentRecord,
    Application,
    ArchivesRecord,
    Batch,
    FinanceRecord,
    ItemState,
    LibraryRecord,
    Student,
    Transition,
)
from server.db import Base
from server.departments.models import DepartmentCredential
from server.identity.models import ApiSession, Staff, WechatBinding

__all__ = [
    "ApartmentRecord", "ApiSession", "Application", "ArchivesRecord", "AuditEntry", "Base", "Batch",
    "DepartmentCredential", "FinanceRecord", "ItemState", "LibraryRecord", "Staff", "Student", "Transition",
    "WechatBinding",
]
