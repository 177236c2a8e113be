"""the personal-data breach register

Revision ID: 0a9838df51fe
Revises: afe47f97abe2
Create Date: 2026-12-07 18:17:37.364272

"""

import sqlalchemy as sa
from alembic import op

import cplan.models.base

# revision identifiers, used by Alembic.
revision = "0a9838df51fe"
down_revision = "afe47f97abe2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "breaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "unit_path",
            sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("found_at", cplan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data_affected", sa.Text(), nullable=False),
        sa.Column("people_affected", sa.Integer(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column(
            "cert_in_reported_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("board_told_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("people_told_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("board_report_at", cplan.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cplan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cplan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["officers.id"], name=op.f("fk_breaches_recorded_by_id_officers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_post_id"], ["posts.id"], name=op.f("fk_breaches_recorded_post_id_posts")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_breaches_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaches")),
    )
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_breaches_unit_path_found", ["unit_path", "found_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.drop_index("ix_breaches_unit_path_found")

    op.drop_table("breaches")
