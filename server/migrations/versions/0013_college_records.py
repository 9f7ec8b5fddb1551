"""college_records: the college sign-off item (server/items/college.py), a table whether the item is on or off

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('college_records',
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owed', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('signed_by', sa.String(length=64), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('read_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_college_records_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_college_records')),
    sa.UniqueConstraint('student_id', name=op.f('uq_college_records_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('college_records')
