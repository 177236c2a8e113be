"""audit events are inserted unsealed and chained by a sealer in batches, with checkpoints

The chain as it stands is carried over untouched: every existing event keeps its seq, prev_hash
and hash, and one checkpoint records its head. Only new events arrive unsealed.

Revision ID: e5a1c0d2b7f4
Revises: 0f1e385626d0
Create Date: 2026-12-07 18:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

import cplan.models.base
from cplan.models import append_only
from cplan.models.audit import install_triggers

# revision identifiers, used by Alembic.
revision = "e5a1c0d2b7f4"
down_revision = "0f1e385626d0"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    append_only.drop(bind, "audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_index(
            "ix_audit_events_unsealed",
            ["id"],
            unique=False,
            sqlite_where=sa.text("seq IS NULL"),
            postgresql_where=sa.text("seq IS NULL"),
        )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sealed_at", cplan.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("last_seq", name=op.f("uq_audit_checkpoints_last_seq")),
    )
    # The existing chain, as one checkpoint.
    head = bind.execute(
        sa.text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
    ).first()
    if head is not None:
        bind.execute(
            sa.text(
                "INSERT INTO audit_checkpoints (sealed_at, first_seq, last_seq, head_hash) "
                "VALUES (:now, 1, :seq, :hash)"
            ),
            {"now": cplan.models.base.utcnow(), "seq": head.seq, "hash": head.hash},
        )
    # A refusal burst names its event by id: an event has no seq until it is sealed.
    with op.batch_alter_table("refusal_bursts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.BigInteger(), nullable=True))
    bind.execute(
        sa.text(
            "UPDATE refusal_bursts SET event_id = (SELECT id FROM audit_events "
            "WHERE audit_events.seq = refusal_bursts.event_seq)"
        )
    )
    bind.execute(sa.text("UPDATE refusal_bursts SET event_id = 0 WHERE event_id IS NULL"))
    with op.batch_alter_table("refusal_bursts", schema=None) as batch_op:
        batch_op.drop_index("ix_refusal_bursts_event_seq")
        batch_op.drop_column("event_seq")
        batch_op.alter_column("event_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_refusal_bursts_event_id", ["event_id"], unique=False)
    install_triggers(bind)


def downgrade():
    from cplan.services.audit_sealer import _seal_batch

    bind = op.get_bind()
    # The old schema wants every event chained: seal what is not yet, as the sealer would.
    while _seal_batch(bind, 1000)[0]:
        pass
    append_only.drop(bind, "audit_events")
    append_only.drop(bind, "audit_checkpoints")
    with op.batch_alter_table("refusal_bursts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_seq", sa.BigInteger(), nullable=True))
    bind.execute(
        sa.text(
            "UPDATE refusal_bursts SET event_seq = (SELECT seq FROM audit_events "
            "WHERE audit_events.id = refusal_bursts.event_id)"
        )
    )
    bind.execute(sa.text("UPDATE refusal_bursts SET event_seq = 0 WHERE event_seq IS NULL"))
    with op.batch_alter_table("refusal_bursts", schema=None) as batch_op:
        batch_op.drop_index("ix_refusal_bursts_event_id")
        batch_op.drop_column("event_id")
        batch_op.alter_column("event_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_refusal_bursts_event_seq", ["event_seq"], unique=False)
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_audit_events_unsealed",
            sqlite_where=sa.text("seq IS NULL"),
            postgresql_where=sa.text("seq IS NULL"),
        )
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    append_only.install(bind, "audit_events")
