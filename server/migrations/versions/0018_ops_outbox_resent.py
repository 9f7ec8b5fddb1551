"""outbox.resent_at/resent_by: an administrator sent an unconfirmed (or refused) push again (admin push problems)

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema (the outbox table is utf8mb4 already, since 0011; new columns take its charset)."""
    op.add_column('outbox', sa.Column('resent_at', server.db.UTCDateTime(), nullable=True))
    op.add_column('outbox', sa.Column('resent_by', sa.String(length=80), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('resent_by')
        batch.drop_column('resent_at')
