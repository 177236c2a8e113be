"""places count their active contacts (kept by triggers on contacts), for the coverage pages

Revision ID: 5d0e7c41a9b2
Revises: b1719c2d7788
Create Date: 2026-11-29 09:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

from cplan.models import contact_counts

# revision identifiers, used by Alembic.
revision = '5d0e7c41a9b2'
down_revision = 'b1719c2d7788'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active_contacts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('active_confidential', sa.Integer(), server_default='0', nullable=False))
    connection = op.get_bind()
    contact_counts.install_triggers(connection)
    contact_counts.recount(connection)


def downgrade():
    contact_counts.drop_triggers(op.get_bind())
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.drop_column('active_confidential')
        batch_op.drop_column('active_contacts')
