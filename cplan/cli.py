"""Command-line interface: ``flask cplan ...`` (geography imports, demo data, audit checks)."""

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


@cplan_cli.command("check-config")
def check_config():
    """Print the effective database and SMS backend (no secrets)."""
    from flask import current_app

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    click.echo(f"environment: {current_app.config['ENV_NAME']}")
    click.echo(f"database: {url.split('@')[-1] if '@' in url else url}")
    click.echo(f"sms backend: {current_app.config['SMS_BACKEND']}")


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
