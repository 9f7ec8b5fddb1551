"""certificates, scans and hand-overs (QR certificate and the counter)

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-28 17:34:32.907344
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('key_id', sa.String(length=8), nullable=False),
    sa.Column('issued_at', server.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_certificates_application_id_applications')),
    sa.ForeignKeyConstraint(['revoked_by'], ['staff.id'], name=op.f('fk_certificates_revoked_by_staff')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_certificates_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('application_id', name=op.f('uq_certificates_application_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_certificates_serial')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_student_id'), ['student_id'], unique=False)

    op.create_table('certificate_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('text_prefix', sa.String(length=24), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('at', server.db.UTCDateTime(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_certificate_scans_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_certificate_scans_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_scans')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('certificate_scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_scans_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_scans_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_scans_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_scans_text_sha256'), ['text_sha256'], unique=False)

    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_handovers_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_handovers_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers')),
    sa.UniqueConstraint('certificate_id', 'item', name=op.f('uq_handovers_certificate_id_item')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_staff_id'), ['staff_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_staff_id'))

    op.drop_table('handovers')
    with op.batch_alter_table('certificate_scans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_scans_text_sha256'))
        batch_op.drop_index(batch_op.f('ix_certificate_scans_staff_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_scans_certificate_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_scans_at'))

    op.drop_table('certificate_scans')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_student_id'))

    op.drop_table('certificates')
