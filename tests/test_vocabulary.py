"""Words for codes: every way a record arrives has words, and no stored code reaches a page as it is."""

from __future__ import annotations

from server.vocabulary import source_label


def test_every_source_a_record_is_written_with_has_words():
    for source in ("http", "fake", "local", "api", "import"):
        zh, en = source_label(source)
        assert zh and en and source not in (zh, en)


def test_a_console_entry_names_the_staff_not_their_account():
    assert source_label("console:lib-teacher") == ("部门老师录入", "Entered by department staff")


def test_no_source_is_no_words_and_an_unknown_one_is_not_shown_as_its_code():
    assert source_label("") == ("", "")
    assert source_label("ftp-drop") == ("其他来源", "Another source")
