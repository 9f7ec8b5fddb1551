"""Settings: embedded defaults for development; production refuses fakes and default secrets."""

from __future__ import annotations

import re

import pytest

from server.certificates.signing import generate_private_key_pem
from server.clearance.rules import office
from server.items import registry
from server.settings import SettingsError, load_settings
from tests.factories import ITEM_KEYS

GOOD_PRODUCTION = {
    "LIXIAO_ENV": "production",
    "LIXIAO_SECRET_KEY": "x" * 48,
    "LIXIAO_DATABASE_URL": "mysql+pymysql://lixiao:pw@db.internal:3306/lixiao?charset=utf8mb4",
    "LIXIAO_REDIS_URL": "redis://cache.internal:6379/0",
    "LIXIAO_WX_SECRET": "real-wechat-secret",
    "LIXIAO_WECOM_SECRET": "real-wecom-secret",
    "LIXIAO_WX_API_BASE": "https://api.weixin.qq.com/",
    "LIXIAO_WECOM_API_BASE": "https://qyapi.weixin.qq.com/cgi-bin/",
    "LIXIAO_CAS_SERVER_URL": "https://cas.example.edu.cn/cas/",
    "LIXIAO_WECOM_OAUTH_URL": "https://open.weixin.qq.com/connect/oauth2/authorize",
    "LIXIAO_PUBLIC_BASE_URL": "https://lixiao.example.edu.cn",
    "LIXIAO_WX_TEMPLATE_ITEM_PASSED": "tmpl-item-passed-from-console",
    "LIXIAO_WX_TEMPLATE_ALL_PASSED": "tmpl-all-passed-from-console",
    "LIXIAO_WX_TEMPLATE_CERTIFICATE_ISSUED": "tmpl-certificate-from-console",
    "LIXIAO_WX_TEMPLATE_BATCH_CLOSING_REMINDER": "tmpl-reminder-from-console",
    "LIXIAO_WX_TEMPLATE_WECHAT_BOUND": "tmpl-bound-from-console",
    "LIXIAO_CERTIFICATE_PRIVATE_KEY": generate_private_key_pem(),  # a key that does not load stops the start
    **{f"LIXIAO_WX_TEMPLATE_{event}": f"tmpl-{event.lower()}"  # messaging: real subscribe-message template ids
       for event in ("ITEM_PASSED", "ALL_PASSED", "CERTIFICATE_ISSUED", "BATCH_CLOSING_REMINDER")},
}


def test_embedded_defaults():
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite:///") and settings.redis_url == ""
    assert {settings.department(key).source for key in ITEM_KEYS} == {"local"}
    assert all(office(settings, key).place and office(settings, key).phone for key in ITEM_KEYS)  # items' defaults


def test_an_office_place_and_phone_can_be_set_per_item():
    settings = load_settings({"LIXIAO_LIBRARY_PLACE": "新馆二楼", "LIXIAO_LIBRARY_PHONE": "0516-1",
                              "LIXIAO_HELP_PHONE": "9"})
    assert (office(settings, "library").place, office(settings, "library").phone) == ("新馆二楼", "0516-1")
    assert office(settings, "finance").phone == "9"  # an office without a phone of its own gives the help line


def test_unknown_items_stop_the_start():
    with pytest.raises(SettingsError, match="unknown items"):
        registry.check(load_settings({"LIXIAO_ITEMS": "library,canteen"}))
    with pytest.raises(SettingsError, match="LIXIAO_LIBARY_"):
        registry.check(load_settings({"LIXIAO_LIBARY_SOURCE": "local"}))  # a typo names no item
    assert registry.active(load_settings({"LIXIAO_ITEMS": " Finance , library"})).keys == ("finance", "library")


def test_a_complete_production_configuration_starts():
    settings = load_settings(GOOD_PRODUCTION)
    assert settings.is_production


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"LIXIAO_SECRET_KEY": "dev-secret-not-for-production"}, "LIXIAO_SECRET_KEY"),
        ({"LIXIAO_DATABASE_URL": "sqlite:///var/x.sqlite3"}, "MySQL"),
        ({"LIXIAO_DATABASE_URL": "mysql+pymysql://u:p@h/db"}, "utf8mb4"),
        ({"LIXIAO_REDIS_URL": ""}, "LIXIAO_REDIS_URL"),
        ({"LIXIAO_WX_SECRET": "demo-wechat-app-secret"}, "LIXIAO_WX_SECRET"),
        ({"LIXIAO_CAS_SERVER_URL": "http://127.0.0.1:8001/cas/"}, "emulator"),
        ({"LIXIAO_LIBRARY_SOURCE": "fake"}, "fake"),
        ({"LIXIAO_CERTIFICATE_PRIVATE_KEY": ""}, "CERTIFICATE"),
    ],
)
def test_production_refuses_fakes_and_default_secrets(override, complaint):
    with pytest.raises(SettingsError, match=complaint):
        load_settings({**GOOD_PRODUCTION, **override})


@pytest.mark.parametrize(("override", "complaint"), [
    # Review F6: the emulator on any port, and on any loopback spelling.
    ({"LIXIAO_CAS_SERVER_URL": "https://127.0.0.1:19201/cas/"}, "LIXIAO_CAS_SERVER_URL points at this machine"),
    ({"LIXIAO_WX_API_BASE": "https://localhost:19201/"}, "LIXIAO_WX_API_BASE points at this machine"),
    ({"LIXIAO_WECOM_API_BASE": "https://[::1]:9000/qy/cgi-bin/"}, "LIXIAO_WECOM_API_BASE points at this machine"),
    ({"LIXIAO_WECOM_OAUTH_URL": "https://127.8.9.10/qy/connect/oauth2/authorize"}, "LIXIAO_WECOM_OAUTH_URL points"),
    ({"LIXIAO_CAS_SERVER_URL": "https://0.0.0.0:8443/cas/"}, "LIXIAO_CAS_SERVER_URL points at this machine"),
    # Plain http: a CAS validation or a platform answer could come from anyone on the path.
    ({"LIXIAO_CAS_SERVER_URL": "http://cas.example.edu.cn/cas/"}, "LIXIAO_CAS_SERVER_URL must be an https:// URL"),
    ({"LIXIAO_WX_API_BASE": "http://api.weixin.qq.com/"}, "LIXIAO_WX_API_BASE must be an https:// URL"),
    ({"LIXIAO_WECOM_API_BASE": "http://qyapi.weixin.qq.com/cgi-bin/"}, "LIXIAO_WECOM_API_BASE must be an https"),
    ({"LIXIAO_WECOM_OAUTH_URL": "http://open.weixin.qq.com/connect/oauth2/authorize"}, "LIXIAO_WECOM_OAUTH_URL must"),
    ({"LIXIAO_WX_JSSDK_URL": "http://res.wx.qq.com/open/js/jweixin-1.6.0.js"}, "LIXIAO_WX_JSSDK_URL must be an https"),
    # Our own address: QR codes and CAS service URLs are built from it.
    ({"LIXIAO_PUBLIC_BASE_URL": ""}, "LIXIAO_PUBLIC_BASE_URL must be an https:// URL"),
    ({"LIXIAO_PUBLIC_BASE_URL": "http://127.0.0.1:8000"}, "LIXIAO_PUBLIC_BASE_URL must be set"),
    ({"LIXIAO_PUBLIC_BASE_URL": "http://lixiao.example.edu.cn"}, "LIXIAO_PUBLIC_BASE_URL must be an https:// URL"),
    ({"LIXIAO_PUBLIC_BASE_URL": "https://localhost"}, "LIXIAO_PUBLIC_BASE_URL points at this machine"),
])
def test_production_refuses_plain_http_and_this_machine(override, complaint):
    with pytest.raises(SettingsError, match=re.escape(complaint)):
        load_settings({**GOOD_PRODUCTION, **override})


@pytest.mark.parametrize(
    "env",
    [
        {"LIXIAO_LIBRARY_SOURCE": "ftp"},
        {"LIXIAO_FINANCE_SOURCE": "http"},  # http needs a URL
        {"LIXIAO_TOKEN_TTL_SECONDS": "a week"},
        {"LIXIAO_ARCHIVES_TIMEOUT_SECONDS": "fast"},
    ],
)
def test_unusable_settings_fail_fast(env):
    with pytest.raises(SettingsError):
        load_settings(env)
