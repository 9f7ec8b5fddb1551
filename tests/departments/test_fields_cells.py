"""The import cell parser that remembers cells gives exactly what `parse_cells` gives, errors included."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from server.imports.cells import CellParser
from server.items import registry
from server.items.fields import FieldProblem


def parse_cells(key: str, cells: dict) -> dict:
    return registry.get(key).parse_cells(cells)

ROWS = {
    "library": [
        {"owed_books": "1", "owed_fees": "12.5", "violations": "0", "card_status": "正常", "thesis_status": "通过"},
        {"owed_books": 1.0, "owed_fees": 12.5, "violations": 0.0, "card_status": "active", "thesis_status": ""},
        {"owed_books": True, "owed_fees": "1", "violations": "0", "card_status": "正常", "thesis_status": "通过"},
        {"owed_books": "1", "owed_fees": "¥1,250.00", "violations": "-1", "card_status": "x", "thesis_status": "通过"},
        {"owed_books": "abc", "owed_fees": "12.555", "violations": "0", "card_status": "正常", "thesis_status": "?"},
        {"owed_books": "", "owed_fees": "", "violations": None, "card_status": "已注销", "thesis_status": None},
    ],
    "apartment": [
        {"building": " 10号楼 ", "move_out_date": "2027/6/20", "move_out_handler": ""},
        {"building": None, "move_out_date": datetime(2027, 6, 20, 9, 0), "move_out_handler": "甲"},
        {"building": "x" * 65, "move_out_date": date(2027, 6, 20), "move_out_handler": "甲"},
        {"building": "10", "move_out_date": "2027-02-30", "move_out_handler": None},
    ],
    "finance": [
        {"arrears": "3", "fee_name": "住宿费", "fee_due": "100", "fee_paid": "50"},
        {"arrears": "3"},
        {"arrears": "3", "fee_name": "", "fee_due": "x", "fee_paid": ""},
    ],
}


def outcome(parse, key: str, cells: dict) -> object:
    try:
        return parse(key, cells)
    except FieldProblem as problem:
        return problem


@pytest.mark.parametrize("key", sorted(ROWS))
def test_the_remembering_parser_agrees_with_parse_cells(key: str) -> None:
    parser = CellParser(registry.get(key))
    for _round in range(2):  # the second round answers from what the first remembered
        for cells in ROWS[key]:
            assert outcome(lambda _k, c: parser(c), key, cells) == outcome(parse_cells, key, cells), cells
