"""The log redaction: what it hides, and that it hides it in every logger's records and tracebacks."""

from __future__ import annotations

import logging

import pytest
import requests

from server import redaction
from server.redaction import REDACTED, redact


@pytest.mark.parametrize(("line", "hidden"), [
    ('"GET /bind/cas?token=eyJhbGc.abc-DEF_1 HTTP/1.1" 302 -', "eyJhbGc.abc-DEF_1"),
    ("GET /sns/jscode2session?appid=wx1&secret=s3cr3t-value&js_code=0a1b2c&grant_type=authorization_code",
     "s3cr3t-value"),
    ("GET /sns/jscode2session?appid=wx1&secret=x&js_code=0a1b2c3d4e&grant_type=authorization_code", "0a1b2c3d4e"),
    ("GET /qy/cgi-bin/gettoken?corpid=ww1&corpsecret=corp-secret-9", "corp-secret-9"),
    ("POST /cgi-bin/message/subscribe/send?access_token=ACCESS_TOKEN_123", "ACCESS_TOKEN_123"),
    ("/cas/p3/serviceValidate?ticket=ST-123-abcdef&service=http%3A%2F%2Fx", "ST-123-abcdef"),
    ('{"openid": "o1", "session_key": "tiihtNczf5v6AKRyjwEUhQ=="}', "tiihtNczf5v6AKRyjwEUhQ=="),
    ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
    ("key -----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ\n-----END PRIVATE KEY----- done",
     "MC4CAQAwBQYDK2VwBCIEIJ"),
])
def test_redact_hides_credentials_in_urls_fields_headers_and_pems(line, hidden):
    clean = redact(line)
    assert hidden not in clean and REDACTED in clean


def test_redact_keeps_ordinary_text():
    line = '127.0.0.1 - - "GET /api/v1/me/clearance HTTP/1.1" 200 - 学生 TS0001 status=passed'
    assert redact(line) == line


def test_registered_secrets_are_hidden_anywhere_even_in_a_traceback(caplog):
    redaction.install()
    redaction.register_secrets(["a-configured-secret-4711", "short"])
    logger = logging.getLogger("some.library")
    with caplog.at_level(logging.DEBUG, logger="some.library"):
        logger.debug("connecting with %s", "a-configured-secret-4711")
        try:
            raise requests.ConnectionError("Max retries exceeded with url: /x?secret=a-configured-secret-4711")
        except requests.ConnectionError:
            logger.exception("call failed")
        logger.info("a short word stays")
    text = caplog.text
    assert "a-configured-secret-4711" not in text and text.count(REDACTED) >= 2
    assert "Max retries exceeded" in text and "a short word stays" in text


def test_settings_never_show_their_secrets_in_a_repr(settings):
    from server.settings import DepartmentSettings

    configured = settings.with_overrides(wx_secret="wx-secret-in-repr", wecom_secret="wecom-secret-in-repr",
                                         departments={"library": DepartmentSettings(api_key="dept-key-in-repr")})
    text = repr(configured)
    for secret in ("wx-secret-in-repr", "wecom-secret-in-repr", "dept-key-in-repr", settings.secret_key,
                   settings.certificate_private_key):
        assert secret not in text
    assert "database_url" in text  # the rest is still there to read
