"""Read a mariadb-dump/mysqldump SQL stream on stdin and print what it holds: one `table<TAB>rows` line per table.

Used by scripts/restore_mysql.sh to check a restored copy before it replaces anything. Exit 1 with a reason
when the dump is not whole: no "-- Dump completed" line at its end (a cut-off file still passes `gzip -t`),
rows for a table it never created, or a `USE`/`CREATE DATABASE` (the restore names the database itself).
Standard library only: it runs wherever the restore runs.
"""

from __future__ import annotations

import re
import sys

CREATE = re.compile(r"^CREATE TABLE `((?:[^`]|``)+)`")
INSERT = re.compile(r"^INSERT INTO `((?:[^`]|``)+)` (?:\([^)]*\) )?VALUES\s*")
# A quoted string with mysqldump's backslash escapes, or a parenthesis outside one.
TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|[()]", re.DOTALL)
NAMES_A_DATABASE = re.compile(r"^(?:USE |CREATE DATABASE )", re.IGNORECASE)


def count_tuples(values: str) -> int:
    """How many `(...)` rows an INSERT's VALUES part holds, ignoring parentheses inside strings."""
    depth = rows = 0
    for token in TOKEN.finditer(values):
        text = token.group()
        if text == "(":
            depth += 1
            rows += depth == 1
        elif text == ")":
            depth -= 1
    return rows


def inventory(lines: object) -> dict[str, int]:
    """Rows per table of a dump; raises ValueError when the dump is not whole."""
    tables: dict[str, int] = {}
    last = ""
    inserting = None  # the table whose INSERT statement continues on the next line (MariaDB 10.11 dumps a row a line)
    for line in lines:  # type: ignore[attr-defined]
        if not line.strip():
            continue
        last = line
        if inserting is not None:
            tables[inserting] += count_tuples(line)
        elif created := CREATE.match(line):
            tables[created.group(1).replace("``", "`")] = 0
        elif inserted := INSERT.match(line):
            inserting = inserted.group(1).replace("``", "`")
            if inserting not in tables:
                raise ValueError(f"rows for table {inserting} which the dump never created")
            tables[inserting] += count_tuples(line[inserted.end():])
        elif NAMES_A_DATABASE.match(line):
            raise ValueError("the dump names a database (USE/CREATE DATABASE); make it with scripts/backup_mysql.sh")
        # Strings hold no raw newline, so a row never spans lines and a line ending in ";" ends the statement.
        if inserting is not None and line.rstrip().endswith(";"):
            inserting = None
    if not last.startswith("-- Dump completed"):
        raise ValueError("no '-- Dump completed' line at the end: the dump was cut off")
    return tables


def main() -> int:
    """Print the inventory of stdin, or the reason it is not a whole dump."""
    stream = open(sys.stdin.fileno(), encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
    try:
        found = inventory(stream)
    except ValueError as problem:
        print(f"dump_inventory: {problem}", file=sys.stderr)
        return 1
    for name, rows in sorted(found.items()):
        print(f"{name}\t{rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
