"""Broadcasts: a time to send at (scheduled sending), cancelling before that, and the kind of
audience (chosen villages, the sensitive places of the active election, out-of-date contacts).

Revision ID: c4e7a2b9d1f3
Revises: c4e8a2f7d1b9
"""

import sqlalchemy as sa
from alembic import op

import cplan.models.base

revision = "c4e7a2b9d1f3"
down_revision = "c4e8a2f7d1b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(
            sa.Column("audience", sa.String(16), nullable=False, server_default="places")
        )
        batch.add_column(
            sa.Column("send_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("cancelled_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("cancelled_by_officer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_broadcasts_cancelled_by_officer_id_officers",
            "officers",
            ["cancelled_by_officer_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_constraint("fk_broadcasts_cancelled_by_officer_id_officers", type_="foreignkey")
        batch.drop_column("cancelled_by_officer_id")
        batch.drop_column("cancelled_at")
        batch.drop_column("send_at")
        batch.drop_column("audience")
