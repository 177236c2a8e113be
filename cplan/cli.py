"""Command-line interface: ``flask cplan ...`` (geography imports, demo data, audit checks)."""

import contextlib
import time
from pathlib import Path

import click
from flask.cli import AppGroup

cplan_cli = AppGroup("cplan", help="cplan administration commands.")
geo_cli = AppGroup(
    "geo", help="Import official geography (LGD districts, villages, police stations)."
)
cplan_cli.add_command(geo_cli)


# ---- geography imports and the demo ----------------------------------------------------------
# Each command is one transaction: the whole import is committed at the end, or, on any error,
# rolled back so that nothing of it is kept.


@contextlib.contextmanager
def _sealed_at_the_end():
    """A bulk load (the demo, the generator) seals the audit events it wrote once, at the end:
    not after its commits midway, where on SQLite the check would wait on the load's own lock."""
    from flask import current_app

    from cplan.services import audit_sealer

    seal_after_commit = current_app.config.get("AUDIT_SEAL_AFTER_COMMIT")
    current_app.config["AUDIT_SEAL_AFTER_COMMIT"] = None
    try:
        yield
        audit_sealer.seal()
    finally:
        current_app.config["AUDIT_SEAL_AFTER_COMMIT"] = seal_after_commit


def _in_one_transaction(work):
    """Run ``work``, commit once; on an import or domain error roll back and exit 1 with its
    message."""
    from cplan.data import MissingDataFile
    from cplan.extensions import db
    from cplan.pipelines.geo_import import GeoImportError
    from cplan.services.errors import DomainError

    try:
        result = work()
    except (GeoImportError, DomainError, MissingDataFile) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def _data_folder(option):
    """The reference data folder: ``--data-dir``, else ``CPLAN_DATA_DIR``, else cplan/data."""
    from flask import current_app

    from cplan.data import data_dir

    return data_dir(option or current_app.config.get("DATA_DIR"))


def _data_file(path, name, folder_option=None):
    return path or _data_folder(folder_option) / name


def _echo_report(report):
    for line in report.lines():
        click.echo(line)


_path_argument = click.argument(
    "path", required=False, type=click.Path(dir_okay=False, path_type=Path)
)
_required_path = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of reference files (default: CPLAN_DATA_DIR, else the files shipped in "
    "cplan/data).",
)
_district_option = click.option(
    "--district",
    "district_code",
    required=True,
    metavar="LGD_CODE",
    help="LGD district code, e.g. 124 for Baghpat.",
)


@geo_cli.command("districts")
@_path_argument
@_data_dir_option
def import_districts_command(path, data_dir):
    """Import the state and its districts from an LGD list (default: the data folder's
    up_districts.csv)."""
    from cplan.data import DISTRICTS_FILE
    from cplan.pipelines.geo_import import import_districts

    _echo_report(
        _in_one_transaction(lambda: import_districts(_data_file(path, DISTRICTS_FILE, data_dir)))
    )


@geo_cli.command("subdistricts")
@_path_argument
@_data_dir_option
def import_subdistricts_command(path, data_dir):
    """Import LGD sub-districts (tehsils) of imported districts (default: the data folder's
    up_subdistricts.csv)."""
    from cplan.data import SUBDISTRICTS_FILE
    from cplan.pipelines.geo_import import import_subdistricts

    _echo_report(
        _in_one_transaction(
            lambda: import_subdistricts(_data_file(path, SUBDISTRICTS_FILE, data_dir))
        )
    )


@geo_cli.command("places")
@_district_option
@click.option(
    "--local-bodies",
    "local_bodies",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An LGD local-body list: official names of the census towns in FILE.",
)
@_required_path
def import_places_command(district_code, local_bodies, path):
    """Import a district's villages, towns and wards: a places CSV, or an LGD village, ward or
    local-body list."""
    from cplan.pipelines.geo_import import import_places

    _echo_report(
        _in_one_transaction(lambda: import_places(path, district_code, local_bodies=local_bodies))
    )


@geo_cli.command("stations")
@_district_option
@_required_path
def import_stations_command(district_code, path):
    """Import a district's police stations and circles from a station list (layouts: README)."""
    from cplan.pipelines.geo_import import import_stations

    _echo_report(_in_one_transaction(lambda: import_stations(path, district_code)))


@geo_cli.command("attach")
@_district_option
def attach_places_command(district_code):
    """Attach each unattached place of a district to the police station nearest to it."""
    from cplan.pipelines.geo_import import (
        GeoImportError,
        attach_places_to_nearest_station,
        find_district,
    )

    def attach():
        district = find_district(district_code)
        if district is None:
            raise GeoImportError(f"district {district_code!r} is not in the database")
        return attach_places_to_nearest_station(district)

    _echo_report(_in_one_transaction(attach))


@geo_cli.command("move-place")
@click.option(
    "--place",
    "place_key",
    required=True,
    help="The place's LGD code, or its natural key (lgd:..., census:...).",
)
@click.option(
    "--station",
    "station_code",
    required=True,
    help="The receiving station's code, e.g. 124-BARAUT.",
)
@click.option(
    "--reason", required=True, help="Why (kept in the place's station history and the audit trail)."
)
def move_place_command(place_key, station_code, reason):
    """Hand a place over to another police station, keeping the history of who answered for it."""
    from sqlalchemy import or_, select

    from cplan.extensions import db
    from cplan.models.geo import Place, Unit, UnitKind
    from cplan.services import geo

    def move():
        place = db.session.scalar(
            select(Place).where(or_(Place.lgd_code == place_key, Place.natural_key == place_key))
        )
        station = db.session.scalar(
            select(Unit).where(Unit.kind == UnitKind.STATION, Unit.code == station_code)
        )
        if place is None:
            raise geo.TreeError(f"no place with code {place_key!r}")
        if station is None:
            raise geo.TreeError(f"no police station with code {station_code!r}")
        geo.reassign_place(place, station, reason)
        return place, station

    place, station = _in_one_transaction(move)
    click.echo(
        f"{place.name_en} ({place.natural_key}) now answers to {station.name_en} ({station.code})"
    )


def _refuse_in_production(command: str) -> None:
    """The demo and the generator create officers whose password is published (in the README
    and the command's output): never in production."""
    from flask import current_app

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            f"`cplan {command}` refuses to run in production: it creates officers with a published "
            "password"
        )


@cplan_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when any police unit already exists.")
@_data_dir_option
@click.option(
    "--sign-in-url",
    default="http://127.0.0.1:5000/auth/sign-in",
    show_default=True,
    help="The sign-in address printed with the demo posts.",
)
def load_demo_command(if_empty, data_dir, sign_in_url):
    """Load the Baghpat demo: UP geography, Baghpat places and stations, demo posts and officers."""
    from cplan.devdata.demo import any_unit_exists, demo_summary, load_demo
    from cplan.devdata.demo_people import sign_in_lines

    _refuse_in_production("demo")

    if if_empty and any_unit_exists():
        click.echo("units already exist: demo data not loaded again")
    else:
        folder = _data_folder(data_dir)
        with _sealed_at_the_end():
            context = _in_one_transaction(lambda: load_demo(folder))
        for line in demo_summary(context):
            click.echo(line)
    click.echo("")
    for line in sign_in_lines(sign_in_url):
        click.echo(line)


@cplan_cli.command("generate")
@click.option(
    "--scale",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of the state: 1.0 is 110,274 villages and ~1.1 million contacts; 0.002 for tests.",
)
@click.option(
    "--seed", type=int, default=2026, show_default=True, help="Seed of every random choice."
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The history ends at 00:00 UTC of this day (YYYY-MM-DD); default today.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(100),
    default=10_000,
    show_default=True,
    help="Rows per INSERT statement.",
)
@_data_dir_option
def generate_command(scale, seed, until, batch_size, data_dir):
    """Fill an empty, migrated database with a state-scale data set in the real shape of UP."""
    # The generator writes millions of rows: it commits after each stage (not once at the end,
    # as the other commands do), so a failed run leaves a partly filled database to drop.
    import time

    from cplan.data import MissingDataFile
    from cplan.devdata.generate import (
        GENERATED_PASSWORD,
        GenerateError,
        StateGenerator,
        summary_lines,
    )
    from cplan.extensions import db

    _refuse_in_production("generate")

    try:
        generator = StateGenerator(
            scale=scale,
            seed=seed,
            until=until.date() if until else None,
            data_dir=_data_folder(data_dir),
            batch_size=batch_size,
            echo=click.echo,
        )
        generator.check_empty()
    except (GenerateError, MissingDataFile) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"generating UP at scale {scale:g} (seed {seed}, history until "
        f"{generator.until.isoformat()})"
    )
    started = time.perf_counter()
    # The generator writes its audit events sealed, in bulk; the events the services it drives
    # write (opening the drive) are sealed once at the end, never by a commit midway, which
    # would chain them between two of the generator's own.
    with _sealed_at_the_end():
        for name, stage in generator.stages():
            stage_started = time.perf_counter()
            click.echo(f"{name}...")
            try:
                stage()
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            click.echo(f"  {name}: {time.perf_counter() - stage_started:.1f} s")
    click.echo(f"done in {time.perf_counter() - started:.1f} s")
    for line in summary_lines(generator):
        click.echo(line)
    click.echo(f"every generated officer's password: {GENERATED_PASSWORD}")


@cplan_cli.command("reindex")
def reindex_command():
    """Rebuild the name search index of every place and contact (changes only what differs)."""
    from sqlalchemy import select

    from cplan.extensions import db
    from cplan.models.geo import Place
    from cplan.models.roster import Contact
    from cplan.services import search
    from cplan.services.roster import CONTACT_SEARCH_KIND

    def rebuild():
        places = search.reindex_places(db.session.scalars(select(Place)).yield_per(2000))
        contacts = search.reindex(
            CONTACT_SEARCH_KIND,
            (
                (contact_id, unit_path, (name, name_other))
                for contact_id, unit_path, name, name_other in db.session.execute(
                    select(Contact.id, Contact.unit_path, Contact.name, Contact.name_other).where(
                        Contact.erased_at.is_(None)
                    )
                )
            ),
        )
        return places, contacts

    places, contacts = _in_one_transaction(rebuild)
    click.echo(
        f"search index: {places} place tokens and {contacts} contact tokens written or removed"
    )


@cplan_cli.command("analyze")
def analyze_command():
    """Refresh the query planner's statistics (after a large import; nightly on SQLite).

    Without them SQLite chose the status index over the subtree index for coverage, reading
    every active contact in the state (4.7 s instead of 0.2 s at state scale). PostgreSQL's
    autovacuum does this by itself; after a bulk load it is worth running at once.
    """
    from sqlalchemy import text

    from cplan.extensions import db

    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    click.echo(f"statistics refreshed in {time.perf_counter() - started:.1f} s")


@cplan_cli.command("check-config", with_appcontext=False)
def check_config():
    """Print what production would refuse or get wrong in this configuration; exit 1 if any."""
    from flask import Flask

    from cplan.config import deployment_problems, load_config, production_refusals

    # Built here, not by the app factory: production refuses to start with the very settings
    # this command is asked to report (the command is found without the app through the
    # flask.commands entry point in setup.cfg).
    app = Flask("cplan", instance_relative_config=True)
    load_config(app, refuse=False)
    config = app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    click.echo(f"environment: {config['ENV_NAME']}")
    click.echo(f"database: {url.split('@')[-1] if '@' in url else url}")
    click.echo(f"sms backend: {config['SMS_BACKEND']}")
    problems = production_refusals(config) + deployment_problems(config)
    for problem in problems:
        click.echo(f"REFUSED: {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s): not fit for production", err=True)
        raise SystemExit(1)
    click.echo("fit for production: nothing to refuse")


# ---- backups ---------------------------------------------------------------------------------


@cplan_cli.command("backup")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("backups"),
    show_default=True,
    help="Folder to write the backup and its .sha256 file into.",
)
def backup_command(folder):
    """Back up the database (PostgreSQL: pg_dump custom format; SQLite: its online backup)
    with a SHA-256 checksum file beside it."""
    from flask import current_app

    from cplan.models.base import utcnow
    from cplan.pipelines.backups import BackupError, backup, checksum_path
    from cplan.services import audit_sealer

    started = time.perf_counter()
    audit_sealer.seal()  # the copy's chain then covers every event committed so far
    try:
        path = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], folder, utcnow())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"backup: {path} ({path.stat().st_size:,} bytes, {time.perf_counter() - started:.1f} s)"
    )
    click.echo(f"checksum: {checksum_path(path)}")


@cplan_cli.command("restore-check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--scratch-database",
    metavar="NAME",
    default=None,
    help="PostgreSQL: name of the scratch database (default cplan_restore_check_<random>).",
)
def restore_check_command(path, scratch_database):
    """Restore a backup into a scratch database and check it: checksum, migrations at head,
    schema, audit chain, row counts; exit 1 if any check fails."""
    from flask import current_app

    from cplan.pipelines.backups import BackupError, restored

    started = time.perf_counter()
    try:
        with restored(
            path, current_app.config["SQLALCHEMY_DATABASE_URI"], scratch_database
        ) as scratch_url:
            click.echo("checksum: ok")
            click.echo(f"restored in {time.perf_counter() - started:.1f} s")
            failures = _check_restored(scratch_url)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if failures:
        click.echo(f"restore-check FAILED: {', '.join(failures)}", err=True)
        raise SystemExit(1)
    click.echo(f"restore-check passed in {time.perf_counter() - started:.1f} s")


def _check_restored(url: str) -> list[str]:
    """Check the restored database at ``url`` through an app of its own; the failed checks."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask import Flask, current_app
    from sqlalchemy import func, select

    from cplan.config import load_config
    from cplan.extensions import db
    from cplan.services import health
    from cplan.services.audit import verify_chain

    config = {
        key: current_app.config[key]
        for key in ("ENV_NAME", "TESTING", "SECRET_KEY", "SMS_BACKEND", "RATELIMIT_STORAGE_URI")
    }
    config.update(DATABASE_URL=url, SQLALCHEMY_DATABASE_URI=url, REPORTS_DATABASE_URL=None)
    # An app holding only the database (the checks need nothing else), on the scratch copy.
    scratch = Flask("cplan", instance_relative_config=True)
    load_config(scratch, config)
    db.init_app(scratch)
    heads, _ = health.code_revisions(current_app.extensions["migrate"].directory)
    failures = []
    with scratch.app_context():
        try:
            with db.engine.connect() as connection:
                revisions = health.database_revisions(connection)
                if revisions == heads:
                    click.echo(f"migrations: at head ({', '.join(sorted(heads))})")
                else:
                    failures.append("migrations")
                    click.echo(
                        f"migrations: NOT at head (backup {', '.join(sorted(revisions or []))}"
                        f" or none; code {', '.join(sorted(heads))})"
                    )
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "compare_server_default": True}
                )
                differences = compare_metadata(context, db.metadata)
                if differences:
                    failures.append("schema")
                    click.echo(f"schema: {len(differences)} differences from the models")
                else:
                    click.echo("schema: matches the models")
                counts = {
                    table.name: connection.scalar(select(func.count()).select_from(table))
                    for table in sorted(db.metadata.tables.values(), key=lambda t: t.name)
                }
            result = verify_chain(restored_copy=True)
            if result.ok:
                unsealed = f" (and {result.unsealed} not sealed yet)" if result.unsealed else ""
                click.echo(f"audit chain: intact, {result.checked} events{unsealed}")
                click.echo(f"last hash: {result.last_hash}")
            else:
                failures.append("audit chain")
                click.echo(f"audit chain: BROKEN at seq {result.first_broken_seq}: {result.reason}")
            click.echo("rows:")
            for name, count in counts.items():
                click.echo(f"  {name}: {count:,}")
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    return failures


# ---- retention -------------------------------------------------------------------------------


@cplan_cli.command("retention")
@click.option(
    "--apply", "apply_", is_flag=True, help="Delete what has expired (default: only say)."
)
@click.option("--batch-size", default=1000, show_default=True, help="Rows deleted per transaction.")
def retention_command(apply_, batch_size):
    """Show (or with --apply delete, in batches) what has outlived its retention period, record
    it in the audit trail and verify the chain."""
    from flask import current_app

    from cplan.extensions import db
    from cplan.models.base import utcnow
    from cplan.services import audit, audit_sealer, retention

    now = utcnow()
    try:
        steps = retention.plan(now, current_app.config.get("RETENTION_DAYS"))
    except retention.RetentionError as error:
        raise click.ClickException(str(error)) from None
    db.session.rollback()
    click.echo(f"{'data class':<22} {'keep':>6}  {'older than':<11} {'expired':>9}")
    for step in steps:
        click.echo(
            f"{step.data_class.name:<22} {step.days:>5}d  {step.cutoff:%Y-%m-%d}  "
            f"{step.expired:>9,}"
        )
    for entry, older in retention.kept(now):
        click.echo(f"kept: {entry.name}: {older:,} rows over a year old ({entry.reason})")
    db.session.rollback()
    if not apply_:
        click.echo("dry run: nothing deleted (--apply deletes the expired rows)")
        return

    deleted = {}
    for step in steps:
        total = 0
        while True:
            count = _in_one_transaction(lambda step=step: retention.purge_batch(step, batch_size))
            total += count
            if count < batch_size:
                break
        deleted[step.data_class.name] = total
        click.echo(f"deleted: {step.data_class.name}: {total:,}")

    def record():
        audit.record(
            "retention.applied",
            detail={
                "deleted": [[name, count] for name, count in deleted.items()],
                "days": [[step.data_class.name, step.days] for step in steps],
            },
        )

    _in_one_transaction(record)
    audit_sealer.seal()  # the chain checked below includes the event just recorded
    result = audit.verify_chain()
    if not result.ok:
        click.echo(
            f"audit chain BROKEN at seq {result.first_broken_seq}: {result.reason}", err=True
        )
        raise SystemExit(1)
    click.echo(f"recorded in the audit trail; audit chain intact ({result.checked} events)")


audit_cli = AppGroup("audit", help="Check the audit trail.")


@cplan_cli.command("audit-sealer")
@click.option("--once", is_flag=True, help="Seal what is committed now, then stop.")
def audit_sealer_command(once):
    """Chain committed audit events every AUDIT_SEALER_INTERVAL seconds (Ctrl-C stops)."""
    import signal

    from flask import current_app

    from cplan.services import audit_sealer

    if once:
        result = audit_sealer.seal()
        click.echo(f"sealed {result.sealed} events; head seq {result.head_seq}")
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    interval = float(current_app.config["AUDIT_SEALER_INTERVAL"])
    click.echo(f"audit sealer: sealing every {interval:g} s")

    def report(result):
        click.echo(f"sealed {result.sealed} events up to seq {result.head_seq}")

    try:
        audit_sealer.run_sealer(interval=interval, stop=lambda: bool(stopping), on_batch=report)
    except KeyboardInterrupt:
        pass


cplan_cli.add_command(audit_cli)


@audit_cli.command("verify")
@click.option("--batch-size", default=2000, show_default=True, help="Events read per query.")
def verify_audit(batch_size):
    """Recompute the audit hash chain; exit 1 naming the first broken event."""
    from cplan.services.audit import verify_chain

    result = verify_chain(batch_size=batch_size)
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} events")
        click.echo(f"last hash: {result.last_hash}")
        click.echo(f"not sealed yet (recorded in the last few seconds): {result.unsealed}")
        if result.checkpoint is None:
            click.echo("no signed checkpoint yet: the sealer writes one with its first batch")
        else:
            click.echo(
                f"matches the checkpoint signed at {result.checkpoint.signed_at} "
                f"(seq {result.checkpoint.last_seq})"
            )
        return
    when = result.occurred_at.isoformat() if result.occurred_at else "?"
    seq = result.first_broken_seq if result.first_broken_seq is not None else "-"
    click.echo(
        f"audit chain BROKEN at seq {seq} (id {result.event_id}, "
        f"{when}, {result.action}): {result.reason}",
        err=True,
    )
    click.echo(f"{result.checked} events before it are intact.", err=True)
    raise SystemExit(1)


api_cli = AppGroup("api", help="The JSON API's background work: webhooks, stored answers.")
cplan_cli.add_command(api_cli)


@api_cli.command("webhooks")
@click.option("--once", is_flag=True, help="One round, then exit (a timer's job).")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between rounds.")
def run_webhooks(once, interval):
    """Turn incident changes into webhook deliveries and send those due, with retries."""
    from cplan.extensions import db
    from cplan.services import webhooks

    while True:
        made = webhooks.fan_out()
        db.session.commit()
        sent = failed = 0
        for delivery_id in webhooks.due():
            if webhooks.attempt(delivery_id):
                sent += 1
            else:
                failed += 1
            db.session.commit()
        if once:
            click.echo(f"{made} new deliveries, {sent} sent, {failed} to retry")
            return
        time.sleep(interval)


@api_cli.command("purge")
def purge_api():
    """Forget Idempotency-Key answers older than 24 hours."""
    from cplan.extensions import db
    from cplan.services import idempotency

    removed = idempotency.purge()
    db.session.commit()
    click.echo(f"{removed} stored answers removed")


# ---- verification drives -----------------------------------------------------------------------

drives_cli = AppGroup("drives", help="Verification drives.")
cplan_cli.add_command(drives_cli)


@drives_cli.command("open")
@click.option("--cug", required=True, help="CUG number of the post that opens it (+91...).")
@click.option("--pno", default=None, help="PNO of the officer acting (default: the post's one).")
@click.option("--district", "district_code", default=None, metavar="LGD_CODE", help="Its area.")
@click.option("--opens", "opens_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--due", "due_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--max-age", "max_age_days", default=30, show_default=True, type=int)
@click.option("--phase-id", type=int, default=None, help="An election phase's id.")
@click.option("--name", default="", help="Name of the drive.")
def open_drive_command(cug, pno, district_code, opens_on, due_on, max_age_days, phase_id, name):
    """Open a drive as a post, by the same rules as the page: for a statewide drive, longer than
    a web worker may take. Without --district, the area is the post's own unit."""
    from sqlalchemy import select

    from cplan.extensions import db
    from cplan.models import Officer, Post, PostAssignment, Unit, UnitKind
    from cplan.services import drives
    from cplan.services.principal import Principal

    row = db.session.execute(
        select(Post, Officer)
        .join(PostAssignment, PostAssignment.post_id == Post.id)
        .join(Officer, Officer.id == PostAssignment.officer_id)
        .where(
            Post.cug_number == cug,
            Post.active.is_(True),
            PostAssignment.ended_at.is_(None),
            *([Officer.pno == pno] if pno else []),
        )
        .order_by(Officer.pno)
        .limit(1)
    ).first()
    if row is None:
        raise click.ClickException("no active post with that CUG number held by that officer")
    post, officer = row
    area = post.unit
    if district_code:
        area = db.session.scalar(
            select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code == district_code)
        )
        if area is None:
            raise click.ClickException(f"no district with LGD code {district_code}")
    started = time.perf_counter()
    drive = _in_one_transaction(
        lambda: drives.open_drive(
            Principal(officer=officer, post=post, session=None),
            scope_unit_id=area.id,
            phase_id=phase_id,
            opens_on=opens_on.date(),
            due_on=due_on.date(),
            max_age_days=max_age_days,
            name=name,
            background=False,
        )
    )
    click.echo(
        f"drive {drive.id} opened with {drive.task_count} tasks "
        f"in {time.perf_counter() - started:.1f} s"
    )


@cplan_cli.command("dlt-sync")
@click.option("--entity-id", default=None, help="DLT entity id (default: SMS_DLT_ENTITY_ID).")
@click.option("--sender-id", default=None, help="Sender header (default: SMS_SENDER_ID).")
def dlt_sync(entity_id, sender_id):
    """Write the templates the code sends (sign-in code, notices) into the DLT registry."""
    from flask import current_app

    from cplan.services import dlt

    config = current_app.config
    entity_id = entity_id or config.get("SMS_DLT_ENTITY_ID")
    sender_id = sender_id or config.get("SMS_SENDER_ID")
    if not entity_id or not sender_id:
        raise click.ClickException("give --entity-id and --sender-id (or configure them)")
    written = _in_one_transaction(
        lambda: dlt.sync_system_templates(str(entity_id), str(sender_id), config)
    )
    for template in written:
        click.echo(f"{template.name}/{template.language}: {template.template_id or '(no id yet)'}")


@cplan_cli.command("sms-worker")
@click.option("--batch-size", type=int, default=None, help="Messages claimed at a time.")
@click.option("--poll", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--until-idle", is_flag=True, help="Stop when nothing is left to send.")
@click.option("--name", default=None, help="This worker's name in the outbox (host:pid).")
def sms_worker(batch_size, poll, until_idle, name):
    """Send the broadcast outbox through the configured gateway, and open the drives the page
    recorded as opening, until stopped."""
    from flask import current_app

    from cplan.workers.sms_worker import run_from_app

    totals = run_from_app(
        current_app._get_current_object(),
        batch_size=batch_size,
        poll=poll,
        until_idle=until_idle,
        name=name,
    )
    click.echo(
        f"sent {totals.sent}, retried later {totals.retried}, failed {totals.failed}, "
        f"expired {totals.expired}; drives opened {totals.drives_opened}, "
        f"failed to open {totals.drives_failed}"
    )
