"""Words for codes: every way a record arrives has words, and no stored code reaches a page as it is."""

from __future__ import annotations

from server.certificates.models import SCAN_RESULTS
from server.vocabulary import actor_label, cause_label, scan_label, source_label


def test_every_source_a_record_is_written_with_has_words():
    for source in ("http", "fake", "local", "api", "import"):
        zh, en = source_label(source)
        assert zh and en and source not in (zh, en)


def test_a_console_entry_names_the_staff_not_their_account():
    assert source_label("console:lib-teacher") == ("部门老师录入", "Entered by department staff")


def test_no_source_is_no_words_and_an_unknown_one_is_not_shown_as_its_code():
    assert source_label("") == ("", "")
    assert source_label("ftp-drop") == ("其他来源", "Another source")


def test_a_status_change_says_why_in_words():
    assert cause_label("console:move_out") == source_label("console")
    assert cause_label("import:library") == source_label("import")
    for cause in ("refresh", "roster", "card_cancelled", "demo"):
        zh, en = cause_label(cause)
        assert zh and en and cause not in (zh, en)
    assert cause_label("something-new") == ("其他原因", "Another cause")


def test_a_change_names_the_staff_by_username_and_others_in_words():
    assert actor_label("staff:lib-teacher") == ("lib-teacher", "lib-teacher")
    for actor in ("student:TS00000001", "system:cli", "system:http-library", "department_key:lib-1"):
        zh, en = actor_label(actor)
        assert zh and en and ":" not in zh + en
    assert actor_label("someone") == ("其他", "Someone else")


def test_every_scan_result_and_channel_has_words():
    for result in SCAN_RESULTS:
        for channel in ("public", "console", "console-wecom", "api-wechat", "api-wecom"):
            (zh, en), (where, where_en) = scan_label(result, channel)
            assert zh and en and where and where_en and result not in (zh, en) and channel not in (where, where_en)
    assert scan_label("new", "fax")[1] == ("其他渠道", "Another channel")
