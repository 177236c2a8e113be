"""fresh sign-in on sessions, daily counts of exports with full numbers, the outbound SMS queue

Revision ID: abc1dcae572b
Revises: c3d91e7a5f20
Create Date: 2026-12-07 15:26:16.547864

"""
import sqlalchemy as sa
from alembic import op

import cplan.models.base

# revision identifiers, used by Alembic.
revision = 'abc1dcae572b'
down_revision = 'c3d91e7a5f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_number', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('slot_values', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', name='messagestate', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', cplan.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', cplan.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', cplan.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_outbound_messages_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages'))
    )
    op.create_index('ix_outbound_messages_state_created', 'outbound_messages', ['state', 'created_at'], unique=False)
    op.create_index('ix_outbound_messages_target', 'outbound_messages', ['target_type', 'target_id'], unique=False)

    op.create_table('daily_export_counts',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('exports', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_daily_export_counts_officer_id_officers')),
    sa.PrimaryKeyConstraint('officer_id', 'day', name=op.f('pk_daily_export_counts'))
    )
    # Sessions open at the upgrade have no confirmation time: their first sensitive action asks
    # for the password.
    op.add_column('sign_in_sessions', sa.Column('password_confirmed_at', cplan.models.base.UTCDateTime(timezone=True),
                                                nullable=True))
    op.add_column('sign_in_sessions', sa.Column('password_failures', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_column('password_failures')
        batch_op.drop_column('password_confirmed_at')
    op.drop_table('daily_export_counts')
    op.drop_index('ix_outbound_messages_target', table_name='outbound_messages')
    op.drop_index('ix_outbound_messages_state_created', table_name='outbound_messages')
    op.drop_table('outbound_messages')
