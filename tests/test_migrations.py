"""The schema built by the Alembic migrations is exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cplan import create_app
from cplan.extensions import db
from cplan.services import audit
from tests.conftest import TEST_SECRET


@pytest.fixture
def migration_database_url(database_url, tmp_path):
    """An empty database of the same engine as the suite's, used only by this module."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    name = f"{url.database}_migrations"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_create_exactly_the_models_schema(migration_database_url):
    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": migration_database_url,
            "AUDIT_SEAL_AFTER_COMMIT": None,
        }
    )
    with app.app_context():
        try:
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "compare_server_default": True}
                )
                differences = compare_metadata(context, db.metadata)
            assert differences == []
            # The migration also makes the audit trail append-only.
            audit.record("test.migrated")
            db.session.commit()
            with pytest.raises(Exception, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text("DELETE FROM audit_events"))
            db.session.remove()
            downgrade(revision="base")
            with db.engine.connect() as connection:
                remaining = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
            assert remaining == set()
        finally:  # a failed comparison must not leave connections for a later test to find
            db.session.remove()
            db.engine.dispose()


def test_the_sealing_migration_carries_the_existing_chain_over_intact(
    migration_database_url, tmp_path
):
    from datetime import UTC, datetime

    from cplan.models.audit import GENESIS_HASH, event_hash
    from cplan.services import audit_sealer

    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": migration_database_url,
            "AUDIT_SEAL_AFTER_COMMIT": None,
            "AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        }
    )
    with app.app_context():
        upgrade(revision="abc1dcae572b")  # the chain as every append locked it
        prev_hash = GENESIS_HASH
        with db.engine.begin() as connection:
            for seq in (1, 2, 3):
                row = {
                    "seq": seq,
                    "occurred_at": datetime(2026, 1, seq, tzinfo=UTC),
                    "action": "roster.viewed",
                    "outcome": "success",
                    "officer_id": None,
                    "officer_pno": "",
                    "post_id": None,
                    "post_title": "",
                    "unit_path": None,
                    "target_type": "contacts",
                    "target_id": seq,
                    "detail": "{}",
                    "ip_address": "",
                    "prev_hash": prev_hash,
                }
                row["hash"] = prev_hash = event_hash(row)
                connection.execute(
                    text(
                        "INSERT INTO audit_events (seq, occurred_at, action, outcome, officer_id,"
                        " officer_pno, post_id, post_title, unit_path, target_type, target_id,"
                        " detail, ip_address, prev_hash, hash) VALUES (:seq, :occurred_at,"
                        " :action, :outcome, :officer_id, :officer_pno, :post_id, :post_title,"
                        " :unit_path, :target_type, :target_id, :detail, :ip_address,"
                        " :prev_hash, :hash)"
                    ),
                    row,
                )
        upgrade()
        result = audit.verify_chain()
        assert (result.ok, result.checked, result.last_hash) == (True, 3, prev_hash)
        event = audit.record("test.after_migration")
        db.session.commit()
        assert audit_sealer.seal().sealed == 1
        db.session.refresh(event)
        assert (event.seq, event.prev_hash) == (4, prev_hash)
        assert audit.verify_chain().checked == 4
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
