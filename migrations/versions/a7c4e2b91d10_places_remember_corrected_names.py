"""places remember names corrected by hand, so a re-import keeps them

Revision ID: a7c4e2b91d10
Revises: 8f3a61c2d4e7
Create Date: 2026-12-07 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c4e2b91d10'
down_revision = '8f3a61c2d4e7'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch rebuild of places on SQLite would break the contact-count
    # triggers, which name the table.
    op.add_column('places', sa.Column('name_corrected', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    op.drop_column('places', 'name_corrected')
