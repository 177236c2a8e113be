"""The broadcast audiences beyond a station's villages: the sensitive places of the election
active in the district, and the contacts out of date under the verification policy. Each still
leaves out inactive, opted-out and election-marked contacts, and confidential ones unless an ASP
or above sends."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cplan.models import ContactStatus
from cplan.models.broadcasts import AudienceKind, BroadcastMessage
from cplan.models.elections import (
    ElectionAuthority,
    ElectionKind,
    ElectionRole,
    SensitivityLevel,
    SensitivityReason,
)
from cplan.services import broadcasts, election_marks, elections, sensitive_places
from cplan.services.errors import WorkflowError
from tests import test_broadcasts as base
from tests.test_broadcasts import DAY, compose, principal

world, add_contacts = base.world, base.add_contacts  # the broadcast tests' fixtures


@pytest.fixture
def election(world, make_officer, state):
    control_room = make_officer("control_room", state)
    return elections.create_election(
        principal(control_room),
        kind=ElectionKind.GRAM_PANCHAYAT,
        authority=ElectionAuthority.STATE_ELECTION_COMMISSION,
        name_en="UP panchayat elections",
        phases=[elections.PhasePlan(1, date.today() + timedelta(days=5), [world["baghpat"]])],
    )


def recipients(db, broadcast):
    return set(
        db.session.scalars(
            select(BroadcastMessage.contact_id).where(BroadcastMessage.broadcast_id == broadcast.id)
        )
    )


def grade(world, election, place):
    return sensitive_places.set_grade(
        principal(world["sp"]),
        election,
        place,
        level=SensitivityLevel.HYPER_SENSITIVE,
        reasons=[next(iter(SensitivityReason))],
    )


def test_the_sensitive_places_audience_reaches_only_graded_villages(
    db, world, add_contacts, election
):
    graded = add_contacts(world["bijrol"], 2)
    add_contacts(world["bamnauli"], 3)  # not graded
    add_contacts(world["sisana"], 2)  # graded, but of another station
    (candidate,) = add_contacts(world["bijrol"], 1)
    add_contacts(world["bijrol"], 1, status=ContactStatus.INACTIVE)
    add_contacts(world["bijrol"], 1, opted_out_at=DAY)
    (secret,) = add_contacts(world["bijrol"], 1, confidential=True)
    grade(world, election, world["bijrol"])
    grade(world, election, world["sisana"])
    election_marks.mark_contact(
        principal(world["baraut_so"]), candidate, ElectionRole.CANDIDATE, election=election
    )

    draft = compose(world["baraut_so"], world["baraut"], audience="sensitive")
    assert draft.audience.kind == AudienceKind.SENSITIVE and draft.audience_size == 2
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    assert recipients(db, broadcast) == {contact.id for contact in graded}
    assert broadcast.audience == "sensitive"
    # The ASP may see the confidential contact, so it is included when the ASP sends.
    by_asp = broadcasts.submit(
        principal(world["asp"]),
        compose(world["asp"], world["baraut"], audience="sensitive"),
        now=DAY,
    )
    assert recipients(db, by_asp) == {contact.id for contact in graded} | {secret.id}


def test_without_an_active_election_the_sensitive_places_audience_is_refused(
    db, world, add_contacts
):
    add_contacts(world["bijrol"], 2)
    with pytest.raises(WorkflowError, match="No election is active"):
        compose(world["baraut_so"], world["baraut"], audience="sensitive")


def test_the_out_of_date_audience_reaches_contacts_not_verified_within_the_policy(
    app, db, world, add_contacts, election
):
    policy = app.config.get("VERIFICATION_POLICY_DAYS", 180)
    never = add_contacts(world["bijrol"], 2)
    (long_ago,) = add_contacts(
        world["bamnauli"], 1, last_verified_at=DAY - timedelta(days=policy + 5)
    )
    add_contacts(world["bijrol"], 3, last_verified_at=DAY - timedelta(days=3))  # current
    add_contacts(world["bijrol"], 1, status=ContactStatus.INACTIVE)
    add_contacts(world["bijrol"], 1, opted_out_at=DAY)
    add_contacts(world["bijrol"], 1, confidential=True)
    add_contacts(world["sisana"], 2)  # another station
    (candidate,) = add_contacts(world["bijrol"], 1)
    election_marks.mark_contact(
        principal(world["baraut_so"]), candidate, ElectionRole.POLLING_AGENT, election=election
    )

    draft = compose(world["baraut_so"], world["baraut"], audience="out_of_date")
    assert draft.audience_size == 3
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    assert recipients(db, broadcast) == {contact.id for contact in never} | {long_ago.id}
    # Villages chosen on the form do not narrow another kind of audience.
    assert (
        compose(
            world["asp"],
            world["baraut"],
            audience="out_of_date",
            place_ids=[world["bamnauli"].id],
        ).audience_size
        == 4
    )


def test_an_unknown_audience_is_refused(db, world, add_contacts):
    add_contacts(world["bijrol"], 1)
    with pytest.raises(WorkflowError, match="who receives"):
        compose(world["baraut_so"], world["baraut"], audience="everyone")


def test_the_compose_page_offers_the_audiences_and_previews_one(
    client, db, world, add_contacts, login_as, election
):
    add_contacts(world["bijrol"], 2)
    add_contacts(world["bamnauli"], 1)
    grade(world, election, world["bamnauli"])
    db.session.commit()
    login_as(world["baraut_so"])
    form = {
        "template": str(base.alert().id),
        "value_1": "the Baraut fair",
        "value_2": "112",
        "station": str(world["baraut"].id),
        "audience": "sensitive",
        "preview": "1",
    }
    page = client.post(f"/broadcasts/new?station={world['baraut'].id}", data=form)
    text = page.get_data(as_text=True)
    assert "sensitive places in the active election" in text
    assert "<dt>Recipients of the broadcast</dt><dd>1</dd>" in text
