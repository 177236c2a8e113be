"""Drives larger than a district are opened by the worker: why its last attempt failed.

The drive's state gains "opening" and "failed" (a plain string column: no schema change).

Revision ID: c4e8a2f7d1b9
Revises: b7c3d9e1f6a2
"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2f7d1b9"
down_revision = "b7c3d9e1f6a2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("verification_drives") as batch_op:
        batch_op.add_column(sa.Column("open_failure", sa.Text(), nullable=True))


def downgrade():
    # Drives the worker never opened have no tasks: they go with the column.
    op.execute("DELETE FROM verification_drives WHERE state IN ('opening', 'failed')")
    with op.batch_alter_table("verification_drives") as batch_op:
        batch_op.drop_column("open_failure")
