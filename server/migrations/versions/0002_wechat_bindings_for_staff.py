"""wechat bindings for staff: a binding names a student or a staff member (counter mode), never both

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:38:04.675877
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add staff_id (unique), let student_id be empty, and require exactly one of them."""
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.alter_column('student_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_wechat_bindings_staff_id'), ['staff_id'])
        batch_op.create_foreign_key(batch_op.f('fk_wechat_bindings_staff_id_staff'), 'staff', ['staff_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_wechat_bindings_one_person'),
                                         '(student_id IS NULL) <> (staff_id IS NULL)')


def downgrade() -> None:
    """Staff bindings cannot survive the old schema: they are dropped."""
    op.execute("DELETE FROM wechat_bindings WHERE staff_id IS NOT NULL")
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_wechat_bindings_one_person'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_wechat_bindings_staff_id_staff'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_wechat_bindings_staff_id'), type_='unique')
        batch_op.alter_column('student_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('staff_id')
