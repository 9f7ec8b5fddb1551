"""api_sessions hold browser sessions too (kind 'web'), and the device each session was started on

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('api_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='api', nullable=False))
        batch_op.add_column(sa.Column('device', sa.String(length=120), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('api_sessions', schema=None) as batch_op:
        batch_op.drop_column('device')
        batch_op.drop_column('kind')
