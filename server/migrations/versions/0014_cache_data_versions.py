"""cache_data_versions: students.data_version, batches.data_version and the data_epoch row (server/clearance/versions.py)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('students') as batch:
        batch.add_column(sa.Column('data_version', sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('batches') as batch:
        batch.add_column(sa.Column('data_version', sa.BigInteger(), server_default='0', nullable=False))
    epoch = op.create_table('data_epoch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_epoch')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    # Random, so two databases sharing one Redis (or one database restored) never share an epoch.
    op.bulk_insert(epoch, [{'id': 1, 'epoch': secrets.token_hex(8)}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('data_epoch')
    with op.batch_alter_table('batches') as batch:
        batch.drop_column('data_version')
    with op.batch_alter_table('students') as batch:
        batch.drop_column('data_version')
