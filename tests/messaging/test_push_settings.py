"""Push settings: template ids by their environment names, reminder days, production refusals."""

from __future__ import annotations

import pytest

from server.settings import Settings, SettingsError, check_settings, load_settings, reminder_days, wx_template_id


def test_template_ids_come_from_their_environment_names() -> None:
    settings = load_settings({"LIXIAO_WX_TEMPLATE_ITEM_PASSED": "tmpl-from-console-0001"})
    assert wx_template_id(settings, "LIXIAO_WX_TEMPLATE_ITEM_PASSED") == "tmpl-from-console-0001"
    assert wx_template_id(settings, "LIXIAO_WX_TEMPLATE_ALL_PASSED") == "demo-tmpl-all-passed"
    with pytest.raises(KeyError):
        wx_template_id(settings, "LIXIAO_WX_SECRET")


def test_reminder_days_are_whole_positive_days() -> None:
    assert reminder_days(Settings(reminder_days="1, 3,7")) == (7, 3, 1)
    for bad in ("3,x", "0", "-1"):
        with pytest.raises(SettingsError):
            load_settings({"LIXIAO_REMINDER_DAYS": bad})
    with pytest.raises(SettingsError):
        load_settings({"LIXIAO_WX_MINIPROGRAM_STATE": "beta"})


def test_production_refuses_demo_template_ids() -> None:
    with pytest.raises(SettingsError) as refused:
        check_settings(Settings(env="production"))
    assert "LIXIAO_WX_TEMPLATE_ITEM_PASSED must be the template id" in str(refused.value)
