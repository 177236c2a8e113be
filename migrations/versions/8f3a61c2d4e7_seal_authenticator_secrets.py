"""seal authenticator (TOTP) secrets at rest, under a key derived from the secret key

Revision ID: 8f3a61c2d4e7
Revises: 5d0e7c41a9b2
Create Date: 2026-11-29 10:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

from cplan.models.base import SEALED_PREFIX, seal, unseal

# revision identifiers, used by Alembic.
revision = '8f3a61c2d4e7'
down_revision = '5d0e7c41a9b2'
branch_labels = None
depends_on = None

officers = sa.table('officers', sa.column('id', sa.Integer), sa.column('totp_secret', sa.String))


def _rewrite(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(officers.c.id, officers.c.totp_secret).where(officers.c.totp_secret.is_not(None))
    ).all()
    for officer_id, stored in rows:
        connection.execute(officers.update().where(officers.c.id == officer_id)
                           .values(totp_secret=change(stored)))


def upgrade():
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
    # Needs the app's secret key: run through `flask db upgrade`, as every migration is.
    _rewrite(lambda stored: stored if stored.startswith(SEALED_PREFIX) else seal(stored))


def downgrade():
    _rewrite(lambda stored: unseal(stored) if stored.startswith(SEALED_PREFIX) else stored)
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
