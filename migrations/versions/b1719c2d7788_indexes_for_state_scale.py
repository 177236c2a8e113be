"""indexes for state scale: contacts by status and unit path; incidents awaiting review

Revision ID: b1719c2d7788
Revises: 33122d7fcf16
Create Date: 2026-11-29 07:25:43.335644

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b1719c2d7788'
down_revision = '33122d7fcf16'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_status_unit_path',
                              ['status', 'unit_path', 'category', 'confidential', 'place_id'], unique=False)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_reviewed_reported', ['reviewed_at', 'reported_at'], unique=False)


def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_reviewed_reported')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_status_unit_path')
