"""The import page's help says what each column takes in the page's one language (#17): the values in that language,
then the other spellings a cell may also use ("也可写作" / "Also accepted as"), which are the file's own words."""

from __future__ import annotations

import re

import lxml.html
import pytest

from server.imports import roster
from server.imports.columns import ROSTER, VALUES_HELP
from server.items import registry
from server.items.fields import CellHelp, Choice, FieldProblem, Named
from tests.factories import sign_in_client
from tests.web.conftest import make_staff

CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
LATIN = re.compile(r"[A-Za-z]{2,}")
CARD = CellHelp(values=(("正常", "active"), ("已注销", "cancelled")), aliases=("有效", "canceled"))


def _columns():  # type: ignore[no-untyped-def]
    """Every column of every item, and the roster's."""
    for item in registry.known().values():
        for column in item.import_columns.values():
            yield f"{item.key}.{column.name}", column.help
    for name in ROSTER:
        yield f"roster.{name}", VALUES_HELP.get(name)


def test_a_choice_says_its_values_in_one_language_and_the_rest_as_also_accepted():
    assert CARD.text("zh") == "正常、已注销" and CARD.also("zh") == ("active", "cancelled", "有效", "canceled")
    assert CARD.text("en") == "active, cancelled" and CARD.also("en") == ("正常", "已注销", "有效", "canceled")
    count = CellHelp(("整数", "A whole number"))
    assert count.text("zh") == "整数" and count.text("en") == "A whole number" and count.also("en") == ()
    both = CellHelp(("空 = 是", "empty means yes"), values=(("是", "yes"), ("否", "no")))
    assert both.text("zh") == "是、否；空 = 是" and both.text("en") == "yes, no; empty means yes"


@pytest.mark.parametrize("column, help", list(_columns()))
def test_every_column_says_what_it_takes_in_each_language_alone(column, help):
    if help is None:
        return  # free text: nothing to say (name, college, major…)
    assert isinstance(help, CellHelp), column
    zh, en = help.text("zh"), help.text("en")
    assert zh and en, column
    assert not CHINESE.search(en), (column, en)  # the English words hold no Chinese
    assert not [w for w in LATIN.findall(zh) if w.lower() not in {"excel", "yyyy", "mm", "dd"}], (column, zh)


@pytest.mark.parametrize("key, name", [(item.key, field.name) for item in registry.known().values()
                                       for field in item.fields if isinstance(field.kind, Choice)])
def test_a_choice_offers_every_spelling_it_accepts_and_each_is_accepted(key, name):
    field = registry.get(key).field_index[name]
    kind = field.kind
    assert isinstance(kind, Choice)
    help = field.import_columns[0].help
    offered = {v for pair in help.values for v in pair} | set(help.aliases)
    assert offered == {*kind.values, *(a for a in kind.aliases if a)}
    for spelling in offered:
        assert kind.parse(Named(name), spelling) in kind.values


def test_the_roster_offers_every_spelling_it_accepts():
    for column, accepted in (("degree_level", roster._DEGREES), ("lived_on_campus", roster._YES_NO)):
        help = VALUES_HELP[column]
        offered = {v for pair in help.values for v in pair} | set(help.aliases)
        assert offered == set(accepted), column
    with pytest.raises(FieldProblem):
        roster.parse_row({"student_no": "A1", "degree_level": "学士"}, {}, None)


def _values_cells(html: str) -> list[lxml.html.HtmlElement]:
    document = lxml.html.document_fromstring(html)
    return document.xpath('//section[@aria-labelledby="columns-title"]//tbody/tr/td[4]')


def test_the_import_page_speaks_one_language(app, session):
    admin = sign_in_client(app.test_client(), app, staff_id=make_staff(session, "admin", "admin").id)
    chinese = admin.get("/console/imports").get_data(as_text=True)
    english = admin.get("/console/imports", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "也可写作" in chinese and "Also accepted as" not in chinese
    assert "Also accepted as" in english and "也可写作" not in english
    assert "whole number" not in chinese and "整数" not in english
    assert "正常/active" not in chinese + english  # no more pairs side by side
    for cell in _values_cells(english):
        for spelling in cell.xpath('.//*[@class="file-words"]'):
            spelling.drop_tree()  # a cell's own spellings, which may well be Chinese
        assert not CHINESE.search(cell.text_content()), cell.text_content()
    for cell in _values_cells(chinese):
        for spelling in cell.xpath('.//*[@class="file-words"] | .//code'):
            spelling.drop_tree()
        assert not [w for w in LATIN.findall(cell.text_content()) if w.lower() not in {"excel", "yyyy", "mm", "dd"}]
