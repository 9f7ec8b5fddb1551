"""certificates.reissue_no/replaces_id: an administrator re-issues a revoked certificate, once (#17.7)

An application may now have several certificates (the original, then one per re-issue), so the unique key on
application_id becomes (application_id, reissue_no); replaces_id is unique, so a revoked certificate is
replaced at most once whatever the application code does.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | Sequence[str] | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('certificates') as batch:
        batch.add_column(sa.Column('reissue_no', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        # The new key first: on MySQL the application_id foreign key needs an index to stand on at every step.
        batch.create_unique_constraint(batch.f('uq_certificates_application_id_reissue_no'),
                                       ['application_id', 'reissue_no'])
        batch.drop_constraint(batch.f('uq_certificates_application_id'), type_='unique')
        batch.create_unique_constraint(batch.f('uq_certificates_replaces_id'), ['replaces_id'])
        batch.create_foreign_key(batch.f('fk_certificates_replaces_id_certificates'), 'certificates',
                                 ['replaces_id'], ['id'])


def downgrade() -> None:
    """Downgrade schema; refused by the database while any application has a re-issued certificate."""
    with op.batch_alter_table('certificates') as batch:
        batch.drop_constraint(batch.f('fk_certificates_replaces_id_certificates'), type_='foreignkey')
        batch.drop_constraint(batch.f('uq_certificates_replaces_id'), type_='unique')
        batch.create_unique_constraint(batch.f('uq_certificates_application_id'), ['application_id'])
        batch.drop_constraint(batch.f('uq_certificates_application_id_reissue_no'), type_='unique')
        batch.drop_column('replaces_id')
        batch.drop_column('reissue_no')
