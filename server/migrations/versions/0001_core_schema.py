"""core schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:24:46.046429
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', server.db.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity', sa.String(length=80), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_entity'), ['entity'], unique=False)

    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('opens_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('closes_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('closed_early_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    sa.UniqueConstraint('name', name=op.f('uq_batches_name')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=16), nullable=True),
    sa.Column('college', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_username')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('students',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_no', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('college', sa.String(length=100), nullable=False),
    sa.Column('major', sa.String(length=100), nullable=False),
    sa.Column('degree_level', sa.String(length=16), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('expected_graduation', sa.Date(), nullable=False),
    sa.Column('lived_on_campus', sa.Boolean(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_students_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_students')),
    sa.UniqueConstraint('student_no', name=op.f('uq_students_student_no')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_students_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_students_college'), ['college'], unique=False)

    op.create_table('apartment_records',
    sa.Column('building', sa.String(length=64), nullable=True),
    sa.Column('move_out_date', sa.Date(), nullable=True),
    sa.Column('move_out_handler', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('read_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_apartment_records_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apartment_records')),
    sa.UniqueConstraint('student_id', name=op.f('uq_apartment_records_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('api_sessions',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', server.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_api_sessions_staff_id_staff')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_api_sessions_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_sessions')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('api_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_sessions_openid'), ['openid'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_sessions_student_id'), ['student_id'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_applications_batch_id_batches')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_applications_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('student_id', 'batch_id', name=op.f('uq_applications_student_id_batch_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_batch_id'), ['batch_id'], unique=False)

    op.create_table('archives_records',
    sa.Column('thesis_status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('read_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_archives_records_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archives_records')),
    sa.UniqueConstraint('student_id', name=op.f('uq_archives_records_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('finance_records',
    sa.Column('arrears_cents', sa.Integer(), nullable=False),
    sa.Column('fee_items', sa.JSON(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('read_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_finance_records_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_records')),
    sa.UniqueConstraint('student_id', name=op.f('uq_finance_records_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('item_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_item_states_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_states')),
    sa.UniqueConstraint('student_id', 'item', name=op.f('uq_item_states_student_id_item')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('item_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_states_status'), ['status'], unique=False)

    op.create_table('library_records',
    sa.Column('owed_books', sa.Integer(), nullable=False),
    sa.Column('owed_fees_cents', sa.Integer(), nullable=False),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.Column('card_status', sa.String(length=16), nullable=False),
    sa.Column('thesis_status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('read_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_library_records_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_records')),
    sa.UniqueConstraint('student_id', name=op.f('uq_library_records_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_table('transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=60), nullable=False),
    sa.Column('at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_transitions_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transitions')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transitions_student_id'), ['student_id'], unique=False)

    op.create_table('wechat_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('bound_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_wechat_bindings_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_bindings')),
    sa.UniqueConstraint('openid', name=op.f('uq_wechat_bindings_openid')),
    sa.UniqueConstraint('student_id', name=op.f('uq_wechat_bindings_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('wechat_bindings')
    with op.batch_alter_table('transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transitions_student_id'))

    op.drop_table('transitions')
    op.drop_table('library_records')
    with op.batch_alter_table('item_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_states_status'))

    op.drop_table('item_states')
    op.drop_table('finance_records')
    op.drop_table('archives_records')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_batch_id'))

    op.drop_table('applications')
    with op.batch_alter_table('api_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_sessions_student_id'))
        batch_op.drop_index(batch_op.f('ix_api_sessions_openid'))

    op.drop_table('api_sessions')
    op.drop_table('apartment_records')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_students_college'))
        batch_op.drop_index(batch_op.f('ix_students_batch_id'))

    op.drop_table('students')
    op.drop_table('staff')
    op.drop_table('batches')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_entity'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
