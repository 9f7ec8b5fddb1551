"""utf8mb4 everywhere on MySQL/MariaDB: the database's default and every table, so 王𪚥 fits

A database created with `CHARACTER SET utf8mb3` (still a common DBA default for "utf8") used to get utf8mb3
tables from the migrations, and a name with a character outside the BMP failed with error 1366. Tables now
declare utf8mb4 themselves (0001–0005 and every model, server/db.py); this revision converts an existing
install: it sets the database's default (so tables a DBA adds later are utf8mb4 too) and converts each table
that is not utf8mb4 yet, data included (utf8mb3 text is a subset of utf8mb4, nothing is lost).

On a large install the conversion copies each converted table: run it in a maintenance window, after a backup
(docs/OPERATIONS.md §2). Tables already in utf8mb4, whatever their collation, are left alone; on MariaDB a
converted table's JSON columns take the table's collation (utf8mb4_unicode_ci rather than utf8mb4_bin), which
changes nothing Lixiao does with them. SQLite stores Unicode anyway: nothing to do there. There is no way
back: converting to utf8mb3 would destroy the characters this exists for.

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHARSET, COLLATION = "utf8mb4", "utf8mb4_unicode_ci"

# Base tables of this database that are not utf8mb4, or have a text column that is not.
_TO_CONVERT = sa.text("""
SELECT t.TABLE_NAME FROM information_schema.TABLES t
 WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
   AND (t.TABLE_COLLATION NOT LIKE 'utf8mb4\\_%'
        OR EXISTS (SELECT 1 FROM information_schema.COLUMNS c
                    WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
                      AND c.CHARACTER_SET_NAME IS NOT NULL AND c.CHARACTER_SET_NAME <> 'utf8mb4'))
 ORDER BY t.TABLE_NAME
""")


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        return
    quote = bind.dialect.identifier_preparer.quote
    database = bind.execute(sa.text("SELECT DATABASE()")).scalar_one()
    op.execute(f"ALTER DATABASE {quote(database)} CHARACTER SET {CHARSET} COLLATE {COLLATION}")
    for table in bind.execute(_TO_CONVERT).scalars().all():
        op.execute(f"ALTER TABLE {quote(table)} CONVERT TO CHARACTER SET {CHARSET} COLLATE {COLLATION}")


def downgrade() -> None:
    """Downgrade schema: nothing (see the module docstring)."""
