"""Make the service account visible in the demo: one demo student follows it, through the emulator's real callback."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clearance.models import Student
from server.identity.models import WechatBinding
from server.messaging.followers import MiniProgramUnionid
from server.settings import Settings

CALLBACK_PATH = "/wx/service-account/callback"


def prepare_demo_follower(session: Session, settings: Settings, emulator_url: str, student_no: str,
                          now: datetime) -> str | None:
    """Let `student_no` follow the emulated account; returns the follower's openid (None: channel off). Commits.

    The student's mini-program login is given a unionid, the emulator is told the app's callback URL, and the
    follow is posted from a thread (the app must be serving to receive its callback): the callback, signed and
    AES-encrypted, is what links the follower to the student, by unionid, exactly as with a real account.
    """
    if not settings.sa_appid:
        return None
    student = session.scalars(select(Student).where(Student.student_no == student_no)).one()
    openid = session.scalar(select(WechatBinding.openid).where(WechatBinding.student_id == student.id))
    if openid is None:
        return None
    unionid = f"u-demo-{student_no}"
    if session.scalar(select(MiniProgramUnionid.id).where(MiniProgramUnionid.openid == openid)) is None:
        session.add(MiniProgramUnionid(openid=openid, unionid=unionid, seen_at=now))
    session.commit()
    control = emulator_url.rstrip("/") + "/_control/sa/"
    requests.put(control + "config", timeout=5, json={
        "callback_url": settings.public_base_url.rstrip("/") + CALLBACK_PATH,
        "callback_mode": "safe" if settings.sa_aes_key else "plain"}).raise_for_status()
    follower = f"o-sa-demo-{student_no}"
    threading.Thread(target=_follow, args=(control, follower, unionid), name="lixiao-demo-follow",
                     daemon=True).start()
    return follower


def _follow(control: str, openid: str, unionid: str) -> None:
    with contextlib.suppress(requests.RequestException):  # the demo runs on; the banner says how to follow by hand
        requests.post(control + "follow", json={"openid": openid, "unionid": unionid}, timeout=15)
