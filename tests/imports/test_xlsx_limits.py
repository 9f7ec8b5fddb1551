"""Hostile spreadsheets cost bounded memory and are refused with a reason before anything changes (#16.2).

Each file of the security review (docs: ../shared/reviews/2026-12-security-review.md, F2) is built here and read
in a fresh interpreter that reports its peak resident memory, so one test's allocations cannot hide another's.
"""

from __future__ import annotations

import io
import json
import subprocess  # nosec B404 - runs this interpreter on a file the test wrote
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from server.cli import cli
from server.imports import xlsx
from server.imports.reader import MAX_COLUMNS, ImportFileError, read_table
from tests.departments.console_client import ConsoleClient
from tests.departments.test_console_operations import make_staff

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
BOUND = 100 * MiB  # peak memory above the interpreter's own, whatever the file

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
TYPES = (f'<Types xmlns="{PKG}/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" '
         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" '
         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '{extra}</Types>')
SHARED_TYPE = ('<Override PartName="/xl/sharedStrings.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
ROOT_RELS = (f'<Relationships xmlns="{PKG}/relationships"><Relationship Id="rId1" '
             f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (f'<Relationships xmlns="{PKG}/relationships">'
                 f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>{{extra}}'
                 '</Relationships>')
SHARED_REL = f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>学号</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>欠书</t></is></c></row>')


def row(number: int, student_no: str) -> str:
    return (f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{student_no}</t></is></c>'
            f'<c r="B{number}"><v>0</v></c></row>')


def sheet(rows: str, dimension: str = "A1:B3") -> str:
    return f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'


def book(sheet_xml: str, shared: bytes | None = None, parts: dict[str, bytes] | None = None, types: str = "") -> bytes:
    """A minimal workbook, as Excel would need it, around the given sheet (and shared strings, and parts)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", TYPES.format(extra=(SHARED_TYPE if shared is not None else "") + types))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(extra=SHARED_REL if shared else ""))
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
        for name, data in (parts or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def shared_strings(*strings: bytes, rich: bool = False) -> bytes:
    start, end = (b"<si><r><t>", b"</t></r></si>") if rich else (b"<si><t>", b"</t></si>")
    return (f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
            + b"".join(start + s + end for s in strings) + b"</sst>")


def declared_dimension() -> bytes:
    """F2: 1.8 KiB declaring 16,384 columns × 2,001 rows (+250 MB when every row was padded to that width)."""
    return book(sheet(HEADER_ROW + row(2, "2099000010") + row(2001, "2099000011"), "A1:XFD2001"))


def huge_shared_string() -> bytes:
    """F2: one shared string of 128 MiB in 8 MiB runs (lxml refuses one text node over 10 MB), ~130 KiB packed."""
    text = b"</t></r><r><t>".join([b"A" * (8 * MiB)] * 16)
    cell = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>0</v></c></row>'
    return book(sheet(HEADER_ROW + cell), shared=shared_strings(text, rich=True))


def many_shared_strings() -> bytes:
    """F2: a million distinct small shared strings (8 s of CPU in the review)."""
    strings = [str(n).encode() for n in range(1_000_000)]
    cell = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>0</v></c></row>'
    return book(sheet(HEADER_ROW + cell), shared=shared_strings(*strings))


def zip_bomb() -> bytes:
    """A property part, which openpyxl parses whole, of 4 million empty elements (16 MiB) packed into ~20 KiB."""
    core = (b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
            + b"<a/>" * (4 * MiB) + b"</cp:coreProperties>")
    return book(sheet(HEADER_ROW + row(2, "2099000010")), parts={"docProps/core.xml": core})


# Runs in a fresh interpreter: warm up on a tiny workbook, then read the file and report the growth of the peak.
# The peak is the process's VmHWM: getrusage's ru_maxrss would start at the parent's size, carried over the exec.
PROBE = """
import json, re, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))  # a regression fails, not the machine
from server.imports.reader import ImportFileError, read_table

def peak():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s*(\\d+) kB", status.read()).group(1)) * 1024

read_table(open(sys.argv[2], "rb").read(), "warm.xlsx")
data = open(sys.argv[1], "rb").read()
before = peak()
try:
    table = read_table(data, "hostile.xlsx")
    answer = {"rows": [n for n, _ in table.rows]}
except ImportFileError as exc:
    answer = {"refused": exc.message, "refused_en": exc.message_en}
answer["grown"] = peak() - before
print(json.dumps(answer))
"""


def probe(tmp_path: Path, data: bytes) -> dict:
    hostile, warm = tmp_path / "hostile.xlsx", tmp_path / "warm.xlsx"
    hostile.write_bytes(data)
    warm.write_bytes(book(sheet(HEADER_ROW + row(2, "2099000010"))))
    done = subprocess.run([sys.executable, "-c", PROBE, str(hostile), str(warm)], cwd=ROOT,  # nosec B603
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("make", [declared_dimension, huge_shared_string, many_shared_strings, zip_bomb])
def test_a_hostile_spreadsheet_costs_bounded_memory(tmp_path, make):
    data = make()
    assert len(data) < 3 * MiB
    answer = probe(tmp_path, data)
    assert answer["grown"] < BOUND, f"{make.__name__}: +{answer['grown'] // MiB} MiB"
    if make is declared_dimension:
        assert answer["rows"] == [2, 2001]  # real rows, with the numbers the sheet shows
    else:
        assert "nothing was changed" in answer["refused_en"] and "未做任何修改" in answer["refused"]


def test_limits_are_said_in_both_languages():
    cases = [
        (book(sheet(HEADER_ROW + '<row r="2"><c r="BZ2"><v>1</v></c></row>')), "more than 64 columns"),
        (book(sheet(HEADER_ROW + row(2, "x" * (xlsx.MAX_CELL_CHARS + 1)))), "longer than 2000 characters"),
        (book(sheet(HEADER_ROW + row(2, "中" * 1_999))), None),  # under the limit, though 6 KB of UTF-8
        (book(sheet(HEADER_ROW + row(2_000_000, "2099000010"))), "beyond Excel's"),
        (book('<!DOCTYPE x [<!ENTITY a "aaaa">]>' + sheet(HEADER_ROW + row(2, "&a;"))), "declares a DTD"),
    ]
    for data, fragment in cases:
        if fragment is None:
            assert len(read_table(data, "f.xlsx").rows) == 1
            continue
        with pytest.raises(ImportFileError) as caught:
            read_table(data, "f.xlsx")
        assert fragment in caught.value.message_en and "未做任何修改" in caught.value.message, fragment


def test_a_big_part_must_be_a_worksheet():
    """A big part named like a sheet but declared as the shared strings would be loaded whole: refused."""
    padding = sheet("".join(row(n, f"20990{n:05d}") for n in range(2, 60_000))).encode()  # ~5 MiB
    assert len(padding) > xlsx.MAX_OTHER_PART
    as_sheet = book(sheet(HEADER_ROW + row(2, "2099000010")), parts={"xl/worksheets/sheet2.xml": padding})
    assert [n for n, _ in read_table(as_sheet, "f.xlsx").rows] == [2]
    declared = SHARED_TYPE.replace("sharedStrings.xml", "worksheets/sheet2.xml")
    as_strings = book(sheet(HEADER_ROW + row(2, "2099000010")), parts={"xl/worksheets/sheet2.xml": padding},
                      types=declared)
    with pytest.raises(ImportFileError, match="declared as something else"):
        read_table(as_strings, "f.xlsx")


def test_a_real_workbook_with_wide_blank_formatting_is_read():
    """Excel and WPS leave styled empty cells far to the right; only values beyond the cap refuse a file."""
    workbook = Workbook()
    ws = workbook.active
    ws.append(["学号", "欠书"])
    ws.append(["2099000010", 0])
    ws.cell(row=2, column=MAX_COLUMNS + 50).style = "Note"  # formatted, empty
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "f.xlsx")
    assert [n for n, _ in table.rows] == [2] and table.headers == ["学号", "欠书"]


def test_csv_has_the_same_column_and_cell_limits():
    wide = "学号,欠书" + ",x" * MAX_COLUMNS + "\nA,1\n"
    with pytest.raises(ImportFileError, match="more than 64 columns"):
        read_table(wide.encode(), "f.csv")
    with pytest.raises(ImportFileError, match="longer than 2000"):
        read_table(("学号,欠书\n" + "A" * 2_001 + ",1\n").encode(), "f.csv")
    trailing = "学号,欠书" + "," * (MAX_COLUMNS + 10) + "\nA,1\n"  # empty cells past the cap are dropped
    assert read_table(trailing.encode(), "f.csv").headers[:2] == ["学号", "欠书"]


def test_every_import_path_refuses_the_same_way(app, live, session, settings, tmp_path):
    """The console upload and the CLI both go through `read_table`: 400 / exit 1, the reason, nothing written."""
    data = book(sheet(HEADER_ROW + row(2, "2099000010")), parts={"docProps/core.xml": b" " * (5 * MiB)})
    client = ConsoleClient(live.url, app, staff=make_staff(session, "libz", "operator", department="library"))
    answer = client.post("/console/imports", {"kind": "library"}, page="/console/imports",
                         files={"file": ("bomb.xlsx", data, "application/octet-stream")})
    # The page speaks the viewer's language (Chinese unless they switched); the CLI prints both.
    assert answer.status_code == 400 and "未做任何修改" in answer.text
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    env = {"LIXIAO_DATABASE_URL": settings.database_url, "LIXIAO_REDIS_URL": settings.redis_url}
    result = CliRunner().invoke(cli, ["import", "library", str(path)], env=env)
    assert result.exit_code != 0 and "nothing was changed" in result.output
