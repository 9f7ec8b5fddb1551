"""The first sheet of an XLSX upload, read in memory bounded by its real cells, or refused with a reason.

An XLSX is a zip of XML parts, so a small upload can stand for a great deal of work (issue 16.2):
- a `<dimension ref="A1:XFD10001"/>` makes openpyxl pad every row to 16,384 cells (+1.2 GB for 1.8 KiB);
- one shared string, or any part that openpyxl loads whole (properties, styles), can unpack to a gigabyte.
`check_archive` therefore looks at every part before openpyxl parses anything, in constant memory (zlib and
bytes scanning, 1 MiB at a time); then `read_rows` streams the sheet with the declared dimension ignored.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import Any

MiB = 1024 * 1024
MAX_PARTS = 1_000
MAX_UNPACKED = 256 * MiB  # the whole archive; 200,000 rows × 6 columns of inline text unpack to ~96 MiB
MAX_SHEET_PART = MAX_UNPACKED  # a worksheet is streamed, so only the total bounds it
MAX_SHARED_STRINGS = 16 * MiB  # loaded whole: ~900k tiny strings at most, ~55 MiB of Python strings
MAX_OTHER_PART = 4 * MiB  # styles, properties, workbook, relationships: loaded whole as XML trees
MAX_RATIO = 100  # a part over 1 MiB unpacking to more than 100× its packed size is a zip bomb
RATIO_FLOOR = MiB
MAX_CELL_CHARS = 2_000  # import fields are at most a few hundred characters
MAX_TEXT_BYTES = MAX_CELL_CHARS * 8  # a run of XML without markup: UTF-8 and entities take up to 8 bytes/char
EXCEL_MAX_ROW = 1_048_576
CHUNK = MiB

_SHEET = re.compile(r"xl/worksheets/sheet\d+\.xml")
_LONG_TEXT = re.compile(rb"(?<![^<])[^<]{%d}" % (MAX_TEXT_BYTES + 1))  # a run starts after "<": linear
_TAG = re.compile(rb"<[^<>]*>")
_WORKSHEET_TYPE = re.compile(rb'/worksheet"|worksheet\+xml"')


class TooLarge(Exception):
    """The archive is beyond what an import may cost; the message says which limit, in both languages."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


def _cap(name: str) -> int:
    if _SHEET.fullmatch(name):
        return MAX_SHEET_PART
    if name == "xl/sharedStrings.xml":
        return MAX_SHARED_STRINGS
    return MAX_OTHER_PART


def check_archive(archive: zipfile.ZipFile, packed: int) -> None:
    """Refuse a zip bomb, oversized parts, a DTD or overlong text before any XML is parsed.

    `file_size` in the directory can be trusted as a ceiling: zipfile stops reading a part there (and a part
    cut short fails its CRC), so a part never yields more than it declares.
    """
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise _refused(f"包含 {len(parts)} 个部件（上限 {MAX_PARTS}）",
                       f"it has {len(parts)} parts (limit {MAX_PARTS})")
    if sum(p.compress_size for p in parts) > packed:
        raise zipfile.BadZipFile("parts overlap")
    total = 0
    for part in parts:
        cap, size = _cap(part.filename), part.file_size
        total += size
        if size > cap or total > MAX_UNPACKED:
            raise _refused(f"解压后超过 {min(cap, MAX_UNPACKED) // MiB} MiB",
                           f"it unpacks to more than {min(cap, MAX_UNPACKED) // MiB} MiB")
        if size > RATIO_FLOOR and size > MAX_RATIO * max(part.compress_size, 1):
            raise _refused(f"压缩比超过 {MAX_RATIO} 倍（疑似压缩炸弹）",
                           f"it unpacks to more than {MAX_RATIO} times its size (a zip bomb)")
    small: list[bytes] = []
    for part in parts:
        if part.filename.endswith((".xml", ".rels")):
            _scan(archive, part)
        if part.filename.endswith(".rels") or part.filename == "[Content_Types].xml":
            small.append(archive.read(part))  # at most MAX_OTHER_PART each
    for part in parts:
        if part.file_size > MAX_OTHER_PART:
            _only_as_worksheet(part.filename, small)


def _scan(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Stream one XML part: no DTD (entities), no text run longer than any cell we accept."""
    run, tail = 0, b""
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK):
            if b"<!DOCTYPE" in tail + chunk[:16] or b"<!DOCTYPE" in chunk:
                raise _refused("含有 DTD 声明", "it declares a DTD")
            first = chunk.find(b"<")
            if first == -1:
                run += len(chunk)
            else:
                if run + first > MAX_TEXT_BYTES or _LONG_TEXT.search(chunk, first + 1):
                    raise _overlong()
                run = len(chunk) - chunk.rfind(b"<") - 1
            if run > MAX_TEXT_BYTES:
                raise _overlong()
            tail = chunk[-16:]


def _only_as_worksheet(name: str, small: list[bytes]) -> None:
    """A part big enough to need the worksheet allowance must be referred to only as a worksheet.

    openpyxl finds shared strings by content type and the theme and properties by relationship, so a bomb
    named like a sheet but declared as one of those would otherwise be loaded whole.
    """
    target = name.removeprefix("xl/").encode()
    for document in small:
        for tag in _TAG.findall(document):
            if target in tag and not _WORKSHEET_TYPE.search(tag.replace(target, b"")):
                raise _refused("工作表部件被声明为其他类型", "a worksheet part is declared as something else")


def read_rows(sheet: Any, max_rows: int, max_columns: int) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of each row the sheet really has, ignoring its declared dimension.

    Without a dimension openpyxl yields `[]` for each missing row (so counting keeps Excel's row numbers)
    and pads a real row only to its own last cell. Rows beyond `max_rows` are not read at all.
    """
    sheet.reset_dimensions()
    seen = 0
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > EXCEL_MAX_ROW:
            raise _refused(f"行号超过 Excel 的上限 {EXCEL_MAX_ROW}", f"a row number is beyond Excel's {EXCEL_MAX_ROW}")
        if not values:
            continue
        row = list(values[:max_columns])
        if len(values) > max_columns and any(v is not None and v != "" for v in values[max_columns:]):
            raise _refused(f"第 {number} 行超过 {max_columns} 列", f"row {number} has more than {max_columns} columns")
        for column, value in enumerate(row, start=1):
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise _refused(f"第 {number} 行第 {column} 列超过 {MAX_CELL_CHARS} 个字符",
                               f"row {number}, column {column} is longer than {MAX_CELL_CHARS} characters")
        seen += 1
        if seen > max_rows + 1:  # the header and max_rows data rows, blank rows included
            raise _refused(f"超过 {max_rows} 行，请拆分文件", f"it has more than {max_rows} rows; split it")
        yield number, row


def _overlong() -> TooLarge:
    return _refused(f"含有超过 {MAX_CELL_CHARS} 个字符的内容", f"it holds text longer than {MAX_CELL_CHARS} characters")


def _refused(reason: str, reason_en: str) -> TooLarge:
    return TooLarge(f"该 Excel 文件超出导入上限，未做任何修改：{reason}",
                    f"The Excel file is beyond the import limits and nothing was changed: {reason_en}")
