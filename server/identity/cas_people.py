"""Who a CAS login names, and what CAS says about a student that the roster says differently.

Campuses run CAS differently: some return the student number as the principal (the username CAS answers
with), others a login alias (登录名, a phone number…) with the number in an attribute such as `xh`.
`LIXIAO_CAS_STUDENT_NO_ATTRIBUTE` names that attribute. Staff always match by principal: a staff member's
attributes carry a 工号 or nothing where students carry a 学号, so a staff account's username is the principal
CAS returns for them (docs/identity.md).

The roster is the truth for names and colleges. When CAS's name or college differs, the difference is put on
record for staff (an audit row on the student, shown in the console's student history), once per distinct
difference, not at every login.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import AuditEntry, record_audit
from server.clearance.models import Student
from server.errors import ApiError, ErrorCode
from server.identity.accounts import Person, active_staff, not_in_roster, student_by_number
from server.platforms.cas import CasIdentity
from server.settings import Settings, cas_attribute_names

log = logging.getLogger(__name__)

DIFFERS_ACTION = "cas.roster_differs"
# What CAS servers add about the login itself (CAS 3.0 spec, Apereo, django-cas-server), not about the person.
PROTOCOL_ATTRIBUTES = frozenset(name.lower() for name in (
    "authenticationDate", "isFromNewLogin", "longTermAuthenticationRequestTokenUsed", "authenticationMethod",
    "successfulAuthenticationHandlers", "credentialType", "samlAuthenticationStatementAuthMethod",
    "clientIpAddress", "serverIpAddress", "userAgent", "geoLocation", "isRemembered"))
_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "∙": "·", "⋅": "·", ".": "·"})


def cas_attribute(attributes: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """The value of the first of `names` that CAS released (names match case-insensitively as a fallback).

    CAS may release an attribute as a list: one distinct value counts, several different ones count as none
    (Lixiao does not guess which is meant), and so does an empty value.
    """
    folded = {str(key).lower(): value for key, value in attributes.items()}
    for name in names:
        raw = attributes.get(name, folded.get(name.lower()))
        if raw is None:
            continue
        values = {str(v).strip() for v in (raw if isinstance(raw, list | tuple) else [raw])} - {""}
        return values.pop() if len(values) == 1 else None
    return None


def _number_missing(attribute: str) -> ApiError:
    log.warning("CAS released no single %r attribute for a login: check the attribute release of this service "
                "(LIXIAO_CAS_STUDENT_NO_ATTRIBUTE)", attribute)
    return ApiError(403, ErrorCode.NOT_IN_ROSTER,
                    "统一身份认证没有提供您的学号，无法在离校名单中找到您。如您是应届毕业研究生，请联系信息中心或研究生院。",
                    "The unified identity authentication did not provide a student number, so you cannot be found "
                    "on the graduation roster. If you are graduating, please contact the IT centre or the "
                    "Graduate School.")


def person_for_cas(session: Session, identity: CasIdentity, settings: Settings) -> Person:
    """An active staff account named by the principal, else the roster student CAS names; 403 for anyone else.

    With a student-number attribute configured the principal never names a student: a login alias may look
    like someone else's student number.
    """
    principal = identity.username.strip()
    staff = active_staff(session, principal) if principal else None
    if staff is not None:
        return Person(staff=staff)
    attribute = settings.cas_student_no_attribute.strip()
    if attribute:
        student_no = cas_attribute(identity.attributes, (attribute,))
        if student_no is None and not any(str(k).lower() not in PROTOCOL_ATTRIBUTES for k in identity.attributes):
            # CAS released nothing about the person: its attribute release is not set up (not: not a student).
            raise _number_missing(attribute)
    else:
        student_no = principal
    student = student_by_number(session, student_no) if student_no else None
    if student is None:
        raise not_in_roster()
    return Person(student=student)


def _normal(text: str) -> str:
    """Compare names as people read them: width, spacing and the middle dot of 阿卜杜热合曼·买买提 aside."""
    return "".join(unicodedata.normalize("NFKC", text).translate(_DOTS).split())


def roster_differences(student: Student, attributes: Mapping[str, Any], settings: Settings
                       ) -> tuple[dict[str, str], dict[str, str]]:
    """(roster values, CAS values) of the compared fields where CAS released a value that differs."""
    roster: dict[str, str] = {}
    cas: dict[str, str] = {}
    for field, setting in (("name", settings.cas_name_attributes), ("college", settings.cas_college_attributes)):
        value = cas_attribute(attributes, cas_attribute_names(setting))
        ours = str(getattr(student, field) or "")
        if value is not None and _normal(value) != _normal(ours):
            roster[field], cas[field] = ours, value
    return roster, cas


def note_roster_differences(session: Session, student: Student, identity: CasIdentity, settings: Settings, *,
                            origin: str) -> bool:
    """Put CAS's differing name/college on record for staff, unless the latest such record says the same.

    Adds to the caller's transaction; True when a row was added. Costs no query when CAS agrees.
    """
    roster, cas = roster_differences(student, identity.attributes, settings)
    if not cas:
        return False
    entity = f"student:{student.student_no}"
    latest = session.scalars(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.action == DIFFERS_ACTION)
                             .order_by(AuditEntry.id.desc()).limit(1)).first()
    if latest is not None and latest.before == roster and latest.after == cas:
        return False
    record_audit(session, actor=entity, action=DIFFERS_ACTION, entity=entity, before=roster, after=cas,
                 origin=origin)
    return True


def cas_person(session: Session, identity: CasIdentity, settings: Settings, *, origin: str) -> Person:
    """The person a validated CAS login names (403 if nobody), with any roster difference put on record."""
    person = person_for_cas(session, identity, settings)
    if person.student is not None:
        note_roster_differences(session, person.student, identity, settings, origin=origin)
    return person
