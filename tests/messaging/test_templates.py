"""Message templates: every rendered value fits WeChat's keyword rules, wording is bilingual, typos fail."""

import json
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.messaging.subscribe_values import PHRASES, SANITISERS, sanitise_subscribe_value
from server.messaging.templates import (
    CONTEXT_VARIABLES,
    EVENT_KEYS,
    SUBSCRIBE_TYPES,
    TEMPLATES_DIR,
    TEXT_VARIABLES,
    WECOM_DESCRIPTION_MAX_BYTES,
    WECOM_TITLE_MAX_BYTES,
    TemplateContextError,
    TemplateError,
    get_templates,
    load_templates,
    render_inapp,
    render_subscribe_data,
    render_wecom_textcard,
    validate_subscribe_value,
)

LONG_CHINESE_NAME = "欧阳慕容司马上官诸葛东方皇甫令狐宇文长孙轩辕明月光"  # fictitious, 25 characters
HAN = re.compile("[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")
BASE_URL = "https://lixiao.example.edu.cn/"

HOSTILE_TEXT = {
    "long_chinese_name": LONG_CHINESE_NAME,
    "long_college": "马克思主义学院与公共管理学院联合培养中心",
    "english_name": "Alexandra Catherine Montgomery-Wellington the Third",
    "emoji": "张三😀🎓👨‍👩‍👧",
    "emoji_only": "😀🎓",
    "empty": "",
    "whitespace_and_controls": " \t\n\u200b\x00\u3000 ",
    "markup": "<script>alert('x')</script> & \"quotes\"",
    "fullwidth": "ＡＢＣ１２３　学院",
    "accented": "José Müller-Lüdenscheidt",
    "very_long_ascii": "x" * 300,
    "very_long_chinese": "长" * 300,
    "digits": "2027000123",
    "symbols_only": "!!!@@@###$$$",
    "rare_han_outside_bmp": "𠀀𠀁𠀂",
    "arabic": "محمد عبد الله",
    "newlines": "第一行\n第二行\r\n第三行",
}


def context(text: str = "", **overrides: object) -> dict[str, object]:
    """Every context variable: all text variables set to `text`, times fixed."""
    ctx: dict[str, object] = dict.fromkeys(TEXT_VARIABLES, text)
    ctx |= {
        "closes_at": datetime(2027, 6, 20, 6, 30, tzinfo=UTC),
        "issued_at": datetime(2027, 6, 19, 16, 5, tzinfo=UTC),
        "changed_at": datetime(2027, 6, 1, 1, 2, tzinfo=UTC),
    }
    return ctx | overrides


def test_long_chinese_name_fixture_is_25_characters() -> None:
    assert len(LONG_CHINESE_NAME) == 25


def test_all_events_have_templates() -> None:
    assert set(get_templates()) == set(EVENT_KEYS)
    assert get_templates()["item_passed"].template_id_setting == "LIXIAO_WX_TEMPLATE_ITEM_PASSED"
    assert get_templates()["certificate_issued"].page == "pages/certificate/index"


def test_templates_are_loaded_once() -> None:
    assert get_templates() is get_templates()
    assert dict(get_templates()) == load_templates()


@pytest.mark.parametrize("path", sorted(TEMPLATES_DIR.glob("*/template.json")), ids=lambda p: p.parent.name)
def test_raw_fields_use_known_types_and_sources(path) -> None:
    """Read the JSON itself, not the loader's result, so a loader bug cannot hide a typo."""
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["key"] == path.parent.name
    for field in data["fields"]:
        assert field["type"] in SUBSCRIBE_TYPES
        assert field["key"].startswith(field["type"])
        assert ("source" in field) != ("value" in field)
        if "source" in field:
            assert field["source"] in CONTEXT_VARIABLES
        assert HAN.search(field["label"]) and ENGLISH.search(field["label_en"])
    for text in [data["wecom"]["title"], data["wecom"]["description"], *data["inapp"].values()]:
        for name in re.findall(r"\{([a-z_]+)", text):
            assert name in CONTEXT_VARIABLES


@pytest.mark.parametrize("event", EVENT_KEYS)
@pytest.mark.parametrize("case", sorted(HOSTILE_TEXT))
def test_every_rendered_value_is_accepted(event: str, case: str) -> None:
    template = get_templates()[event]
    data = render_subscribe_data(template, context(HOSTILE_TEXT[case]))
    assert list(data) == [f.key for f in template.fields]
    for field in template.fields:
        value = data[field.key]["value"]
        assert validate_subscribe_value(field.type, value) is None, (field.key, value)


@pytest.mark.parametrize("event", EVENT_KEYS)
@pytest.mark.parametrize("case", sorted(HOSTILE_TEXT))
def test_wecom_card_is_complete_and_within_limits(event: str, case: str) -> None:
    card = render_wecom_textcard(get_templates()[event], context(HOSTILE_TEXT[case]), BASE_URL)
    assert set(card) == {"title", "description", "url", "btntxt"}
    assert card["title"] and card["description"]
    assert len(card["title"].encode()) <= WECOM_TITLE_MAX_BYTES
    assert len(card["description"].encode()) <= WECOM_DESCRIPTION_MAX_BYTES
    assert card["url"].startswith("https://lixiao.example.edu.cn/") and "//h5" not in card["url"]
    assert 1 <= len(card["btntxt"]) <= 4
    assert "<script" not in card["description"]  # values are escaped, only our own <div> markup remains
    assert set(re.findall(r"<(\w+)", card["description"])) == {"div"}


@pytest.mark.parametrize("event", EVENT_KEYS)
@pytest.mark.parametrize("case", sorted(HOSTILE_TEXT))
def test_inapp_text_has_both_languages(event: str, case: str) -> None:
    text = render_inapp(get_templates()[event], context(HOSTILE_TEXT[case]))
    assert set(text) == {"title", "title_en", "body", "body_en"}
    assert HAN.search(text["title"]) and HAN.search(text["body"])
    assert ENGLISH.search(text["title_en"]) and ENGLISH.search(text["body_en"])
    assert all("\n" not in v and "\x00" not in v for v in text.values())


@pytest.mark.parametrize("event", EVENT_KEYS)
def test_template_wording_is_bilingual(event: str) -> None:
    """The fixed wording (placeholders removed) carries each language where it should."""
    template = get_templates()[event]

    def bare(s: str) -> str:
        return re.sub(r"\{[^}]*\}", "", s)

    for zh in (template.inapp.title, template.inapp.body):
        assert HAN.search(bare(zh))
    for en in (template.inapp.title_en, template.inapp.body_en):
        assert not HAN.search(bare(en)) and ENGLISH.search(bare(en))
    for both in (template.wecom.title, template.wecom.description):
        assert HAN.search(bare(both)) and ENGLISH.search(bare(both))


def test_times_are_shown_in_shanghai() -> None:
    ctx = context("张三")
    passed = render_subscribe_data(get_templates()["item_passed"], ctx)
    assert passed["time4"]["value"] == "2027年6月1日 09:02"
    closing = render_subscribe_data(get_templates()["batch_closing_reminder"], ctx)
    assert closing["time2"]["value"] == "2027年6月20日 14:30"
    # 16:05 UTC on the 19th is already the 20th in Shanghai.
    issued = render_subscribe_data(get_templates()["certificate_issued"], ctx)
    assert issued["date4"]["value"] == "2027年6月20日"
    assert "2027-06-20 14:30 (Beijing time)" in render_inapp(get_templates()["batch_closing_reminder"], ctx)["body_en"]


@pytest.mark.parametrize(
    "given",
    [
        datetime(2027, 6, 20, 6, 30),  # naive: stored UTC
        "2027-06-20T06:30:00+00:00",
        "2027-06-20T14:30:00+08:00",
        datetime(2027, 6, 20, 8, 30, tzinfo=UTC) - timedelta(hours=2),
    ],
)
def test_time_inputs_all_mean_the_same_moment(given: object) -> None:
    data = render_subscribe_data(get_templates()["batch_closing_reminder"], context("x", closes_at=given))
    assert data["time2"]["value"] == "2027年6月20日 14:30"


def test_sanitisers_cut_by_rule() -> None:
    assert sanitise_subscribe_value("thing", "长" * 25) == "长" * 19 + "…"
    assert sanitise_subscribe_value("thing", "长" * 20) == "长" * 20
    assert sanitise_subscribe_value("name", LONG_CHINESE_NAME) == LONG_CHINESE_NAME[:10]
    assert sanitise_subscribe_value("name", "José Müller") == "Jose Muller"
    assert sanitise_subscribe_value("phrase", "passed") == "已通过"
    assert sanitise_subscribe_value("phrase", "审核已经全部通过") == "审核已经全"
    assert sanitise_subscribe_value("character_string", "ＬＸ-2027 0001😀") == "LX-20270001"
    assert sanitise_subscribe_value("number", 10**5) == "100000"
    assert sanitise_subscribe_value("amount", Decimal("12.5")) == "¥12.50"
    assert sanitise_subscribe_value("car_number", "京a·12345苏") == "京A12345苏"
    assert sanitise_subscribe_value("car_number", "京A1234567890") == "京A123456"


# Characters chosen to hit every rule: several scripts, emoji, controls, full-width and symbols.
FUZZ_ALPHABET = "张三李四欧阳ABCxyz019 ·.-'_!@#<>&…—“”，。、（）ＡＢ１２é😀🎓\u200d\t\n\x00𠀀ab"


@pytest.mark.parametrize("type_", sorted(SUBSCRIBE_TYPES - {"time", "date", "amount"}))
def test_sanitised_random_text_is_always_accepted(type_: str) -> None:
    rng = random.Random(f"lixiao-{type_}")
    for _ in range(400):
        raw = "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 60)))
        value = sanitise_subscribe_value(type_, raw)
        assert validate_subscribe_value(type_, value) is None, (type_, raw, value)


@pytest.mark.parametrize("type_", ["time", "date"])
def test_sanitised_random_times_are_always_accepted(type_: str) -> None:
    rng = random.Random(type_)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    for _ in range(400):
        moment = start + timedelta(minutes=rng.randint(0, 60 * 24 * 365 * 40))
        assert validate_subscribe_value(type_, sanitise_subscribe_value(type_, moment)) is None


def test_sanitised_amounts_are_accepted_and_bad_money_is_refused() -> None:
    for amount in ("0", "-0", 12, "¥1,234.5", Decimal("99999999.99"), "88元"):
        assert validate_subscribe_value("amount", sanitise_subscribe_value("amount", amount)) is None
    for bad in ("-1", "1e9", "NaN", "abc", 10**8):
        with pytest.raises(ValueError):
            sanitise_subscribe_value("amount", bad)


def test_phrase_word_list_is_valid() -> None:
    assert all(validate_subscribe_value("phrase", word) is None for word in PHRASES.values())


def test_every_type_has_a_sanitiser() -> None:
    assert set(SANITISERS) == SUBSCRIBE_TYPES


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("thing", "长" * 20),
        ("thing", "图书馆: 3 books, ¥0.00…"),
        ("phrase", "已通过"),
        ("name", "欧阳明月"),
        ("name", "Alexandra Montgomery"),
        ("name", "阿卜杜·热合曼"),
        ("character_string", "LX-2027-000123"),
        ("number", "3.14"),
        ("letter", "ABCdef"),
        ("symbol", "#$%"),
        ("phone_number", "+86-010-12345678"),
        ("car_number", "京A12345"),
        ("amount", "¥100.00"),
        ("amount", "88元"),
        ("time", "15:01"),
        ("time", "2019年10月1日 15:01"),
        ("time", "2027-06-20 14:30"),
        ("time", "2019年10月1日 15:01~2019年10月2日 15:01"),
        ("date", "2019年10月1日"),
        ("date", "2024年2月29日 08:00"),
    ],
)
def test_validator_accepts(type_: str, value: str) -> None:
    assert validate_subscribe_value(type_, value) is None


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("thing", ""),
        ("thing", "   "),
        ("thing", "长" * 21),
        ("thing", "张三😀"),
        ("thing", "第一行\n第二行"),
        ("phrase", "已通过了吗啊"),
        ("phrase", "passed"),
        ("phrase", "通过!"),
        ("name", "欧阳慕容司马上官诸葛东"),
        ("name", "A" * 21),
        ("name", "张三3"),
        ("name", "..."),
        ("character_string", "x" * 33),
        ("character_string", "LX 2027"),
        ("character_string", "编号1"),
        ("number", "1e5"),
        ("number", "١٢٣"),
        ("number", "1" * 33),
        ("letter", "abc1"),
        ("symbol", "......"),
        ("phone_number", "1" * 18),
        ("phone_number", "---"),
        ("car_number", "京A1234567"),
        ("car_number", "A京1234"),
        ("car_number", "京a12345"),
        ("amount", "¥12345678901"),
        ("amount", "¥1.234"),
        ("time", "25:00"),
        ("time", "2027年6月20日"),
        ("time", "2027-06-20"),
        ("time", "1:00~2:00~3:00"),
        ("date", "2020年03月19日"),
        ("date", "2027年2月30日"),
        ("date", "2027-06-20"),
        ("enum", "anything"),
        ("thingy", "x"),
    ],
)
def test_validator_rejects(type_: str, value: str) -> None:
    assert validate_subscribe_value(type_, value) is not None


def test_validator_rejects_non_strings() -> None:
    assert validate_subscribe_value("number", 5) is not None


def test_unknown_context_variable_is_refused() -> None:
    with pytest.raises(TemplateContextError, match="studnet_name"):
        render_subscribe_data(get_templates()["item_passed"], context("x", studnet_name="张三"))


@pytest.mark.parametrize("bad", [None, "", "next Tuesday"])
def test_missing_or_unreadable_time_is_refused(bad: object) -> None:
    ctx = context("张三", changed_at=bad)
    for render in (render_subscribe_data, render_inapp):
        with pytest.raises(TemplateContextError, match="changed_at"):
            render(get_templates()["item_passed"], ctx)
    with pytest.raises(TemplateContextError, match="changed_at"):
        render_wecom_textcard(get_templates()["item_passed"], ctx, BASE_URL)


def _set(path: list, value: object):
    def mutate(data: dict) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set(["fields", 0, "source"], "itme_title"), "unknown source"),
        (_set(["fields", 0, "type"], "thingy"), "unknown keyword type"),
        (_set(["fields", 0, "key"], "name1"), "does not match its type"),
        (_set(["fields", 0, "value"], "固定"), "exactly one of source and value"),
        (_set(["fields", 1, "value"], "已经全部通过了"), "fixed value rejected"),
        (_set(["fields", 3, "source"], "student_name"), "times go to time/date"),
        (_set(["fields", 0, "lable"], "x"), "unknown keys"),
        (_set(["inapp", "body"], "{student_nmae}同学"), "unknown variable"),
        (_set(["inapp", "body_en"], "{student_name:en} passed"), "not allowed"),
        (_set(["wecom", "description"], "<div>{changed_at</div>"), "stray brace"),
        (_set(["wecom", "btntxt"], "查看详细信息"), "btntxt"),
        (_set(["wecom", "url"], "https://elsewhere.example/"), "url"),
        (_set(["page"], "/pages/home/index"), "page"),
        (_set(["template_id_setting"], "ITEM_PASSED"), "template_id_setting"),
        (_set(["key"], "item_pased"), "folder name"),
        (_set(["fields"], []), "1 to 5"),
    ],
)
def test_template_typos_fail_loading(tmp_path, mutate, message: str) -> None:
    source = TEMPLATES_DIR / "item_passed"
    shutil.copytree(source, tmp_path / "item_passed")
    target = tmp_path / "item_passed" / "template.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    assert load_templates(tmp_path)["item_passed"] == get_templates()["item_passed"]
    mutate(data)
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TemplateError, match=message):
        load_templates(tmp_path)
