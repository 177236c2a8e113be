"""A station's WhatsApp groups and the reconciliations of their members with the roster.

Revision ID: 89043243b2c9
Revises: c4e7a2b9d1f3
Create Date: 2026-12-07 21:13:13.822360

"""

import sqlalchemy as sa
from alembic import op

import cplan.models.base

revision = "89043243b2c9"
down_revision = "c4e7a2b9d1f3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "whatsapp_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column(
            "unit_path",
            sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("admin_post_id", sa.Integer(), nullable=False),
        sa.Column("created_at", cplan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("retired_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["admin_post_id"], ["posts.id"], name=op.f("fk_whatsapp_groups_admin_post_id_posts")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["officers.id"],
            name=op.f("fk_whatsapp_groups_created_by_id_officers"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["units.id"], name=op.f("fk_whatsapp_groups_station_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_groups")),
    )
    with op.batch_alter_table("whatsapp_groups", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_groups_unit_path", ["unit_path"], unique=False)

    op.create_table(
        "whatsapp_reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column(
            "unit_path",
            sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("reconciled_at", cplan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("date_order", sa.String(length=8), nullable=False),
        sa.Column("chat_from", sa.String(length=10), nullable=False),
        sa.Column("chat_to", sa.String(length=10), nullable=False),
        sa.Column("roster_count", sa.Integer(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.Column("missing_count", sa.Integer(), nullable=False),
        sa.Column("not_on_roster_count", sa.Integer(), nullable=False),
        sa.Column("unmatched_count", sa.Integer(), nullable=False),
        sa.Column("missing_json", sa.Text(), nullable=False),
        sa.Column("not_on_roster_json", sa.Text(), nullable=False),
        sa.Column("unmatched_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["whatsapp_groups.id"],
            name=op.f("fk_whatsapp_reconciliations_group_id_whatsapp_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officers.id"],
            name=op.f("fk_whatsapp_reconciliations_officer_id_officers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_reconciliations")),
    )
    with op.batch_alter_table("whatsapp_reconciliations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_whatsapp_reconciliations_group", ["group_id", "reconciled_at"], unique=False
        )
        batch_op.create_index("ix_whatsapp_reconciliations_unit_path", ["unit_path"], unique=False)


def downgrade():
    with op.batch_alter_table("whatsapp_reconciliations", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_reconciliations_unit_path")
        batch_op.drop_index("ix_whatsapp_reconciliations_group")

    op.drop_table("whatsapp_reconciliations")
    with op.batch_alter_table("whatsapp_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_groups_unit_path")

    op.drop_table("whatsapp_groups")
