"""Contacts indexed by status, area and last verification: the home pages' count of out-of-date
contacts reads one index range instead of the area's contacts.

Revision ID: b7c3d9e1f6a2
Revises: e5a1c0d2b7f4
"""

from alembic import op

revision = "b7c3d9e1f6a2"
down_revision = "e5a1c0d2b7f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_contacts_status_unit_path_verified",
        "contacts",
        ["status", "unit_path", "last_verified_at", "confidential"],
    )


def downgrade():
    op.drop_index("ix_contacts_status_unit_path_verified", table_name="contacts")
