"""Every model, imported once so Alembic and create_all see the whole schema."""

from server.audit import AuditEntry
from server.certificates.models import Certificate, CertificateScan, Handover
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
from server.messaging.models import JobRun, OutboxEvent, SubscriptionConsent, WecomRecipient

__all__ = [
    "ApartmentRecord", "ApiSession", "Application", "ArchivesRecord", "AuditEntry", "Base", "Batch",
    "Certificate", "CertificateScan", "DepartmentCredential", "FinanceRecord", "Handover", "ItemState", "JobRun",
    "LibraryRecord", "OutboxEvent", "Staff", "Student", "SubscriptionConsent", "Transition", "WechatBinding",
    "WecomRecipient",
]
