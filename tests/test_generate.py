"""The state-scale generator, run once in miniature (``--scale 0.002``) through its command.

Generating takes a few seconds, so the data set is built once for this module (on the same test
database as every other test, emptied again afterwards) and each test reads it.
"""

from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from cplan import create_app
from cplan.data import data_dir
from cplan.devdata.generate import GENERATED_PASSWORD, expected_villages
from cplan.extensions import db as _db
from cplan.models import (
    AuditEvent,
    Contact,
    ContactStatus,
    EntryKind,
    Incident,
    IncidentPlace,
    IncidentSerial,
    IncidentStatus,
    Officer,
    Place,
    PlaceKind,
    Post,
    PostAssignment,
    Role,
    Script,
    SearchToken,
    TimelineEntry,
    Unit,
    UnitKind,
)
from cplan.models.incidents import VERDICT_STATUSES
from cplan.services import accounts, incidents, roster, search
from cplan.services.audit import verify_chain
from cplan.services.principal import Principal
from tests.conftest import _empty_all_tables, _test_config

SCALE = 0.002
UNTIL = date(2026, 11, 28)


@pytest.fixture(scope="module")
def generated(_schema, database_url, tmp_path_factory):
    """An app whose database holds the miniature data set, and the command's output."""
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("generate")))
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=[
                "cplan",
                "generate",
                "--scale",
                str(SCALE),
                "--seed",
                "7",
                "--until",
                UNTIL.isoformat(),
            ]
        )
        assert result.exit_code == 0, result.output
        yield app, result.output
        _db.session.remove()
        _empty_all_tables()
        _db.engine.dispose()


def count(model, *conditions) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_the_command_prints_the_counts_and_the_password(generated):
    _app, output = generated
    assert "contacts, incidents and audit trail:" in output
    assert f"every generated officer's password: {GENERATED_PASSWORD}" in output


def test_the_state_has_the_real_districts_and_scaled_villages(generated):
    assert count(Unit, Unit.kind == UnitKind.STATE) == 1
    assert count(Unit, Unit.kind == UnitKind.ZONE) == 8
    assert count(Unit, Unit.kind == UnitKind.RANGE) == 18
    assert count(Unit, Unit.kind == UnitKind.DISTRICT) == 75
    baghpat = _db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code == "124")
    )
    assert (baghpat.name_en, baghpat.name_hi) == ("Baghpat", "बागपत")
    assert count(Place, Place.kind == PlaceKind.VILLAGE) == expected_villages(data_dir(), SCALE)
    villages_per_district = dict(
        _db.session.execute(
            select(Place.district_id, func.count())
            .where(Place.kind == PlaceKind.VILLAGE)
            .group_by(Place.district_id)
        ).all()
    )
    assert len(villages_per_district) == 75
    assert count(Place, Place.kind == PlaceKind.WARD) >= 75


def test_every_unit_has_its_posts_and_every_post_an_officer(generated):
    posts_by_unit = defaultdict(Counter)
    for unit_id, role in _db.session.execute(select(Post.unit_id, Post.role)):
        posts_by_unit[unit_id][role] += 1
    for unit in _db.session.scalars(select(Unit)):
        roles = posts_by_unit[unit.id]
        if unit.kind == UnitKind.STATION:
            assert roles == {Role.STATION_OFFICER: 1, Role.CONSTABLE: 1}
        elif unit.kind == UnitKind.CIRCLE:
            assert roles == {Role.CIRCLE_OFFICER: 1}
        elif unit.kind == UnitKind.DISTRICT:
            assert roles == {Role.SP_OFFICE: 1, Role.ASP: 1}
        elif unit.kind == UnitKind.STATE:
            assert roles == {Role.STATE_ADMIN: 1, Role.CONTROL_ROOM: 6}
    held = select(PostAssignment.post_id).where(PostAssignment.ended_at.is_(None))
    assert count(Post, Post.id.not_in(held)) == 0


def test_a_generated_officer_signs_in_with_the_printed_password(generated):
    post = _db.session.scalar(select(Post).where(Post.role == Role.ASP).order_by(Post.id))
    officer = _db.session.scalar(
        select(Officer).join(PostAssignment).where(PostAssignment.post_id == post.id)
    )
    assert accounts.authenticate_officer(post, officer.pno, GENERATED_PASSWORD) == officer
    assert accounts.authenticate_officer(post, officer.pno, "wrong password") is None


def test_places_get_about_ten_contacts_with_a_share_pending(generated):
    per_place = [
        number
        for (number,) in _db.session.execute(
            select(func.count()).select_from(Contact).group_by(Contact.place_id)
        )
    ]
    assert len(per_place) == count(Place)
    assert min(per_place) >= 6 and max(per_place) <= 14
    assert 9 <= sum(per_place) / len(per_place) <= 10.5
    statuses = dict(
        _db.session.execute(select(Contact.status, func.count()).group_by(Contact.status)).all()
    )
    assert set(statuses) == set(ContactStatus)
    assert 0.005 < statuses[ContactStatus.PENDING] / sum(statuses.values()) < 0.1
    assert (
        count(Contact, Contact.consent_on.is_(None) | Contact.consent_by_officer_id.is_(None)) == 0
    )


def test_every_contact_lies_in_its_places_station(generated):
    mismatched = (
        select(func.count())
        .select_from(Contact)
        .join(Place, Place.id == Contact.place_id)
        .join(Unit, Unit.id == Place.station_id)
        .where((Contact.unit_path != Place.unit_path) | (Place.unit_path != Unit.path))
    )
    assert _db.session.scalar(mismatched) == 0
    tokens_elsewhere = (
        select(func.count())
        .select_from(SearchToken)
        .join(Contact, Contact.id == SearchToken.record_id)
        .where(SearchToken.kind == "contact", SearchToken.unit_path != Contact.unit_path)
    )
    assert _db.session.scalar(tokens_elsewhere) == 0
    assert (
        count(
            IncidentPlace,
            IncidentPlace.unit_path.not_in(
                select(Place.unit_path).where(Place.id == IncidentPlace.place_id)
            ),
        )
        == 0
    )


def test_incident_references_are_unique_and_the_serial_counters_match(generated):
    incidents = _db.session.execute(
        select(
            Incident.reference, Incident.district_id, Incident.year, Incident.serial, Unit.code
        ).join(Unit, Unit.id == Incident.district_id)
    ).all()
    assert len(incidents) == round(100_000 * SCALE)
    assert len({row.reference for row in incidents}) == len(incidents)
    serials = defaultdict(list)
    for row in incidents:
        assert row.reference == f"{row.code}/{row.year}/{row.serial}"
        serials[row.district_id, row.year].append(row.serial)
    counters = {
        (row.district_id, row.year): row.last_serial
        for row in _db.session.scalars(select(IncidentSerial))
    }
    assert counters == {key: len(numbers) for key, numbers in serials.items()}
    assert all(sorted(numbers) == list(range(1, len(numbers) + 1)) for numbers in serials.values())


def test_timelines_are_contiguous_and_agree_with_their_incidents(generated):
    entries = defaultdict(list)
    for entry in _db.session.scalars(
        select(TimelineEntry).order_by(TimelineEntry.incident_id, TimelineEntry.seq)
    ):
        entries[entry.incident_id].append(entry)
    statuses = Counter()
    for incident in _db.session.scalars(select(Incident)):
        timeline = entries[incident.id]
        assert [entry.seq for entry in timeline] == list(range(1, incident.last_entry_seq + 1))
        changes = [entry for entry in timeline if entry.kind == EntryKind.STATUS_CHANGE]
        assert incident.status == (changes[-1].to_status if changes else IncidentStatus.NEW)
        assert incident.version == 1 + len(changes)
        calls = [entry.at for entry in timeline if entry.kind == EntryKind.CALL]
        assert incident.first_call_at == (calls[0] if calls else None)
        verdicts = [entry.at for entry in changes if entry.to_status in VERDICT_STATUSES]
        assert incident.verdict_at == (verdicts[0] if verdicts else None)
        assert all(entry.at >= incident.reported_at for entry in timeline)
        statuses[incident.status] += 1
    assert set(statuses) == set(IncidentStatus)


def test_generated_incidents_move_only_as_the_apps_workflow_allows(generated):
    changes = defaultdict(list)
    for entry in _db.session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.kind == EntryKind.STATUS_CHANGE)
        .order_by(TimelineEntry.incident_id, TimelineEntry.seq)
    ):
        changes[entry.incident_id].append(entry)
    assert changes
    for moves in changes.values():
        assert moves[0].from_status == IncidentStatus.NEW
        for before, after in zip([None, *moves], moves, strict=False):
            assert before is None or after.from_status == before.to_status
            assert after.to_status in incidents.TRANSITIONS[after.from_status]


def test_calls_go_to_active_contacts_of_the_incidents_station(generated):
    calls = _db.session.execute(
        select(
            TimelineEntry.at, Contact.status, Contact.enrolled_at, Contact.unit_path, Incident.id
        )
        .join(Contact, Contact.id == TimelineEntry.contact_id)
        .join(Incident, Incident.id == TimelineEntry.incident_id)
        .where(TimelineEntry.kind == EntryKind.CALL)
    ).all()
    assert calls
    paths = defaultdict(set)
    for incident_id, unit_path in _db.session.execute(
        select(IncidentPlace.incident_id, IncidentPlace.unit_path)
    ):
        paths[incident_id].add(unit_path)
    for at, status, enrolled_at, unit_path, incident_id in calls:
        assert status in (ContactStatus.ACTIVE, ContactStatus.INACTIVE)  # inactive: removed later
        assert enrolled_at < at
        assert unit_path in paths[incident_id]


def test_nothing_is_dated_after_the_end_of_the_history(generated):
    end = datetime(UNTIL.year, UNTIL.month, UNTIL.day, tzinfo=UTC)
    for column in (
        Contact.enrolled_at,
        Contact.decided_at,
        Contact.updated_at,
        Contact.last_verified_at,
        Incident.reported_at,
        Incident.updated_at,
        TimelineEntry.at,
        AuditEvent.occurred_at,
    ):
        assert _db.session.scalar(select(func.max(column))) < end, column


def test_the_audit_trail_verifies_and_reads_in_time_order(generated):
    result = verify_chain()
    assert result.ok, result.reason
    assert result.checked == count(AuditEvent)
    times = list(_db.session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.seq)))
    assert times == sorted(times)
    actions = set(_db.session.scalars(select(AuditEvent.action).distinct()))
    assert {
        "roster.contact_enrolled",
        "enrolment.approved",
        "incident.created",
        "incident.call_logged",
        "auth.sign_in",
    } <= actions


@pytest.mark.parametrize("script", [Script.DEVANAGARI, Script.LATIN])
def test_a_generated_contact_is_found_by_a_name_word_in_both_scripts(generated, script):
    contact = _db.session.scalar(
        select(Contact)
        .where(
            Contact.name_script == script,
            Contact.status == ContactStatus.ACTIVE,
            Contact.confidential.is_(False),
        )
        .order_by(Contact.id)
    )
    state = _db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATE))
    everything = Contact.id.is_not(None)
    for spelling in (contact.name, contact.name_other):
        surname = spelling.split()[-1]
        results = search.find(surname, state, everything, per_page=100)
        found = {found.id for found in results.contacts}
        page = 1
        while contact.id not in found and results.has_next:
            page += 1
            results = search.find(surname, state, everything, page=page, per_page=100)
            found = {found.id for found in results.contacts}
        assert contact.id in found, spelling


def test_a_station_post_sees_only_its_stations_contacts(generated):
    post = _db.session.scalar(
        select(Post).where(Post.role == Role.CONSTABLE).order_by(Post.id.desc())
    )
    officer = _db.session.scalar(
        select(Officer).join(PostAssignment).where(PostAssignment.post_id == post.id)
    )
    principal = Principal(officer=officer, post=post, session=None)
    visible = set(
        _db.session.scalars(select(Contact.id).where(roster.visible_condition(principal)))
    )
    own = set(
        _db.session.scalars(
            select(Contact.id)
            .join(Place, Place.id == Contact.place_id)
            .where(Place.station_id == post.unit_id, Contact.confidential.is_(False))
        )
    )
    assert visible == own and visible


def test_generate_refuses_a_database_that_is_not_empty(generated):
    app, _output = generated
    contacts = count(Contact)
    result = app.test_cli_runner().invoke(args=["cplan", "generate", "--scale", str(SCALE)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert count(Contact) == contacts


def test_a_statewide_drive_is_in_progress_with_counters_that_agree_with_its_tasks(generated):
    from cplan.models import DriveProgress, TaskState, VerificationDrive, VerificationTask

    drive = _db.session.scalar(select(VerificationDrive))
    assert drive.scope_unit.kind == UnitKind.STATE and drive.task_count > 1000
    assert drive.task_count == count(VerificationTask)
    for state, column in (
        (TaskState.PENDING, DriveProgress.pending),
        (TaskState.CONFIRMED, DriveProgress.confirmed),
        (TaskState.UNREACHABLE, DriveProgress.unreachable),
    ):
        assert _db.session.scalar(select(func.sum(column))) == count(
            VerificationTask, VerificationTask.state == state
        )
    confirmed = count(VerificationTask, VerificationTask.state == TaskState.CONFIRMED)
    assert 0.2 < confirmed / drive.task_count < 0.3
    opened = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "drive.opened"))
    assert opened.target_id == drive.id and opened.occurred_at == drive.opened_at
