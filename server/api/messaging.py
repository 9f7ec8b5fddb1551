"""Push consent and in-app notifications of the student API (SPEC §6)."""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, field_validator

from server.api.auth import BEARER, current_student_id
from server.api.schemas import Strict
from server.errors import ErrorOut
from server.messaging import consent
from server.messaging.notifications import list_notifications
from server.state import app_state, db
from server.timeutil import utcnow

TemplateKey = Literal["item_passed", "all_passed", "certificate_issued", "batch_closing_reminder"]
NotPushedReason = Literal["no_consent", "platform_refused", "rate_limited_retrying", "pending", "no_wechat_binding"]

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 503: ErrorOut}
bp = APIBlueprint("messaging_api", __name__, url_prefix="/api/v1/me", abp_tags=[Tag(name="notifications")],
                  abp_security=BEARER, abp_responses=ERRORS)
# Who is asking comes before what they sent: a stranger's malformed body is a 401, not a 400.
bp.before_request(lambda: current_student_id() and None)


class SubscriptionsIn(Strict):
    """Which templates the student accepted in wx.requestSubscribeMessage (each acceptance allows one push)."""

    accepted: list[TemplateKey] = Field(max_length=len(TemplateKey.__args__))  # type: ignore[attr-defined]

    @field_validator("accepted")
    @classmethod
    def _no_repeats(cls, keys: list[str]) -> list[str]:
        if len(set(keys)) != len(keys):
            raise ValueError("a template key may appear once per report")
        return keys


class SubscriptionOut(BaseModel):
    key: TemplateKey
    template_id: str
    title: str
    title_en: str
    remaining: int


class SubscriptionsOut(BaseModel):
    templates: list[SubscriptionOut]


class NotificationOut(BaseModel):
    id: int
    event: TemplateKey
    title: str
    title_en: str
    body: str
    body_en: str
    created_at: str
    pushed: bool
    not_pushed_reason: NotPushedReason | None
    channel: Literal["wechat", "wecom"] | None


class NotificationsOut(BaseModel):
    items: list[NotificationOut]


@bp.get("/subscriptions", responses={200: SubscriptionsOut})
def get_subscriptions():  # type: ignore[no-untyped-def]
    """Template ids to ask consent for, and how many pushes of each the student has allowed."""
    counts = consent.remaining(db(), current_student_id())
    return jsonify({"templates": consent.describe(app_state().settings, counts)})


@bp.post("/subscriptions", responses={200: SubscriptionsOut})
def post_subscriptions(body: SubscriptionsIn):  # type: ignore[no-untyped-def]
    """Report accepted templates; each adds one allowed push of that template."""
    session = db()
    student_id = current_student_id()
    consent.accept(session, student_id, body.accepted, utcnow())
    counts = consent.remaining(session, student_id)
    session.commit()
    return jsonify({"templates": consent.describe(app_state().settings, counts)})


@bp.get("/notifications", responses={200: NotificationsOut})
def get_notifications():  # type: ignore[no-untyped-def]
    """Everything the student was notified of, newest first, and whether (or why not) it was pushed."""
    return jsonify({"items": list_notifications(db(), current_student_id())})
