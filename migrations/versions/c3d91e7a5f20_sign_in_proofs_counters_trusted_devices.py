"""sign-in that cannot be replayed and lockouts a stranger cannot use (issue 14)

handset_proofs: a passed code step, consumed by one officer sign-in (compare-and-set).
sign_in_counters: failures and locks per number, per number and client, per post, per officer.
trusted_devices: browsers that signed in to a post before, which a stranger's lock spares.

cug_throttles keeps its failure columns for one release (servers still on the previous one
write them during the upgrade); nothing reads them any more.

Revision ID: c3d91e7a5f20
Revises: d4b8e61f0c27
Create Date: 2026-12-07 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from cplan.models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c3d91e7a5f20'
down_revision = 'd4b8e61f0c27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_counters',
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('locked_until', UTCDateTime(timezone=True), nullable=True),
        sa.Column('lock_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_counters')),
    )
    op.create_table(
        'trusted_devices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_signed_in_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('window_started_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('sends_in_window', sa.Integer(), nullable=False),
        sa.Column('last_sent_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_trusted_devices_post_id_posts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_devices')),
        sa.UniqueConstraint('token_hash', 'post_id', name='uq_trusted_devices_token_post'),
    )
    op.create_index(op.f('ix_trusted_devices_post_id'), 'trusted_devices', ['post_id'], unique=False)
    op.create_table(
        'handset_proofs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('challenge_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('cug_number', sa.String(length=16), nullable=False),
        sa.Column('totp_officer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('consumed_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['challenge_id'], ['otp_challenges.id'],
                                name=op.f('fk_handset_proofs_challenge_id_otp_challenges')),
        sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_handset_proofs_officer_id_officers')),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_handset_proofs_post_id_posts')),
        sa.ForeignKeyConstraint(['totp_officer_id'], ['officers.id'],
                                name=op.f('fk_handset_proofs_totp_officer_id_officers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handset_proofs')),
        sa.UniqueConstraint('challenge_id', name=op.f('uq_handset_proofs_challenge_id')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_handset_proofs_token_hash')),
    )
    op.create_index(op.f('ix_handset_proofs_post_id'), 'handset_proofs', ['post_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_handset_proofs_post_id'), table_name='handset_proofs')
    op.drop_table('handset_proofs')
    op.drop_index(op.f('ix_trusted_devices_post_id'), table_name='trusted_devices')
    op.drop_table('trusted_devices')
    op.drop_table('sign_in_counters')
