"""Every model, imported once so Alembic and create_all see the whole schema (items' records included)."""

from server.audit import AuditEntry
from server.certificates.models import Certificate, CertificateScan, Handover
from server.clearance.events import OutboxEvent
from server.clearance.models import Application, Batch, ItemState, Student, Transition
from server.db import Base
from server.departments.models import DepartmentCredential
from server.identity.models import ApiSession, Staff, WechatBinding
from server.items import registry
from server.messaging.followers import MiniProgramUnionid, ServiceAccountFollower
from server.messaging.models import JobRun, SubscriptionConsent, WecomRecipient

RECORDS = [item.record for item in registry.known().values()]  # every item's record, on or off

__all__ = [
    "RECORDS", "ApiSession", "Application", "AuditEntry", "Base", "Batch", "Certificate", "CertificateScan",
    "DepartmentCredential", "Handover", "ItemState", "JobRun", "MiniProgramUnionid", "OutboxEvent",
    "ServiceAccountFollower", "Staff", "Student",
    "SubscriptionConsent", "Transition", "WechatBinding", "WecomRecipient",
]
