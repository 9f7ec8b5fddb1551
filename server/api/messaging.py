"""Push consent and in-app notifications of the student API (SPEC §6)."""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, field_validator

from server.api.auth import BEARER, current_student_id
from server.api.schemas import Strict
from server.errors import error_responses
from server.messaging import consent
from server.messaging.notifications import list_notifications
from server.state import app_state, db
from server.timeutil import utcnow

TemplateKey = Literal["item_passed", "all_passed", "certificate_issued", "batch_closing_reminder", "wechat_bound"]
NotPushedReason = Literal["no_consent", "platform_refused", "rate_limited_retrying", "pending", "no_wechat_binding"]

ERRORS = error_responses(400, 401, 403, 503)
bp = APIBlueprint("messaging_api", __name__, url_prefix="/api/v1/me", abp_tags=[Tag(name="notifications")],
                  abp_security=BEARER, abp_responses=ERRORS)
# Who is asking comes before what they sent: a stranger's malformed body is a 401, not a 400.


@bp.before_request
def _who_is_asking() -> None:
    current_student_id()


class SubscriptionsIn(Strict):
    """Which templates the student accepted in wx.requestSubscribeMessage (each acceptance allows one push)."""

    # uniqueItems: the document says what _no_repeats enforces (schemathesis found them disagreeing).
    accepted: list[TemplateKey] = Field(max_length=len(TemplateKey.__args__),  # type: ignore[attr-defined]
                                        json_schema_extra={"uniqueItems": True})

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
    purpose: str = Field("", description="What the student gets by allowing it (shown beside it)")
    purpose_en: str = ""
    remaining: int
    long_term: bool = Field(description="A long-term (长期) template: one consent lasts; asked for apart")


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
    channel: Literal["wechat", "wecom", "svc_acct"] | None  # svc_acct: a template message of the service account
    page: str | None = Field(None, description="The mini-program page the notification talks about (no leading /)")
    link: str | None = Field(None, description="The same page on the web (a path of this site)")


class NotificationsOut(BaseModel):
    items: list[NotificationOut]


@bp.get("/subscriptions", responses={200: SubscriptionsOut})
def get_subscriptions():
    """Template ids to ask consent for, and how many pushes of each the student has allowed."""
    counts = consent.remaining(db(), current_student_id())
    return jsonify({"templates": consent.describe(app_state().settings, counts)})


@bp.post("/subscriptions", responses={200: SubscriptionsOut})
def post_subscriptions(body: SubscriptionsIn):
    """Report accepted templates; each adds one allowed push of that template."""
    session = db()
    student_id = current_student_id()
    consent.accept(session, student_id, body.accepted, utcnow())
    counts = consent.remaining(session, student_id)
    session.commit()
    return jsonify({"templates": consent.describe(app_state().settings, counts)})


@bp.get("/notifications", responses={200: NotificationsOut})
def get_notifications():
    """Everything the student was notified of, newest first, and whether (or why not) it was pushed."""
    return jsonify({"items": list_notifications(db(), current_student_id())})
