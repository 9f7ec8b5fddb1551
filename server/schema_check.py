"""Is the MySQL/MariaDB schema able to store every Chinese name? utf8mb4 for the database default, every table
and every text column; anything else (utf8mb3, "utf8", latin1) fails on characters outside the BMP such as
王𪚥 with error 1366. Start-up in production and /readyz refuse such a schema (docs/OPERATIONS.md §2).
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# One statement: the database default, then the tables and text columns of this database that are not utf8mb4.
_CHARSETS = text("""
SELECT @@character_set_database,
  (SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME SEPARATOR ', ') FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_COLLATION NOT LIKE 'utf8mb4\\_%'),
  (SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, '.', COLUMN_NAME) ORDER BY TABLE_NAME, COLUMN_NAME SEPARATOR ', ')
     FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME <> 'utf8mb4')
""")


def charset_problems(connection: Connection) -> list[str]:
    """What in this database is not utf8mb4 (nothing on SQLite, whose text is always Unicode)."""
    if connection.dialect.name not in ("mysql", "mariadb"):
        return []
    database, tables, columns = connection.execute(_CHARSETS).one()
    problems = []
    if database != "utf8mb4":
        problems.append(f"the database's default character set is {database}, not utf8mb4")
    if tables:
        problems.append(f"tables not in utf8mb4: {tables}")
    if columns:
        problems.append(f"columns not in utf8mb4: {columns}")
    return problems


FIX = ("run `python -m server.cli migrate` (migration 0011 converts the database and its tables), "
       "or see docs/OPERATIONS.md §2")


def refuse_non_utf8mb4(engine: Engine) -> None:
    """At start-up in production: raise SettingsError naming what is not utf8mb4.

    A database that cannot be reached now is left to /readyz (it reports the charset as soon as it answers):
    refusing to start would turn a short outage at boot into a longer one.
    """
    from server.settings import SettingsError

    try:
        with engine.connect() as connection:
            problems = charset_problems(connection)
    except Exception as exc:  # unreachable or not migrated yet: /readyz says so
        log.warning("could not check the database's character sets at start-up: %s", type(exc).__name__)
        return
    if problems:
        raise SettingsError("refusing to start in production: the database cannot store every Chinese name "
                            "(王𪚥 would fail):\n  - " + "\n  - ".join(problems) + f"\n  {FIX}")
