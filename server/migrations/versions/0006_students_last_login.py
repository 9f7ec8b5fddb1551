"""students.last_login_at: when a student last signed in on a browser (the dashboard's "never logged in")

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 17:40:58.181413
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', server.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
