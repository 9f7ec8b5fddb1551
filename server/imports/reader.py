"""Reading an uploaded CSV or XLSX file into a header and numbered rows, or saying clearly why not."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server.imports import xlsx
from server.imports.xlsx import MAX_CELL_CHARS

MAX_ROWS = 200_000
MAX_COLUMNS = 64  # an import reads fewer than 15; the rest are listed as ignored
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_UNIT = re.compile(r"[（(][^）)]*[）)]$")


class ImportFileError(Exception):
    """The file as a whole cannot be used (encoding, format, header); said in both languages."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


@dataclass
class Table:
    """A file's header and its non-empty rows, each with the row number a spreadsheet shows."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    encoding: str  # utf-8, gb18030 or xlsx
    columns: dict[str, int] = field(default_factory=dict)  # canonical column → index, set by map_columns
    ignored: list[str] = field(default_factory=list)

    def cells(self, row: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
        """The cells of the named canonical columns that the file has."""
        columns, width = self.columns, len(row)
        return {n: (row[columns[n]] if columns[n] < width else None) for n in names if n in columns}

    def positions(self, names: Sequence[str]) -> list[tuple[str, int]]:
        """(name, index) of the named canonical columns that the file has, for `cells_at`."""
        return [(n, self.columns[n]) for n in names if n in self.columns]

    @staticmethod
    def cells_at(row: Sequence[Any], positions: Sequence[tuple[str, int]]) -> dict[str, Any]:
        """`cells` with the positions looked up once per file."""
        width = len(row)
        return {n: (row[i] if i < width else None) for n, i in positions}


def normalise_header(text: str) -> str:
    """A header as compared with the known names: no spaces, lower case, no unit in brackets."""
    text = re.sub(r"\s+", "", str(text or "")).lower().lstrip("\ufeff")
    return _UNIT.sub("", text)


def map_columns(table: Table, aliases: Mapping[str, Sequence[str]], required: Sequence[str]) -> None:
    """Find each canonical column among the headers; unknown headers are listed as ignored."""
    lookup = {normalise_header(a): name for name, names in aliases.items() for a in (name, *names)}
    seen: dict[str, str] = {}
    for index, header in enumerate(table.headers):
        name = lookup.get(normalise_header(header))
        if name is None:
            if header:
                table.ignored.append(header)
            continue
        if name in seen:
            raise ImportFileError(f"“{header}”与“{seen[name]}”是同一列，请只保留一个",
                                  f"Columns “{header}” and “{seen[name]}” mean the same; keep one")
        seen[name] = header
        table.columns[name] = index
    missing = [n for n in required if n not in table.columns]
    if missing:
        names = "、".join(f"{n}（{aliases[n][0]}）" for n in missing)
        raise ImportFileError(f"缺少必需的列：{names}", f"Required columns missing: {', '.join(missing)}")


def read_table(data: bytes, filename: str) -> Table:
    """Parse CSV (UTF-8 or GB18030, as Excel saves it in China) or XLSX."""
    if not data.strip():
        raise ImportFileError("文件是空的", "The file is empty")
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 .csv",
                              "Old Excel (.xls) files are not supported; save as .xlsx or .csv")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileError("文件扩展名是 .xlsx，但内容不是 Excel 文件",
                              "The file is named .xlsx but is not an Excel file")
    return _read_csv(data)


def _decode(data: bytes) -> tuple[str, str]:
    for encoding, label in (("utf-8-sig", "utf-8"), ("gb18030", "gb18030")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # decodes, but holds control characters: a binary file, not a CSV
        return text, label
    raise ImportFileError("无法识别文件编码或文件不是文本：请在 Excel 中另存为“CSV UTF-8”或 .xlsx",
                          "The file's encoding is not recognised or it is not text: "
                          "save it from Excel as “CSV UTF-8” or .xlsx")


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[Any]]] = []
    try:
        for number, values in enumerate(reader, start=1):
            if len(values) > MAX_COLUMNS and "".join(values[MAX_COLUMNS:]).strip():
                raise ImportFileError(f"第 {reader.line_num} 行超过 {MAX_COLUMNS} 列",
                                      f"Line {reader.line_num} has more than {MAX_COLUMNS} columns")
            if any(len(v) > MAX_CELL_CHARS for v in values):
                raise ImportFileError(f"第 {reader.line_num} 行有超过 {MAX_CELL_CHARS} 个字符的单元格",
                                      f"Line {reader.line_num} has a cell longer than {MAX_CELL_CHARS} characters")
            if _blank_text(values):
                continue
            records.append((number, values[:MAX_COLUMNS]))
            if len(records) > MAX_ROWS + 1:  # the header and MAX_ROWS data rows
                raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行，请拆分文件",
                                      f"At most {MAX_ROWS} rows per file; split it")
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误（第 {reader.line_num} 行）：{exc}",
                              f"Malformed CSV at line {reader.line_num}: {exc}") from exc
    return _table(records, encoding)


def _read_xlsx(data: bytes) -> Table:
    """The first sheet, after the archive passed `check_archive`; rows streamed, the declared size ignored."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xlsx.check_archive(archive, len(data))
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except xlsx.TooLarge as exc:
        raise ImportFileError(exc.message, exc.message_en) from exc
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise _damaged() from exc
    try:
        records = list(xlsx.read_rows(workbook.worksheets[0], MAX_ROWS, MAX_COLUMNS))
    except xlsx.TooLarge as exc:
        raise ImportFileError(exc.message, exc.message_en) from exc
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, IndexError) as exc:
        raise _damaged() from exc
    finally:
        workbook.close()
    return _table(records, "xlsx")


def _damaged() -> ImportFileError:
    return ImportFileError("无法读取该 Excel 文件，文件可能已损坏", "The Excel file cannot be read; it may be damaged")


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _blank_text(values: list[str]) -> bool:
    """`_blank` for a CSV row (only strings): blank when its cells joined are only white space."""
    if values and values[0] and not values[0].isspace():
        return False  # most rows start with a student number
    return not "".join(values).strip()


def _table(records: list[tuple[int, list[Any]]], encoding: str) -> Table:
    """Header and data rows from (row number, values), blank rows dropped (their numbers stay)."""
    blank = _blank_text if encoding != "xlsx" else _blank
    numbered = [(n, r) for n, r in records if not blank(r)]
    if not numbered:
        raise ImportFileError("文件中没有任何内容", "The file has no content")
    header = numbered[0][1]
    rows = numbered[1:]
    if not rows:
        raise ImportFileError("文件只有表头，没有数据行", "The file has a header but no data rows")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行，请拆分文件", f"At most {MAX_ROWS} rows per file; split it")
    headers = ["" if h is None else str(h).strip().lstrip("\ufeff") for h in header]
    return Table(headers=headers, rows=rows, encoding=encoding)
