"""Incidents: the status workflow, the append-only timeline, calls, scope, supervision, races."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from cplan.models import (
    AuditEvent,
    CallOutcome,
    Contact,
    ContactCategory,
    ContactStatus,
    EntryKind,
    Incident,
    IncidentStatus,
    Place,
    Script,
    TimelineEntry,
)
from cplan.services import audit, incidents
from cplan.services.errors import AlreadyDecided, InvalidTransition, NotInScope
from cplan.services.principal import Principal
from tests.concurrency import principal_in_thread, run_together

S = IncidentStatus
REPORTED = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    district = make_district("Baghpat", code="124")
    baraut = make_station(district, "Baraut")
    kotwali = make_station(district, "Kotwali")
    khekra = make_station(district, "Khekra")
    other = make_district("Meerut", code="135")
    other_station = make_station(other, "Sardhana")
    return {
        "district": district,
        "baraut": baraut,
        "kotwali": kotwali,
        "khekra": khekra,
        "other": other,
        "bijrol": make_place("BIJROL", station=baraut, lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=baraut, lgd_code="119301"),
        "sisana": make_place("SISANA", station=kotwali, lgd_code="119302"),
        "khekra_village": make_place("KHEKRA", station=khekra, lgd_code="119303"),
        "sardhana_village": make_place("SARDHANA", station=other_station, lgd_code="120001"),
        "constable": make_officer("constable", baraut),
        "baraut_so": make_officer("station_officer", baraut),
        "kotwali_so": make_officer("station_officer", kotwali),
        "khekra_so": make_officer("station_officer", khekra),
        "circle_officer": make_officer("circle_officer", baraut.parent),
        "asp": make_officer("asp", district),
        "sp_office": make_officer("sp_office", district),
        "other_asp": make_officer("asp", other),
        "other_station_so": make_officer("station_officer", other_station),
        "supervisor": make_officer("control_room", state),
        "second_supervisor": make_officer("control_room", state),
    }


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def new_incident(world, who="baraut_so", places=("bijrol",), **overrides):
    values = dict(
        kind="rumour",
        severity="high",
        occurred_at=REPORTED - timedelta(hours=1),
        reported_at=REPORTED,
        source="up112_call",
        summary="Rumour of a clash at the pond",
    )
    values.update(overrides)
    return incidents.create_incident(
        principal(world[who]), [world[name] for name in places], **values
    )


@pytest.fixture
def make_contact(db):
    counter = {"n": 0}

    def make(
        place, status=ContactStatus.ACTIVE, last_verified_at=None, name=None, confidential=False
    ):
        counter["n"] += 1
        contact = Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=name or f"Citizen {counter['n']}",
            name_script=Script.LATIN,
            category=ContactCategory.TEACHER,
            status=status,
            mobile=f"+9198765{counter['n']:05d}",
            last_verified_at=last_verified_at,
            confidential=confidential,
        )
        db.session.add(contact)
        db.session.flush()
        return contact

    return make


def count_events(db, action):
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def force_status(db, incident, status):
    incident.status = status
    db.session.flush()


# ---- creating ---------------------------------------------------------------------------------


def test_an_incident_gets_a_district_year_serial_reference(db, world):
    first = new_incident(world)
    second = new_incident(world, places=("sisana",), who="kotwali_so")
    assert first.reference == "124/2026/1"
    assert second.reference == "124/2026/2"
    assert first.status == S.NEW and first.version == 1
    assert count_events(db, "incident.created") == 2


def test_a_new_year_starts_the_serials_again(db, world):
    new_incident(world)
    later = new_incident(
        world,
        reported_at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        occurred_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
    )
    assert later.reference == "124/2027/1"


def test_an_incident_is_created_only_for_places_in_the_posts_scope(db, world):
    with pytest.raises(NotInScope):
        new_incident(world, places=("bijrol", "sisana"))


def test_an_incident_cannot_span_two_districts(db, world):
    with pytest.raises(incidents.IncidentError):
        new_incident(world, who="supervisor", places=("bijrol", "sardhana_village"))


def test_an_incident_cannot_be_reported_before_it_happened(db, world):
    with pytest.raises(incidents.IncidentError):
        new_incident(world, occurred_at=REPORTED + timedelta(minutes=5))


# ---- the status workflow ----------------------------------------------------------------------

ALLOWED = [(old, new) for old, targets in incidents.TRANSITIONS.items() for new in sorted(targets)]
REFUSED = [(old, new) for old in S for new in S if new not in incidents.TRANSITIONS[old]]


def test_the_workflow_runs_from_new_to_closed(db, world):
    incident = new_incident(world)
    who = principal(world["baraut_so"])
    for status in (S.VERIFYING, S.VERIFIED_TRUE, S.ACTION_TAKEN, S.CLOSED):
        incidents.change_status(who, incident.id, incident.version, status, "")
    assert incident.status == S.CLOSED and incident.version == 5
    changes = [(e.from_status, e.to_status) for e in incidents.entries(incident)]
    assert changes == [
        (S.NEW, S.VERIFYING),
        (S.VERIFYING, S.VERIFIED_TRUE),
        (S.VERIFIED_TRUE, S.ACTION_TAKEN),
        (S.ACTION_TAKEN, S.CLOSED),
    ]
    assert count_events(db, "incident.status_changed") == 4


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_every_allowed_transition_is_accepted(db, world, old, new):
    incident = new_incident(world)
    force_status(db, incident, old)
    incidents.change_status(
        principal(world["baraut_so"]), incident.id, incident.version, new, "a reason"
    )
    assert incident.status == new
    entry = incidents.entries(incident)[-1]
    assert (entry.kind, entry.from_status, entry.to_status) == (EntryKind.STATUS_CHANGE, old, new)


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_transitions_outside_the_mapping_are_refused(db, world, old, new):
    incident = new_incident(world)
    force_status(db, incident, old)
    with pytest.raises(InvalidTransition):
        incidents.change_status(
            principal(world["baraut_so"]), incident.id, incident.version, new, "x"
        )
    assert incident.status == old
    assert incidents.entries(incident) == []


def test_reopening_a_closed_incident_needs_a_reason_and_is_recorded(db, world):
    incident = new_incident(world)
    force_status(db, incident, S.CLOSED)
    incidents.mark_reviewed(principal(world["supervisor"]), incident.id, "fine")
    with pytest.raises(incidents.IncidentError):
        incidents.change_status(
            principal(world["baraut_so"]), incident.id, incident.version, S.VERIFYING, ""
        )
    incidents.change_status(
        principal(world["baraut_so"]),
        incident.id,
        incident.version,
        S.VERIFYING,
        "Fresh reports from the village",
    )
    assert incident.status == S.VERIFYING
    assert count_events(db, "incident.reopened") == 1
    entry = incidents.entries(incident)[-1]
    assert (entry.from_status, entry.to_status, entry.text) == (
        S.CLOSED,
        S.VERIFYING,
        "Fresh reports from the village",
    )
    # Back in the review queue.
    assert incident.reviewed_at is None
    assert (
        incident in db.session.scalars(incidents.review_queue(principal(world["supervisor"]))).all()
    )


def test_a_status_change_on_a_stale_version_is_refused(db, world):
    incident = new_incident(world)
    seen = incident.version
    incidents.change_status(principal(world["baraut_so"]), incident.id, seen, S.VERIFYING)
    with pytest.raises(incidents.IncidentChanged):
        incidents.change_status(principal(world["constable"]), incident.id, seen, S.VERIFYING)
    assert len(incidents.entries(incident)) == 1


def test_the_verdict_time_is_set_when_a_verdict_is_first_reached(db, world):
    incident = new_incident(world)
    who = principal(world["baraut_so"])
    incidents.change_status(who, incident.id, incident.version, S.VERIFYING)
    assert incident.verdict_at is None
    incidents.change_status(who, incident.id, incident.version, S.UNCONFIRMED)
    first = incident.verdict_at
    assert first is not None
    incidents.change_status(who, incident.id, incident.version, S.VERIFYING)
    incidents.change_status(who, incident.id, incident.version, S.VERIFIED_TRUE)
    assert incident.verdict_at == first


def test_a_post_without_incident_rights_cannot_change_status(db, world, make_officer, state):
    admin = make_officer("state_admin", state)
    incident = new_incident(world)
    with pytest.raises(incidents.IncidentError):
        incidents.change_status(principal(admin), incident.id, incident.version, S.VERIFYING)
    with pytest.raises(NotInScope):
        incidents.get_visible(principal(admin), incident.id)


# ---- the timeline is append-only --------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE timeline_entries SET text = 'rewritten'",
        "DELETE FROM timeline_entries",
    ],
)
def test_a_raw_update_or_delete_of_timeline_entries_fails(app, db, world, statement):
    incident = new_incident(world)
    incidents.add_note(
        principal(world["baraut_so"]), incident.id, "Beat constable sent to the spot"
    )
    db.session.commit()
    with pytest.raises(Exception, match="append-only"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    db.session.expire_all()
    assert [e.text for e in incidents.entries(incident)] == ["Beat constable sent to the spot"]


def test_a_correction_is_a_new_entry_naming_the_old_one(db, world):
    incident = new_incident(world)
    who = principal(world["baraut_so"])
    note = incidents.add_note(who, incident.id, "Crowd of 50 at the pond")
    correction = incidents.correct_entry(who, note.id, "Crowd of 15, not 50")
    entries = incidents.entries(incident)
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0].text == "Crowd of 50 at the pond"
    assert (correction.kind, correction.corrects_entry_id) == (EntryKind.CORRECTION, note.id)
    assert count_events(db, "incident.entry_corrected") == 1


def test_a_public_message_is_a_timeline_entry_of_its_own_kind(db, world):
    incident = new_incident(world)
    entry = incidents.add_note(
        principal(world["baraut_so"]),
        incident.id,
        "No clash; do not share the video",
        public_message=True,
    )
    assert entry.kind == EntryKind.PUBLIC_MESSAGE
    assert count_events(db, "incident.public_message_added") == 1


def test_an_escalation_goes_to_a_higher_unit_covering_the_incident(db, world):
    incident = new_incident(world)
    who = principal(world["baraut_so"])
    entry = incidents.escalate(who, incident.id, world["district"], "Needs extra force")
    assert entry.escalated_to_unit_id == world["district"].id
    with pytest.raises(incidents.IncidentError):
        incidents.escalate(who, incident.id, world["baraut"], "to myself")
    with pytest.raises(incidents.IncidentError):
        incidents.escalate(who, incident.id, world["other"], "elsewhere")


# ---- calls ------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["confirmed", "denied", "unaware"])
def test_an_answered_call_marks_the_contact_verified(db, world, make_contact, outcome):
    contact = make_contact(world["bijrol"])
    incident = new_incident(world)
    entry = incidents.log_call(
        principal(world["constable"]), incident.id, contact.id, outcome, "He says all calm"
    )
    assert contact.last_verified_at is not None and contact.unreachable_count == 0
    assert (entry.kind, entry.call_outcome, entry.contact_id) == (
        EntryKind.CALL,
        CallOutcome(outcome),
        contact.id,
    )


@pytest.mark.parametrize("outcome", ["no_answer", "switched_off", "wrong_number"])
def test_an_unanswered_call_counts_against_the_contact(db, world, make_contact, outcome):
    contact = make_contact(world["bijrol"])
    incident = new_incident(world)
    who = principal(world["constable"])
    incidents.log_call(who, incident.id, contact.id, outcome)
    incidents.log_call(who, incident.id, contact.id, outcome)
    assert contact.unreachable_count == 2 and contact.last_verified_at is None


def test_the_first_call_time_is_set_once(db, world, make_contact):
    first, second = make_contact(world["bijrol"]), make_contact(world["bamnauli"])
    incident = new_incident(world)
    who = principal(world["constable"])
    incidents.log_call(who, incident.id, first.id, "no_answer")
    at = incident.first_call_at
    assert at is not None
    incidents.log_call(who, incident.id, second.id, "confirmed")
    assert incident.first_call_at == at
    assert count_events(db, "incident.call_logged") == 2


def test_calls_are_only_to_active_contacts_of_the_incidents_stations(db, world, make_contact):
    incident = new_incident(world)
    who = principal(world["constable"])
    pending = make_contact(world["bijrol"], status=ContactStatus.PENDING)
    with pytest.raises(incidents.IncidentError):
        incidents.log_call(who, incident.id, pending.id, "confirmed")
    elsewhere = make_contact(world["khekra_village"])
    with pytest.raises(NotInScope):
        incidents.log_call(who, incident.id, elsewhere.id, "confirmed")
    district_wide = principal(world["asp"])
    with pytest.raises(incidents.IncidentError):
        incidents.log_call(district_wide, incident.id, elsewhere.id, "confirmed")


def test_the_call_sheet_lists_affected_places_first_then_neighbours_by_last_answer(
    db, world, make_contact
):
    now = datetime.now(UTC)
    never = make_contact(world["bijrol"], name="Never verified")
    recent = make_contact(world["bijrol"], last_verified_at=now - timedelta(days=1), name="Recent")
    older = make_contact(world["bijrol"], last_verified_at=now - timedelta(days=30), name="Older")
    neighbour = make_contact(world["bamnauli"], last_verified_at=now, name="Neighbour")
    make_contact(world["bijrol"], status=ContactStatus.PENDING)
    make_contact(world["khekra_village"])  # another station: not on the sheet
    incident = new_incident(world)
    who = principal(world["constable"])
    incidents.log_call(who, incident.id, older.id, "no_answer")
    sheet = incidents.call_sheet(who, incident).rows
    assert [row.contact.id for row in sheet] == [recent.id, older.id, never.id, neighbour.id]
    assert [row.affected_place for row in sheet] == [True, True, True, False]
    assert [row.called for row in sheet] == [False, True, False, False]
    assert sheet[1].last_outcome == CallOutcome.NO_ANSWER


def test_the_tally_counts_each_contact_by_their_latest_call(db, world, make_contact):
    contacts = [make_contact(world["bijrol"]) for _ in range(4)]
    incident = new_incident(world)
    who = principal(world["constable"])
    incidents.log_call(who, incident.id, contacts[0].id, "no_answer")
    incidents.log_call(who, incident.id, contacts[0].id, "confirmed")
    incidents.log_call(who, incident.id, contacts[1].id, "confirmed")
    incidents.log_call(who, incident.id, contacts[2].id, "denied")
    incidents.log_call(who, incident.id, contacts[3].id, "switched_off")
    counts = incidents.tally(incident)
    assert counts[CallOutcome.CONFIRMED] == 2 and counts[CallOutcome.DENIED] == 1
    assert counts[CallOutcome.SWITCHED_OFF] == 1 and counts[CallOutcome.NO_ANSWER] == 0
    assert incidents.suggested_verdict(counts) == S.VERIFIED_TRUE


@pytest.mark.parametrize(
    ("confirmed", "denied", "unaware", "unreachable", "expected"),
    [
        (0, 0, 0, 5, None),
        (2, 0, 0, 3, None),
        (3, 0, 0, 0, S.VERIFIED_TRUE),
        (2, 1, 0, 0, S.VERIFIED_TRUE),
        (1, 0, 2, 0, S.UNCONFIRMED),
        (0, 0, 3, 0, S.UNCONFIRMED),
        (3, 2, 0, 0, S.UNCONFIRMED),
        (0, 3, 0, 0, S.FOUND_FALSE),
        (1, 2, 0, 0, S.FOUND_FALSE),
        (2, 2, 2, 0, S.UNCONFIRMED),
        (4, 2, 1, 1, S.VERIFIED_TRUE),
    ],
)
def test_the_suggested_verdict_on_known_tallies(confirmed, denied, unaware, unreachable, expected):
    counts = {outcome: 0 for outcome in CallOutcome}
    counts.update(
        {
            CallOutcome.CONFIRMED: confirmed,
            CallOutcome.DENIED: denied,
            CallOutcome.UNAWARE: unaware,
            CallOutcome.NO_ANSWER: unreachable,
        }
    )
    assert incidents.suggested_verdict(counts) == expected


# ---- response times ---------------------------------------------------------------------------


def test_response_times_measure_from_the_report(app, db, world):
    incident = new_incident(world)
    incident.first_call_at = REPORTED + timedelta(minutes=12)
    incident.verdict_at = REPORTED + timedelta(hours=2)
    times = incidents.response_times(incident, now=REPORTED + timedelta(days=1))
    assert times.to_first_call == timedelta(minutes=12)
    assert times.to_verdict == timedelta(hours=2)
    assert not times.overdue


def test_a_late_first_call_and_a_missing_verdict_are_flagged(app, db, world):
    incident = new_incident(world)
    incident.first_call_at = REPORTED + timedelta(minutes=31)
    times = incidents.response_times(incident, now=REPORTED + timedelta(hours=7))
    assert times.first_call_overdue and times.verdict_overdue and times.to_verdict is None
    still_in_time = incidents.response_times(incident, now=REPORTED + timedelta(hours=5))
    assert not still_in_time.verdict_overdue


def test_the_limits_come_from_the_configuration(app, db, world):
    app.config["INCIDENT_FIRST_CALL_MINUTES"] = 60
    incident = new_incident(world)
    incident.first_call_at = REPORTED + timedelta(minutes=45)
    assert not incidents.response_times(
        incident, now=REPORTED + timedelta(hours=1)
    ).first_call_overdue
    fresh = new_incident(world)
    assert not incidents.response_times(
        fresh, now=REPORTED + timedelta(minutes=59)
    ).first_call_overdue
    assert incidents.response_times(fresh, now=REPORTED + timedelta(minutes=61)).first_call_overdue


# ---- scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("constable", True),
        ("baraut_so", True),
        ("kotwali_so", True),
        ("circle_officer", True),
        ("asp", True),
        ("sp_office", True),
        ("supervisor", True),
        ("khekra_so", False),
        ("other_asp", False),
        ("other_station_so", False),
    ],
)
def test_an_incident_spanning_two_stations_is_visible_to_both_and_no_other(db, world, who, sees):
    incident = new_incident(world, who="asp", places=("bijrol", "sisana"))
    assert sorted(incident.unit_paths) == sorted([world["baraut"].path, world["kotwali"].path])
    if sees:
        assert incidents.get_visible(principal(world[who]), incident.id) is incident
    else:
        with pytest.raises(NotInScope):
            incidents.get_visible(principal(world[who]), incident.id)
    listed = db.session.scalars(incidents.feed_query(principal(world[who]))).all()
    assert (incident in listed) == sees


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("constable", False),
        ("baraut_so", False),
        ("circle_officer", False),
        ("asp", True),
        ("sp_office", True),
        ("supervisor", True),
    ],
)
def test_confidential_tips_are_visible_from_the_asp_upwards_only(
    db, world, make_contact, who, sees
):
    contact = make_contact(world["bijrol"])
    tip = incidents.record_tip(
        principal(world["asp"]),
        contact.id,
        "Illicit liquor stored in a tubewell room",
        confidential=True,
    )
    assert tip.source.value == "contact_tip" and tip.confidential
    assert [p.place_id for p in tip.places] == [world["bijrol"].id]
    if sees:
        assert incidents.get_visible(principal(world[who]), tip.id) is tip
    else:
        with pytest.raises(NotInScope):
            incidents.get_visible(principal(world[who]), tip.id)


def test_a_station_records_an_open_tip_from_its_contact(db, world, make_contact):
    contact = make_contact(world["bijrol"])
    tip = incidents.record_tip(principal(world["constable"]), contact.id, "Strangers seen at night")
    entry = incidents.entries(tip)[0]
    assert (entry.kind, entry.contact_id) == (EntryKind.NOTE, contact.id)
    assert incidents.get_visible(principal(world["baraut_so"]), tip.id) is tip
    assert count_events(db, "incident.tip_recorded") == 1


# ---- the feed and the review queue ------------------------------------------------------------


@pytest.fixture
def feed(world):
    day = timedelta(days=1)
    return {
        "rumour": new_incident(
            world,
            who="asp",
            kind="rumour",
            severity="low",
            reported_at=REPORTED,
            occurred_at=REPORTED,
        ),
        "clash": new_incident(
            world,
            who="asp",
            places=("sisana",),
            kind="dispute_clash",
            severity="critical",
            reported_at=REPORTED + day,
            occurred_at=REPORTED + day,
        ),
        "meerut": new_incident(
            world,
            who="other_asp",
            places=("sardhana_village",),
            kind="rumour",
            severity="high",
            reported_at=REPORTED + 2 * day,
            occurred_at=REPORTED + 2 * day,
        ),
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["meerut", "clash", "rumour"]),
        ({"kind": "rumour"}, ["meerut", "rumour"]),
        ({"severity": "critical"}, ["clash"]),
        ({"status": "new"}, ["meerut", "clash", "rumour"]),
        ({"status": "verifying"}, []),
        ({"district": "district"}, ["clash", "rumour"]),
        ({"since": 1}, ["meerut", "clash"]),
        ({"until": 1}, ["rumour"]),
        ({"since": 1, "until": 2, "kind": "dispute_clash"}, ["clash"]),
    ],
)
def test_the_statewide_feed_filters(db, world, feed, filters, expected):
    values = dict(filters)
    if "district" in values:
        values["district_id"] = world[values.pop("district")].id
    for bound in ("since", "until"):
        if bound in values:
            values[bound] = REPORTED + timedelta(days=values[bound])
    rows = db.session.scalars(
        incidents.feed_query(principal(world["supervisor"]), incidents.FeedFilters(**values))
    )
    names = {incident.id: name for name, incident in feed.items()}
    assert [names[row.id] for row in rows] == expected


def test_the_district_feed_holds_the_districts_incidents_only(db, world, feed):
    rows = db.session.scalars(incidents.feed_query(principal(world["sp_office"]))).all()
    assert rows == [feed["clash"], feed["rumour"]]


def test_the_review_queue_holds_incidents_not_yet_reviewed(db, world, feed):
    supervisor = principal(world["supervisor"])
    incidents.mark_reviewed(supervisor, feed["clash"].id, "Force sent in time")
    queue = db.session.scalars(incidents.review_queue(supervisor)).all()
    assert queue == [feed["rumour"], feed["meerut"]]
    assert feed["clash"].reviewed_by.id == world["supervisor"].id
    assert feed["clash"].review_comment == "Force sent in time"
    assert incidents.entries(feed["clash"])[-1].kind == EntryKind.REVIEW
    with pytest.raises(AlreadyDecided):
        incidents.mark_reviewed(principal(world["second_supervisor"]), feed["clash"].id, "again")
    assert count_events(db, "incident.reviewed") == 1


def test_station_posts_cannot_review(db, world, feed):
    with pytest.raises(incidents.IncidentError):
        incidents.mark_reviewed(principal(world["baraut_so"]), feed["rumour"].id, "ok")
    assert db.session.scalars(incidents.review_queue(principal(world["baraut_so"]))).all() == []


# ---- being handled by -------------------------------------------------------------------------


def test_a_claimed_incident_cannot_be_claimed_by_another_until_the_claim_lapses(db, world):
    incident = new_incident(world)
    first, second = principal(world["supervisor"]), principal(world["second_supervisor"])
    now = datetime.now(UTC)
    incidents.claim(first, incident.id, now=now)
    assert incident.handling_by.id == world["supervisor"].id
    with pytest.raises(incidents.AlreadyClaimed) as refused:
        incidents.claim(second, incident.id, now=now + timedelta(minutes=90))
    assert refused.value.officer_name == world["supervisor"].name
    incidents.claim(second, incident.id, now=now + timedelta(hours=2, minutes=1))
    assert incident.handling_by.id == world["second_supervisor"].id
    assert count_events(db, "incident.claimed") == 2


def test_only_the_holder_releases_a_claim(db, world):
    incident = new_incident(world)
    first, second = principal(world["supervisor"]), principal(world["second_supervisor"])
    incidents.claim(first, incident.id)
    with pytest.raises(incidents.IncidentError):
        incidents.release(second, incident.id)
    incidents.release(first, incident.id)
    assert incident.handling_by_officer_id is None
    incidents.claim(second, incident.id)
    assert incident.handling_by_officer_id == world["second_supervisor"].id


# ---- the audit trail --------------------------------------------------------------------------


def test_the_audit_trail_never_names_a_citizen(db, world, make_contact):
    contact = make_contact(world["bijrol"], name="Ram Kishore")
    incident = new_incident(world)
    who = principal(world["constable"])
    incidents.log_call(who, incident.id, contact.id, "denied", "Ram Kishore says nothing happened")
    incidents.record_tip(who, contact.id, "Strangers seen at night")
    dump = " ".join(e.detail for e in db.session.scalars(select(AuditEvent)))
    assert "Ram" not in dump and contact.mobile[3:] not in dump
    assert audit.verify_chain().ok


# ---- under concurrency (SQLite and PostgreSQL) ------------------------------------------------


def test_two_supervisors_claiming_at_once_exactly_one_wins(app, db, world):
    incident_id = new_incident(world).id
    first, second = world["supervisor"].id, world["second_supervisor"].id
    db.session.commit()
    results = run_together(
        app,
        [
            lambda: incidents.claim(principal_in_thread(first), incident_id).handling_by_officer_id,
            lambda: (
                incidents.claim(principal_in_thread(second), incident_id).handling_by_officer_id
            ),
        ],
    )
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, incidents.AlreadyClaimed)]
    assert len(winners) == 1 and len(losers) == 1, results
    db.session.expire_all()
    assert db.session.get(Incident, incident_id).handling_by_officer_id == winners[0]
    assert count_events(db, "incident.claimed") == 1
    assert audit.verify_chain().ok


def test_reference_serials_stay_unique_under_concurrent_creation(app, db, world):
    officer_ids = [world[name].id for name in ("constable", "baraut_so", "asp", "sp_office")]
    place_id = world["bijrol"].id
    db.session.commit()

    def create(officer_id):
        def work():
            from cplan.extensions import db as thread_db

            place = thread_db.session.get(Place, place_id)
            return incidents.create_incident(
                principal_in_thread(officer_id),
                [place],
                "rumour",
                "medium",
                REPORTED,
                REPORTED,
                "field_report",
                "Same rumour reported by several posts",
            ).reference

        return work

    results = run_together(app, [create(officer_id) for officer_id in officer_ids])
    assert sorted(results) == [f"124/2026/{n}" for n in range(1, 5)], results
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 4
    assert audit.verify_chain().ok


def test_concurrent_calls_get_distinct_timeline_numbers(app, db, world, make_contact):
    contacts = [make_contact(world["bijrol"]).id for _ in range(3)]
    incident_id = new_incident(world).id
    constable = world["constable"].id
    db.session.commit()
    results = run_together(
        app,
        [
            (
                lambda contact_id=contact_id: (
                    incidents.log_call(
                        principal_in_thread(constable), incident_id, contact_id, "confirmed"
                    ).seq
                )
            )
            for contact_id in contacts
        ],
    )
    assert len(set(results)) == 3, results
    db.session.expire_all()
    incident = db.session.get(Incident, incident_id)
    assert incident.first_call_at is not None and incident.status == S.VERIFYING
    entries = db.session.execute(
        select(TimelineEntry.seq, TimelineEntry.kind).where(
            TimelineEntry.incident_id == incident_id
        )
    ).all()
    # Three calls and the one move to "verifying" the first of them made, numbered 1 to 4.
    assert sorted(seq for seq, _kind in entries) == [1, 2, 3, 4]
    assert sorted(kind.value for _seq, kind in entries) == ["call", "call", "call", "status_change"]


def test_the_call_sheet_shows_a_few_of_the_stations_other_contacts_and_any_already_called(
    db, world, make_contact, monkeypatch
):
    monkeypatch.setattr(incidents, "NEIGHBOURS_SHOWN", 2)
    now = datetime.now(UTC)
    affected = [make_contact(world["bijrol"]) for _ in range(3)]
    recent = [
        make_contact(world["bamnauli"], last_verified_at=now - timedelta(days=n)) for n in (1, 2)
    ]
    others = [make_contact(world["bamnauli"]) for _ in range(4)]
    incident = new_incident(world)
    who = principal(world["constable"])
    incidents.log_call(who, incident.id, others[0].id, "no_answer")  # called: stays on the sheet
    sheet = incidents.call_sheet(who, incident)
    shown = [row.contact.id for row in sheet.rows]
    assert set(shown[:3]) == {contact.id for contact in affected}  # the affected place in full
    assert set(shown[3:]) == {others[0].id, recent[0].id, recent[1].id} and len(shown) == 6
    assert sheet.more_neighbours == 3  # 6 neighbours, 3 shown
