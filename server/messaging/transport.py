"""The two outbound calls pushes make, for one sending thread: a WeChat subscribe message and a WeCom text card.

The calls themselves, their token handling and their error table live in `server/platforms/` (one adapter per
platform, shared with login); this only holds one client of each for a thread (requests sessions are not
shared between threads). Every client shares its access token with every other worker through Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import redis

from server.platforms import wechat, wecom
from server.platforms.common import Abort, Outcome, SendResult
from server.settings import Settings

__all__ = ["Abort", "Outcome", "PushTransport", "SendResult"]


class PushTransport:
    """Sends pushes; one instance per sending thread."""

    def __init__(self, settings: Settings, redis_client: redis.Redis) -> None:
        self.settings = settings
        self.wechat = wechat.MiniProgramClient(settings, redis_client)
        self.wecom = wecom.WeComAppClient(settings, redis_client)

    def send_wechat_subscribe(self, openid: str, template_id: str, page: str, data: Mapping[str, Any], *,
                              before_send: Callable[[], None] | None = None) -> SendResult:
        """Send one subscribe message; see `platforms.wechat.send_subscribe`."""
        return wechat.send_subscribe(self.wechat, openid, template_id, page, data, before_send=before_send)

    def send_wecom_textcard(self, userid: str, card: Mapping[str, str], *,
                            before_send: Callable[[], None] | None = None) -> SendResult:
        """Send one WeCom text card; see `platforms.wecom.send_textcard`."""
        return wecom.send_textcard(self.wecom, userid, card, before_send=before_send)
