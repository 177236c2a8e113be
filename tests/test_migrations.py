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
