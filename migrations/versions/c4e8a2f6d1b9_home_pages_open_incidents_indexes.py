"""Open incidents indexed by severity (statewide and per district) and those still waiting for a
first call or a verdict, partial indexes a closed incident leaves; timeline entries indexed by
the unit an escalation is addressed to. The home pages count and sort what is open from these
instead of reading every incident.

Revision ID: c4e8a2f6d1b9
Revises: 89043243b2c9
"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2f6d1b9"
down_revision = "89043243b2c9"
branch_labels = None
depends_on = None

OPEN = "status <> 'closed'"
AWAITING = "status <> 'closed' AND (first_call_at IS NULL OR verdict_at IS NULL)"


def upgrade():
    for name, columns, where in (
        ("ix_incidents_open_severity", ["severity", "reported_at"], OPEN),
        ("ix_incidents_open_district", ["district_id", "severity", "reported_at"], OPEN),
        (
            "ix_incidents_awaiting",
            ["district_id", "reported_at", "first_call_at", "verdict_at"],
            AWAITING,
        ),
    ):
        op.create_index(
            name,
            "incidents",
            columns,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    op.create_index(
        "ix_timeline_entries_escalated_to", "timeline_entries", ["escalated_to_unit_id", "at"]
    )


def downgrade():
    op.drop_index("ix_timeline_entries_escalated_to", table_name="timeline_entries")
    for name in (
        "ix_incidents_awaiting",
        "ix_incidents_open_district",
        "ix_incidents_open_severity",
    ):
        op.drop_index(name, table_name="incidents")
