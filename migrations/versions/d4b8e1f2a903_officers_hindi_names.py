"""officers have a Hindi name, shown on Hindi pages

Revision ID: d4b8e1f2a903
Revises: a7c4e2b91d10
Create Date: 2026-12-08 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4b8e1f2a903'
down_revision = 'a7c4e2b91d10'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch rebuild); existing officers get an empty Hindi name and keep
    # being shown by their registered name until an administrator adds one.
    op.add_column('officers', sa.Column('name_hi', sa.String(length=200), server_default=sa.text("''"), nullable=False))


def downgrade():
    op.drop_column('officers', 'name_hi')
