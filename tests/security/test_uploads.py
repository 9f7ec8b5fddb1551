"""Uploads are data, never code or paths: a hostile file and a hostile file name through the console import.

What the file says is only ever shown escaped inside our own page (never served back as the file, never as
markup), the file name is a label (never a path: nothing is written where it points), and a pending
import is found by a random token, not by anything the uploader chose.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import select

from server.audit import AuditEntry
from tests.departments.console_client import ConsoleClient
from tests.departments.test_console_operations import make_staff
from tests.factories import make_batch, make_student

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = '<script>alert("lixiao-upload")</script>'
HEADER = "学号,欠书,欠费,违章,借书证状态,论文提交状态\n"


def upload(client: ConsoleClient, name: str, data: bytes, content_type: str = "text/csv"):  # type: ignore[no-untyped-def]
    return client.post("/console/imports", {"kind": "library"}, page="/console/imports",
                       files={"file": (name, data, content_type)})


def assert_only_escaped(response) -> None:  # type: ignore[no-untyped-def]
    """The answer is our HTML page; anything from the file in it is escaped, and no script runs without a nonce."""
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert SCRIPT not in response.text and 'alert("lixiao-upload")' not in response.text
    for tag in re.findall(r"<script\b[^>]*>", response.text):
        assert "nonce=" in tag or "src=" in tag, tag
    assert response.headers.get("Content-Disposition") is None  # not the file handed back


def test_a_hostile_file_and_name_are_shown_escaped_and_written_nowhere(app, live, session):
    batch = make_batch(session)
    make_student(session, batch, student_no="UPX0000001")
    session.commit()
    client = ConsoleClient(live.url, app, staff=make_staff(session, "libx", "operator", department="library"))
    marker = f"lixiao-upload-{uuid.uuid4().hex}"
    target = Path(tempfile.gettempdir()) / f"{marker}.html"
    name = "../../../../../.." + str(target)
    rows = (HEADER + "UPX0000001,0,0,0,已注销,记录审核通过\n"
            f"{SCRIPT},0,0,0,已注销,记录审核通过\n"
            f"UPX0000001,{SCRIPT},0,0,已注销,记录审核通过\n")
    report = upload(client, name, rows.encode())
    assert report.status_code == 422, report.text[:500]  # rows rejected, nothing written
    assert_only_escaped(report)
    assert "&lt;script&gt;" in report.text  # it was shown, as text
    # The name pointed outside: nothing was written there, nor in the checkout.
    assert not target.exists()
    assert not list(ROOT.glob(f"**/{marker}*"))
    # The pending import is keyed by a random token; a path-like token finds nothing.
    token = re.search(r'action="/console/imports/([^/"]+)/apply"', report.text).group(1)  # type: ignore[union-attr]
    assert marker not in token and re.fullmatch(r"[A-Za-z0-9_-]{16,}", token)
    assert client.post("/console/imports/..%2F..%2Fetc%2Fpasswd/apply", page="/console/imports").status_code == 404
    applied = client.post(f"/console/imports/{token}/apply", page="/console/imports")
    assert applied.status_code == 200
    assert_only_escaped(applied)
    session.commit()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "import.library")).all()
    assert entries and all(marker in e.entity for e in entries)  # the name is kept as a label in the audit


def test_an_html_or_binary_file_is_refused_and_never_echoed(app, live, session):
    client = ConsoleClient(live.url, app, staff=make_staff(session, "liby", "operator", department="library"))
    page = f"<html><body>{SCRIPT}<img src=x onerror=alert(1)></body></html>".encode()
    for name, data, kind in (("evil.html", page, "text/html"), ("evil.csv", page, "text/csv"),
                             ("evil.xlsx", b"PK\x03\x04" + page, "application/octet-stream"),
                             ("evil.svg", b"<svg onload=alert(1)>" + page, "image/svg+xml")):
        response = upload(client, name, data, kind)
        assert response.status_code in (400, 422), (name, response.status_code)
        assert_only_escaped(response)
        assert "onerror=alert(1)" not in response.text and "<svg onload" not in response.text


def test_an_imported_formula_never_runs_in_a_downloaded_spreadsheet(app, live, session):
    """A roster whose cells look like spreadsheet formulas comes back out of every download as plain text."""
    import csv
    import io

    from openpyxl import load_workbook

    make_batch(session, name="公式批次")
    session.commit()
    admin = ConsoleClient(live.url, app, staff=make_staff(session, "adminf", "admin"))
    formula_name = '=HYPERLINK("http://evil.example/","点我")'
    formula_major = "+cmd|' /C calc'!A0"
    roster = ("学号,姓名,学院,专业,学位类别,预计毕业日期\n"
              f'FRM0000001,"{formula_name.replace(chr(34), chr(34) * 2)}",@SUM(1+1),{formula_major},硕士,2027-06-30\n')
    imported = admin.post("/console/imports", {"kind": "roster", "batch": "公式批次"}, page="/console/imports",
                          files={"file": ("roster.csv", roster.encode(), "text/csv")})
    assert imported.status_code == 200, imported.text[:500]
    assert_only_escaped(imported)

    def cells_of(text: str) -> list[str]:
        return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]

    downloads = {
        "console blocked list": cells_of(admin.get("/console/blocked/library.csv").content.decode("utf-8")),
        "students export (CSV)": cells_of(admin.get("/admin/exports/students.csv").content.decode("utf-8-sig")),
    }
    workbook = load_workbook(io.BytesIO(admin.get("/admin/exports/students.xlsx").content), read_only=True)
    downloads["students export (XLSX)"] = [c for row in workbook.active.iter_rows(values_only=True) for c in row
                                           if isinstance(c, str)]
    for where, cells in downloads.items():
        assert f"'{formula_name}" in cells and f"'{formula_major}" in cells and "'@SUM(1+1)" in cells, where
        assert not [c for c in cells if c.startswith(("=", "+", "@"))], where
