"""department credentials (signing keys of departmental systems)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:36:03.077647
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('department_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', server.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_credentials')),
    sa.UniqueConstraint('key_id', name=op.f('uq_department_credentials_key_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('department_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_credentials_department'), ['department'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('department_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_credentials_department'))

    op.drop_table('department_credentials')
