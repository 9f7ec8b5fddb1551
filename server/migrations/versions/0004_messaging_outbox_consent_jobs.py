"""messaging: push consent, the outbox, periodic-job leases and WeCom recipients

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28 17:39:55.125005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', server.db.UTCDateTime(), nullable=True),
    sa.Column('last_started_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('last_finished_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('last_result', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', server.db.UTCDateTime(), nullable=True),
    sa.Column('sent_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('platform_msgid', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_outbox_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('student_id', 'event_key', name=op.f('uq_outbox_student_id_event_key')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_student_id'), ['student_id'], unique=False)

    op.create_table('subscription_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('updated_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_subscription_consents_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_consents')),
    sa.UniqueConstraint('student_id', 'template_key', name=op.f('uq_subscription_consents_student_id_template_key')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('wecom_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_wecom_recipients_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_recipients')),
    sa.UniqueConstraint('student_id', name=op.f('uq_wecom_recipients_student_id')),
    sa.UniqueConstraint('userid', name=op.f('uq_wecom_recipients_userid')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('wecom_recipients')
    op.drop_table('subscription_consents')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_student_id'))
        batch_op.drop_index('ix_outbox_status_next_attempt_at')

    op.drop_table('outbox')
    op.drop_table('job_runs')
