"""svc_service_account_followers: who follows the service account, and mini-program unionids (server/messaging/followers.py)

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = '0021'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('service_account_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('unionid', sa.String(length=64), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('following', sa.Boolean(), nullable=False),
    sa.Column('linked_via', sa.String(length=16), nullable=True),
    sa.Column('event_at', server.db.UTCDateTime(), nullable=True),
    sa.Column('updated_at', server.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                            name=op.f('fk_service_account_followers_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_account_followers')),
    sa.UniqueConstraint('openid', name=op.f('uq_service_account_followers_openid')),
    sa.UniqueConstraint('student_id', name=op.f('uq_service_account_followers_student_id')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_index(op.f('ix_service_account_followers_unionid'), 'service_account_followers', ['unionid'])
    op.create_table('wechat_unionids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('unionid', sa.String(length=64), nullable=False),
    sa.Column('seen_at', server.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_unionids')),
    sa.UniqueConstraint('openid', name=op.f('uq_wechat_unionids_openid')),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci'
    )
    op.create_index(op.f('ix_wechat_unionids_unionid'), 'wechat_unionids', ['unionid'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_wechat_unionids_unionid'), table_name='wechat_unionids')
    op.drop_table('wechat_unionids')
    op.drop_index(op.f('ix_service_account_followers_unionid'), table_name='service_account_followers')
    op.drop_table('service_account_followers')
