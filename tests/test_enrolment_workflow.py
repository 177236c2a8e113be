"""The enrolment workflow: maker-checker, every transition, decisions made exactly once."""

from datetime import date

import pytest
from sqlalchemy import func, select

from cplan.models import (
    AuditEvent,
    Contact,
    ContactCategory,
    ContactStatus,
    InactiveReason,
    ProposalStatus,
    Script,
)
from cplan.services import audit, enrolment, roster
from cplan.services.errors import AlreadyDecided, InvalidTransition, NotInScope
from cplan.services.principal import Principal
from tests.concurrency import principal_in_thread, run_together


@pytest.fixture
def world(make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    other = make_district("Meerut", code="135")
    return {
        "district": district,
        "station": station,
        "place": make_place("BIJROL", station=station, lgd_code="119300"),
        "other_place": make_place("BAMNAULI", station=station, lgd_code="119301"),
        "constable": make_officer("constable", station),
        "asp": make_officer("asp", district),
        "second_asp": make_officer("asp", district),
        "other_asp": make_officer("asp", other),
    }


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def details(**overrides):
    values = dict(
        name="Ram Kishore", mobile="98765 43210", category="teacher", consent_on=date(2026, 11, 1)
    )
    values.update(overrides)
    return roster.ContactDetails(**values)


def enrol(world, **overrides):
    return roster.enrol(principal(world["constable"]), world["place"], details(**overrides))


def events(db, action):
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_an_enrolment_starts_pending_and_the_asp_approves_it(db, world):
    contact = enrol(world)
    assert contact.status == ContactStatus.PENDING
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    assert contact.status == ContactStatus.ACTIVE
    assert contact.decided_by.id == world["asp"].id
    assert events(db, "enrolment.approved") == 1


def test_the_officer_who_enrolled_can_never_approve(db, world, make_officer):
    # Even an officer holding both a station post and an ASP post (acting as ASP) cannot.
    contact = enrol(world)
    asp_post = world["asp"].test_post
    maker_as_asp = Principal(officer=world["constable"], post=asp_post, session=None)
    with pytest.raises(enrolment.WorkflowError):
        enrolment.decide_enrolment(maker_as_asp, contact.id, contact.version, "approve")
    assert contact.status == ContactStatus.PENDING


@pytest.mark.parametrize("role", ["constable", "station_officer", "circle_officer", "control_room"])
def test_posts_without_approval_rights_cannot_decide(db, world, make_officer, state, role):
    contact = enrol(world)
    unit = {
        "constable": world["station"],
        "station_officer": world["station"],
        "circle_officer": world["station"].parent,
        "control_room": state,
    }[role]
    with pytest.raises(enrolment.WorkflowError):
        enrolment.decide_enrolment(
            principal(make_officer(role, unit)), contact.id, contact.version, "approve"
        )


def test_an_asp_of_another_district_gets_not_found(db, world):
    contact = enrol(world)
    with pytest.raises(NotInScope):
        enrolment.decide_enrolment(
            principal(world["other_asp"]), contact.id, contact.version, "approve"
        )


@pytest.mark.parametrize(
    ("reason", "note", "ok"),
    [
        ("wrong_number", "", True),
        ("other", "", False),
        ("other", "moved to Delhi", True),
        ("because", "", False),
    ],
)
def test_a_rejection_needs_a_reason_from_the_list(db, world, reason, note, ok):
    contact = enrol(world)
    if ok:
        enrolment.decide_enrolment(
            principal(world["asp"]), contact.id, contact.version, "reject", reason, note
        )
        assert (contact.status, contact.decision_reason) == (ContactStatus.REJECTED, reason)
    else:
        with pytest.raises(enrolment.WorkflowError):
            enrolment.decide_enrolment(
                principal(world["asp"]), contact.id, contact.version, "reject", reason, note
            )
        assert contact.status == ContactStatus.PENDING


def test_a_decided_enrolment_cannot_be_decided_again(db, world):
    contact = enrol(world)
    asp = principal(world["asp"])
    enrolment.decide_enrolment(asp, contact.id, contact.version, "approve")
    with pytest.raises(AlreadyDecided, match="already decided by"):
        enrolment.decide_enrolment(
            principal(world["second_asp"]), contact.id, 1, "reject", "duplicate"
        )
    assert contact.status == ContactStatus.ACTIVE


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ContactStatus.ACTIVE, "resubmit"),
        (ContactStatus.PENDING, "remove"),
        (ContactStatus.INACTIVE, "approve"),
        (ContactStatus.INACTIVE, "resubmit"),
        (ContactStatus.REJECTED, "remove"),
        (ContactStatus.REJECTED, "approve"),
    ],
)
def test_invalid_transitions_are_refused(status, action):
    with pytest.raises(InvalidTransition):
        enrolment.target_status(status, action)


@pytest.mark.parametrize(
    ("status", "action", "result"),
    [
        (ContactStatus.PENDING, "approve", ContactStatus.ACTIVE),
        (ContactStatus.PENDING, "reject", ContactStatus.REJECTED),
        (ContactStatus.REJECTED, "resubmit", ContactStatus.PENDING),
        (ContactStatus.ACTIVE, "remove", ContactStatus.INACTIVE),
    ],
)
def test_valid_transitions(status, action, result):
    assert enrolment.target_status(status, action) == result


def test_a_rejected_enrolment_is_corrected_and_resubmitted_with_both_rounds_in_history(db, world):
    contact = enrol(world, mobile="98765 43211")
    enrolment.decide_enrolment(
        principal(world["asp"]), contact.id, contact.version, "reject", "wrong_number"
    )
    enrolment.resubmit(principal(world["constable"]), contact.id, details(mobile="98765 43212"))
    assert (contact.status, contact.mobile) == (ContactStatus.PENDING, "+919876543212")
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_type == "contacts", AuditEvent.target_id == contact.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "roster.contact_enrolled",
        "enrolment.rejected",
        "enrolment.resubmitted",
        "enrolment.approved",
    ]


def test_a_correction_shows_old_values_until_approved(db, world):
    contact = enrol(world)
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    proposal = enrolment.propose_correction(
        principal(world["constable"]),
        contact.id,
        details(name="Ram Kishor Sharma", mobile="9876500000"),
    )
    assert contact.name == "Ram Kishore" and contact.mobile == "+919876543210"
    changes = enrolment.proposed_changes(proposal)
    assert (changes["mobile"], changes["name"]) == ("+919876500000", "Ram Kishor Sharma")
    assert "category" not in changes  # unchanged fields are not part of the proposal
    enrolment.decide_proposal(principal(world["asp"]), proposal.id, proposal.version, "approve")
    assert (contact.name, contact.mobile) == ("Ram Kishor Sharma", "+919876500000")
    assert proposal.status == ProposalStatus.APPROVED


def test_a_move_to_another_village_of_the_station_is_a_correction(db, world):
    contact = enrol(world)
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    proposal = enrolment.propose_move(
        principal(world["constable"]), contact.id, world["other_place"]
    )
    enrolment.decide_proposal(principal(world["asp"]), proposal.id, proposal.version, "approve")
    assert contact.place_id == world["other_place"].id


def test_an_approved_removal_leaves_the_roster_but_keeps_the_record(db, world):
    contact = enrol(world)
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    proposal = enrolment.propose_removal(
        principal(world["constable"]), contact.id, InactiveReason.DECEASED, "passed away last week"
    )
    assert contact.status == ContactStatus.ACTIVE
    enrolment.decide_proposal(principal(world["asp"]), proposal.id, proposal.version, "approve")
    assert (contact.status, contact.inactive_reason) == (
        ContactStatus.INACTIVE,
        InactiveReason.DECEASED,
    )
    assert db.session.get(Contact, contact.id).name == "Ram Kishore"


def test_a_rejected_correction_changes_nothing(db, world):
    contact = enrol(world)
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    proposal = enrolment.propose_correction(
        principal(world["constable"]), contact.id, details(mobile="9876500000")
    )
    enrolment.decide_proposal(
        principal(world["asp"]), proposal.id, proposal.version, "reject", "wrong_number"
    )
    assert contact.mobile == "+919876543210"


def test_erasure_removes_personal_data_and_the_audit_chain_stays_valid(db, world):
    contact = enrol(world)
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    enrolment.erase(principal(world["asp"]), contact.id, "citizen asked in writing")
    db.session.commit()
    erased = db.session.get(Contact, contact.id)
    assert (erased.name, erased.mobile, erased.name_other, erased.address) == (
        enrolment.ERASED_NAME,
        None,
        "",
        "",
    )
    assert erased.status == ContactStatus.INACTIVE
    assert audit.verify_chain().ok
    dump = " ".join(
        str(v) for e in db.session.scalars(select(AuditEvent)) for v in (e.detail, e.target_id)
    )
    assert "Ram" not in dump and "9876543210" not in dump


# ---- decided exactly once, under concurrency (SQLite and PostgreSQL) ---------------------------


def test_two_asps_deciding_at_once_make_exactly_one_decision(app, db, world):
    contact = enrol(world)
    contact_id, version = contact.id, contact.version
    first, second = world["asp"].id, world["second_asp"].id
    db.session.commit()
    results = run_together(
        app,
        [
            lambda: enrolment.decide_enrolment(
                principal_in_thread(first), contact_id, version, "approve"
            ),
            lambda: enrolment.decide_enrolment(
                principal_in_thread(second), contact_id, version, "reject", "duplicate"
            ),
        ],
    )
    winners = [r for r in results if isinstance(r, Contact)]
    losers = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(winners) == 1 and len(losers) == 1, results
    db.session.expire_all()
    decided = events(db, "enrolment.approved") + events(db, "enrolment.rejected")
    assert decided == 1
    assert audit.verify_chain().ok


def test_a_bulk_approval_overlapping_a_single_decision_decides_each_once(app, db, world):
    contacts = [enrol(world, mobile=f"98765{n:05d}", name=f"Citizen {n}") for n in range(6)]
    seen = {c.id: c.version for c in contacts}
    target = contacts[2].id
    first, second = world["asp"].id, world["second_asp"].id
    db.session.commit()
    results = run_together(
        app,
        [
            lambda: enrolment.bulk_approve(principal_in_thread(first), seen),
            lambda: enrolment.decide_enrolment(
                principal_in_thread(second), target, seen[target], "reject", "duplicate"
            ),
        ],
    )
    bulk = results[0]
    assert isinstance(bulk, enrolment.BulkOutcome), results
    single_won = isinstance(results[1], Contact)
    assert len(bulk.approved) == (5 if single_won else 6)
    db.session.expire_all()
    decisions = events(db, "enrolment.approved") + events(db, "enrolment.rejected")
    assert decisions == 6
    statuses = {c: db.session.get(Contact, c).status for c in seen}
    assert all(s in (ContactStatus.ACTIVE, ContactStatus.REJECTED) for s in statuses.values())
    assert audit.verify_chain().ok


def test_contacts_have_no_caste_or_religion_fields():
    columns = {c.name for c in Contact.__table__.columns}
    assert not {"caste", "religion", "jati", "dharm"} & columns
    assert Script.DEVANAGARI.value == "deva" and ContactCategory.PRADHAN.value == "pradhan"
