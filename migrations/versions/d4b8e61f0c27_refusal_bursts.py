"""refusals on record URLs are counted per officer and endpoint between audit events

Revision ID: d4b8e61f0c27
Revises: d4b8e1f2a903
Create Date: 2026-12-09 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from cplan.models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'd4b8e61f0c27'
down_revision = 'd4b8e1f2a903'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'refusal_bursts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=64), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('event_seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refusal_bursts')),
        sa.UniqueConstraint('officer_id', 'endpoint', name='uq_refusal_bursts_officer_endpoint'),
    )
    op.create_index('ix_refusal_bursts_event_seq', 'refusal_bursts', ['event_seq'], unique=False)


def downgrade():
    op.drop_index('ix_refusal_bursts_event_seq', table_name='refusal_bursts')
    op.drop_table('refusal_bursts')
