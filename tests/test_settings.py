"""Settings: embedded defaults for development; production refuses fakes and default secrets."""

from __future__ import annotations

import pytest

from server.certificates.signing import generate_private_key_pem
from server.settings import SettingsError, load_settings

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
    "LIXIAO_WX_TEMPLATE_ITEM_PASSED": "tmpl-item-passed-from-console",
    "LIXIAO_WX_TEMPLATE_ALL_PASSED": "tmpl-all-passed-from-console",
    "LIXIAO_WX_TEMPLATE_CERTIFICATE_ISSUED": "tmpl-certificate-from-console",
    "LIXIAO_WX_TEMPLATE_BATCH_CLOSING_REMINDER": "tmpl-reminder-from-console",
    "LIXIAO_CERTIFICATE_PRIVATE_KEY": generate_private_key_pem(),  # a key that does not load stops the start
    **{f"LIXIAO_WX_TEMPLATE_{event}": f"tmpl-{event.lower()}"  # messaging: real subscribe-message template ids
       for event in ("ITEM_PASSED", "ALL_PASSED", "CERTIFICATE_ISSUED", "BATCH_CLOSING_REMINDER")},
}


def test_embedded_defaults():
    settings = load_settings({})
    assert settings.database_url.startswith("sqlite:///") and settings.redis_url == ""
    assert {d.source for d in settings.departments.values()} == {"local"}
    assert settings.department("library").place


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
