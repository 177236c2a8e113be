"""`flask cplan backup` and `flask cplan restore-check` (issue 21), on the suite's database engine.

Each test backs up a database of its own (a migrated schema with a few units and audit events),
restores the file into a scratch database and checks it; the tampered cases prove each check
fails loudly and that the scratch database is dropped whatever happens.
"""

import stat
import subprocess

import pytest
from flask_migrate import stamp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cplan import create_app
from cplan.extensions import db
from cplan.models import UnitKind
from cplan.services import audit, audit_sealer, geo
from tests.conftest import TEST_SECRET


@pytest.fixture
def source(database_url, tmp_path):
    """An app on a database of its own at the migrations' head, holding a few units and events."""
    url = make_url(database_url)
    admin = None
    if url.get_backend_name() == "sqlite":
        source_url = f"sqlite:///{tmp_path / 'source.sqlite'}"
    else:
        name = f"{url.database}_backup_source"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        source_url = url.set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": source_url,
            "SMS_BACKEND": "memory",
        }
    )
    app.instance_path = str(tmp_path)
    with app.app_context():
        db.create_all()
        stamp()
        state = geo.create_unit(UnitKind.STATE, "Uttar Pradesh", code="9")
        for zone_name in ("Meerut zone", "Agra zone"):
            zone = geo.create_unit(UnitKind.ZONE, zone_name, state)
            audit.record("geo.unit_created", target=zone, detail={"name": zone_name})
        db.session.commit()
        audit_sealer.seal()  # the chain a backup carries is the sealed one
        db.session.remove()
        yield app
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def scratch_name(database_url):
    return f"{make_url(database_url).database or 'x'}_restore_check".rsplit("/", 1)[-1]


def run(app, *args):
    return app.test_cli_runner().invoke(args=["cplan", *args])


def backup_of(app, folder):
    result = run(app, "backup", "--dir", str(folder))
    assert result.exit_code == 0, result.output
    (path,) = [p for p in folder.iterdir() if not p.name.endswith(".sha256")]
    return path


def restore_check(app, path, scratch_name):
    return run(app, "restore-check", str(path), "--scratch-database", scratch_name)


def scratch_databases(app, scratch_name):
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as connection:
        return connection.scalars(
            text("SELECT datname FROM pg_database WHERE datname = :n"), {"n": scratch_name}
        ).all()


def test_a_backup_restores_into_a_scratch_database_and_passes_every_check(
    source, tmp_path, scratch_name
):
    path = backup_of(source, tmp_path / "backups")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # personal data
    checked = subprocess.run(
        ["sha256sum", "-c", path.name + ".sha256"], cwd=path.parent, capture_output=True
    )
    assert checked.returncode == 0  # the usual tool reads our checksum file

    result = restore_check(source, path, scratch_name)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for expected in (
        "checksum: ok",
        "schema: matches the models",
        "audit chain: intact, 2 events",
        "  units: 3",
        "  audit_events: 2",
    ):
        assert expected in lines, result.output
    assert any(line.startswith("migrations: at head") for line in lines)
    assert lines[-1].startswith("restore-check passed")
    assert scratch_databases(source, scratch_name) == []  # dropped after


def test_a_file_changed_after_the_backup_is_refused_before_any_restore(
    source, tmp_path, scratch_name
):
    path = backup_of(source, tmp_path / "backups")
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(b"\x00garbage\x00")

    result = restore_check(source, path, scratch_name)

    assert result.exit_code == 1 and "checksum mismatch" in result.output
    assert "restored" not in result.output
    assert scratch_databases(source, scratch_name) == []


def test_a_backup_without_its_checksum_file_is_refused(source, tmp_path, scratch_name):
    path = backup_of(source, tmp_path / "backups")
    (path.parent / (path.name + ".sha256")).unlink()
    result = restore_check(source, path, scratch_name)
    assert result.exit_code == 1 and "no checksum file" in result.output


def test_a_file_that_is_no_backup_is_refused(source, tmp_path, scratch_name):
    from cplan.pipelines.backups import write_checksum

    path = tmp_path / "notes.txt"
    path.write_text("not a database")
    write_checksum(path)
    result = restore_check(source, path, scratch_name)
    assert result.exit_code == 1 and "neither a pg_dump" in result.output


def test_a_broken_audit_chain_in_the_backup_fails_the_check(source, tmp_path, scratch_name):
    from cplan.models.audit import drop_triggers, install_triggers

    with source.app_context(), db.engine.begin() as connection:
        # Tampering as someone with the database's own rights would, past the append-only rule.
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            drop_triggers(connection)
        connection.execute(text('UPDATE audit_events SET detail = \'{"name": "x"}\''))
        if connection.dialect.name == "sqlite":
            install_triggers(connection)
    path = backup_of(source, tmp_path / "backups")

    result = restore_check(source, path, scratch_name)

    assert result.exit_code == 1
    assert "audit chain: BROKEN at seq 1" in result.output
    assert "restore-check FAILED: audit chain" in result.output
    assert scratch_databases(source, scratch_name) == []


def test_a_backup_of_a_database_behind_the_migrations_fails_the_check(
    source, tmp_path, scratch_name
):
    with source.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'c3d91e7a5f20'"))
    path = backup_of(source, tmp_path / "backups")

    result = restore_check(source, path, scratch_name)

    assert result.exit_code == 1 and "migrations: NOT at head" in result.output
    assert "FAILED: migrations" in result.output


def test_an_older_backup_passes_though_the_trail_has_grown_and_been_signed_since(
    source, tmp_path, scratch_name
):
    path = backup_of(source, tmp_path / "backups")
    with source.app_context():
        audit.record("geo.unit_created", detail={"name": "after the backup"})
        db.session.commit()
        assert audit_sealer.seal().sealed == 1  # a newer checkpoint than the copy reaches
        db.session.remove()

    result = restore_check(source, path, scratch_name)

    assert result.exit_code == 0, result.output
    assert "audit chain: intact, 2 events" in result.output
