"""The enrolment pages end to end: constable enrols, ASP decides, constable sees the outcome;
corrections, moves, removals, bulk approval, stale decisions, the JSON API, filters, the nav
badge, erasure and history."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cplan.models.base import utcnow
from cplan.models.roster import Contact, ContactProposal, ContactStatus, ProposalStatus
from cplan.services import enrolment, roster
from cplan.services.principal import Principal


@pytest.fixture
def world(make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    other_station = make_station(district, "Chhaprauli")
    other_district = make_district("Meerut", code="135")
    return {
        "district": district,
        "station": station,
        "other_station": other_station,
        "place": make_place("BIJROL", station=station, lgd_code="119300", name_hi="बिजरौल"),
        "second_place": make_place(
            "BAMNAULI", station=station, lgd_code="119301", name_hi="बमनौली"
        ),
        "far_place": make_place("CHHAPRAULI", station=other_station, lgd_code="119400"),
        "constable": make_officer("constable", station, name="Ramesh Constable", pno="PNO111111"),
        "far_constable": make_officer(
            "constable", other_station, name="Suresh Constable", pno="PNO222222"
        ),
        "asp": make_officer("asp", district, name="Anita ASP"),
        "second_asp": make_officer("asp", district, name="Vikram ASP"),
        "other_asp": make_officer("asp", other_district, name="Meerut ASP"),
    }


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def enrol(
    db, world, name="Ram Kishore", mobile="98765 43210", by="constable", place="place", **fields
):
    values = dict(name=name, mobile=mobile, category="teacher", consent_on=date(2026, 1, 1))
    values.update(fields)
    contact = roster.enrol(principal(world[by]), world[place], roster.ContactDetails(**values))
    db.session.commit()
    return contact


def approved(db, world, **fields):
    contact = enrol(db, world, **fields)
    enrolment.decide_enrolment(
        principal(world["second_asp"]), contact.id, contact.version, "approve"
    )
    db.session.commit()
    return contact


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# ---- enrol, decide, see the outcome
# ---------------------------------------------------------------


def test_a_constable_enrols_sees_it_pending_and_then_sees_the_asps_approval(
    db, world, client, login_as
):
    login_as(world["constable"])
    response = client.post(
        f"/roster/places/{world['place'].id}/enrol",
        data={
            "name": "Ram Kishore",
            "mobile": "98765 43210",
            "category": "teacher",
            "gender": "male",
            "consent_on": "2026-01-01",
            "consent_language": "hi",
        },
    )
    assert response.status_code == 302
    mine = page(client, "/enrolments/mine")
    assert "Ram Kishore" in mine and "Pending approval" in mine
    contact = db.session.scalar(select(Contact))

    login_as(world["asp"])
    queue = page(client, "/enrolments/")
    assert "Ram Kishore" in queue and "BIJROL" in queue and "Baraut" in queue
    assert "9876543210" not in queue and "3210" in queue  # the ASP sees the number masked
    response = client.post(
        f"/enrolments/{contact.id}/approve",
        data={"version": contact.version},
        follow_redirects=True,
    )
    assert "is approved and joins the roster" in response.get_data(as_text=True)
    assert "Ram Kishore" not in page(client, "/enrolments/")

    login_as(world["constable"])
    mine = page(client, "/enrolments/mine")
    assert "Active" in mine and "Anita ASP" in mine


def test_a_rejection_shows_its_reason_and_the_resubmission_keeps_both_rounds(
    db, world, client, login_as
):
    contact = enrol(db, world)
    login_as(world["asp"])
    client.post(
        f"/enrolments/{contact.id}/reject",
        data={"version": contact.version, "reason": "wrong_number", "note": "Belongs to his son"},
    )
    db.session.refresh(contact)
    assert contact.status == ContactStatus.REJECTED

    login_as(world["constable"])
    mine = page(client, "/enrolments/mine")
    assert "Rejected" in mine and "Wrong number" in mine and "Belongs to his son" in mine
    form = page(client, f"/enrolments/contacts/{contact.id}/resubmit")
    assert "Wrong number" in form and 'value="Ram Kishore"' in form
    response = client.post(
        f"/enrolments/contacts/{contact.id}/resubmit",
        data={
            "name": "Ram Kishore",
            "mobile": "98765 43211",
            "category": "teacher",
            "gender": "male",
            "consent_on": "2026-01-01",
            "consent_language": "hi",
        },
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert contact.status == ContactStatus.PENDING and contact.mobile == "+919876543211"
    history = page(client, f"/enrolments/contacts/{contact.id}/history")
    assert (
        history.index("Enrolled")
        < history.index("Enrolment rejected")
        < history.index("Corrected and sent again")
    )


def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(db, world, client, login_as):
    contact = enrol(db, world)
    login_as(world["asp"])
    response = client.post(
        f"/enrolments/{contact.id}/reject",
        data={"version": contact.version, "reason": ""},
        follow_redirects=True,
    )
    assert "Choose a reason from the list." in response.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.status == ContactStatus.PENDING


def test_a_correction_is_shown_before_and_after_and_the_roster_keeps_old_values_until_approved(
    db, world, client, login_as
):
    contact = approved(db, world)
    login_as(world["constable"])
    form = page(client, f"/enrolments/contacts/{contact.id}/correct")
    assert 'value="Ram Kishore"' in form and 'value="+919876543210"' in form
    # The computer's spelling of the other script is not prefilled (kept, it would count as
    # checked).
    assert f'value="{contact.name_other}"' not in form
    response = client.post(
        f"/enrolments/contacts/{contact.id}/correct",
        data={
            "name": "Ram Kishore",
            "name_other": "",
            "mobile": "91234 56789",
            "category": "doctor",
        },
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert contact.mobile == "+919876543210" and contact.category == "teacher"  # not yet
    assert "+919876543210" in page(client, f"/roster/contacts/{contact.id}")

    login_as(world["asp"])
    proposals = page(client, "/enrolments/proposals")
    assert proposals.count("compare-changed") == 2  # mobile and category
    assert "+91 ******6789" in proposals and "Doctor" in proposals and "Teacher" in proposals
    proposal = db.session.scalar(select(ContactProposal))
    client.post(f"/enrolments/proposals/{proposal.id}/approve", data={"version": proposal.version})
    db.session.refresh(contact)
    assert contact.mobile == "+919123456789" and contact.category == "doctor"

    login_as(world["constable"])
    mine = page(client, "/enrolments/mine")
    assert "My corrections and removals" in mine and "Approved" in mine


def test_a_move_shows_both_village_names(db, world, client, login_as):
    contact = approved(db, world)
    login_as(world["constable"])
    form = page(client, f"/enrolments/contacts/{contact.id}/move")
    assert "BAMNAULI" in form and "CHHAPRAULI" not in form
    client.post(
        f"/enrolments/contacts/{contact.id}/move", data={"place": str(world["second_place"].id)}
    )
    login_as(world["asp"])
    proposals = page(client, "/enrolments/proposals")
    assert "BIJROL" in proposals and "BAMNAULI" in proposals and "बमनौली" in proposals


def test_a_removal_is_proposed_approved_and_leaves_the_history(db, world, client, login_as):
    contact = approved(db, world)
    login_as(world["constable"])
    client.post(
        f"/enrolments/contacts/{contact.id}/remove",
        data={"reason": "deceased", "note": "Died in March"},
    )
    db.session.refresh(contact)
    assert contact.status == ContactStatus.ACTIVE

    login_as(world["asp"])
    proposals = page(client, "/enrolments/proposals")
    assert "Deceased" in proposals and "Died in March" in proposals
    proposal = db.session.scalar(select(ContactProposal))
    client.post(
        f"/enrolments/proposals/{proposal.id}/reject",
        data={"version": proposal.version, "reason": "other", "note": "He is alive"},
    )
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.REJECTED
    login_as(world["constable"])
    client.post(
        f"/enrolments/contacts/{contact.id}/remove", data={"reason": "moved", "note": "To Delhi"}
    )
    login_as(world["asp"])
    second = db.session.scalar(
        select(ContactProposal).where(ContactProposal.status == ProposalStatus.PENDING)
    )
    client.post(f"/enrolments/proposals/{second.id}/approve", data={"version": second.version})
    db.session.refresh(contact)
    assert contact.status == ContactStatus.INACTIVE
    history = page(client, f"/enrolments/contacts/{contact.id}/history")
    assert "Removal rejected" in history and "Removal approved" in history


# ---- bulk and stale decisions
# -----------------------------------------------------------------------


def test_bulk_approval_confirms_the_count_then_approves_and_reports_what_was_skipped(
    db, world, client, login_as
):
    contacts = [
        enrol(db, world, name=name, mobile=f"98765 4321{n}")
        for n, name in enumerate(["Ram Kishore", "Shyam Lal", "Geeta Devi"])
    ]
    picks = [f"{c.id}:{c.version}" for c in contacts]
    login_as(world["asp"])
    confirm = page(client, "/enrolments/bulk?" + "&".join(f"pick={p}" for p in picks))
    assert "Approve 3 enrolments?" in confirm and "Geeta Devi" in confirm

    # Meanwhile another ASP decides one of them.
    enrolment.decide_enrolment(
        principal(world["second_asp"]), contacts[0].id, contacts[0].version, "reject", "duplicate"
    )
    db.session.commit()
    response = client.post("/enrolments/bulk", data={"pick": picks}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "2 enrolments approved." in text
    assert "Ram Kishore was not approved: Already decided by Vikram ASP at" in text
    for contact in contacts:
        db.session.refresh(contact)
    assert [c.status for c in contacts] == [
        ContactStatus.REJECTED,
        ContactStatus.ACTIVE,
        ContactStatus.ACTIVE,
    ]


@pytest.fixture
def meerut_pending(db, world, make_station, make_place, make_officer):
    """A pending enrolment of another district (outside the Baghpat ASP's scope)."""
    meerut = world["other_asp"].test_post.unit
    place = make_place("DABTHALA", station=make_station(meerut, "Sardhana"), lgd_code="120001")
    world.update(meerut_place=place, meerut_constable=make_officer("constable", place.station))
    return enrol(
        db,
        world,
        name="Meerut Citizen",
        mobile="91234 56780",
        by="meerut_constable",
        place="meerut_place",
    )


@pytest.mark.parametrize("extra", ["other_district", "unknown"])
def test_a_bulk_approval_naming_an_out_of_scope_or_unknown_id_decides_nothing(
    db, world, client, login_as, meerut_pending, extra
):
    """Issue 14, finding 9: a bulk approval with some out-of-scope ids approved the rest."""
    from cplan.models.audit import AuditEvent

    ours = [
        enrol(db, world, name=name, mobile=f"98765 4321{n}")
        for n, name in enumerate(["Ram Kishore", "Shyam"])
    ]
    stranger = meerut_pending.id if extra == "other_district" else meerut_pending.id + 1000
    picks = [f"{c.id}:{c.version}" for c in ours] + [f"{stranger}:1"]
    login_as(world["asp"])

    for response in (
        client.get(
            "/enrolments/bulk?" + "&".join(f"pick={p}" for p in picks), follow_redirects=True
        ),
        client.post("/enrolments/bulk", data={"pick": picks}, follow_redirects=True),
    ):
        text = response.get_data(as_text=True)
        assert (
            "Nothing was approved: 1 of the ticked enrolments cannot be found in your area." in text
        )
        assert (
            "Meerut Citizen" not in text
            and "Approve 3" not in text
            and "enrolments approved" not in text
        )
    for contact in [*ours, meerut_pending]:
        db.session.refresh(contact)
        assert contact.status == ContactStatus.PENDING
    refusals = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "enrolment.bulk_refused")
    ).all()
    assert [
        (e.outcome.value, e.detail_data["unseen_ids"], e.detail_data["asked"]) for e in refusals
    ] == [("denied", [stranger], 3)] * 2
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enrolment.approved"))
        is None
    )


def test_the_bulk_service_refuses_whole_when_an_id_is_out_of_scope(db, world, meerut_pending):
    ours = enrol(db, world, name="Shyam Lal", mobile="98765 43219")
    with pytest.raises(enrolment.BulkRefused) as refused:
        enrolment.bulk_approve(
            principal(world["asp"]), {ours.id: ours.version, meerut_pending.id: 1}
        )
    assert refused.value.unseen == [meerut_pending.id]
    db.session.refresh(ours)
    assert ours.status == ContactStatus.PENDING
    # The same request without the stranger goes through.
    assert enrolment.bulk_approve(principal(world["asp"]), {ours.id: ours.version}).approved == [
        ours.id
    ]


def test_a_stale_version_shows_who_decided_first(db, world, client, login_as):
    contact = enrol(db, world)
    seen = contact.version
    enrolment.decide_enrolment(principal(world["second_asp"]), contact.id, seen, "approve")
    db.session.commit()
    login_as(world["asp"])
    response = client.post(
        f"/enrolments/{contact.id}/reject",
        data={"version": seen, "reason": "duplicate"},
        follow_redirects=True,
    )
    assert "Already decided by Vikram ASP at" in response.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.status == ContactStatus.ACTIVE


# ---- the JSON API
# ----------------------------------------------------------------------------------


def test_the_api_answers_200_to_the_winner_and_409_to_the_loser(db, world, client, login_as):
    contact = enrol(db, world)
    seen = contact.version
    login_as(world["asp"])
    won = client.post(
        f"/api/enrolments/{contact.id}/decision", json={"action": "approve", "version": seen}
    )
    assert won.status_code == 200 and won.json["status"] == "active"
    login_as(world["second_asp"])
    lost = client.post(
        f"/api/enrolments/{contact.id}/decision",
        json={"action": "reject", "version": seen, "reason": "duplicate"},
    )
    assert lost.status_code == 409
    assert lost.json["error"].lower().startswith("already decided by anita asp at")
    assert lost.json["decided_by"] == "Anita ASP"


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("other_asp", {"action": "approve"}, 404),
        ("asp", {"action": "reject", "reason": "rude"}, 400),
        ("asp", {"action": "reject", "reason": "other"}, 400),  # "other" needs a note
        ("asp", {"action": "promote"}, 400),
        ("asp", {"action": "approve", "version": "1"}, 400),
        ("constable", {"action": "approve"}, 403),
    ],
)
def test_the_api_refuses_what_it_must(db, world, client, login_as, who, body, status):
    contact = enrol(db, world)
    login_as(world[who])
    response = client.post(
        f"/api/enrolments/{contact.id}/decision", json={"version": contact.version, **body}
    )
    assert response.status_code == status
    assert "error" in response.json
    db.session.refresh(contact)
    assert contact.status == ContactStatus.PENDING


# ---- the queue: filters, SLA, navigation, permissions
# -------------------------------------------------


def test_the_queue_filters_by_station_category_submitter_and_age_and_highlights_late_ones(
    db, world, client, login_as
):
    near = enrol(db, world, name="Ram Kishore")
    far = enrol(
        db,
        world,
        name="Shyam Lal",
        mobile="91234 56789",
        by="far_constable",
        place="far_place",
        category="doctor",
    )
    far.enrolled_at = utcnow() - timedelta(days=10)
    db.session.commit()
    login_as(world["asp"])
    everything = page(client, "/enrolments/")
    assert "Ram Kishore" in everything and "Shyam Lal" in everything
    assert everything.count("sla-overdue") == 1 and "10 days" in everything
    assert everything.index("Shyam Lal") < everything.index("Ram Kishore")  # oldest first

    def names(query):
        text = page(client, "/enrolments/?" + query)
        return {name for name in ("Ram Kishore", "Shyam Lal") if name in text}

    assert names(f"station={world['station'].id}") == {"Ram Kishore"}
    assert names(f"station={world['station'].id}&place={world['place'].id}") == {"Ram Kishore"}
    assert names("category=doctor") == {"Shyam Lal"}
    assert names("submitter=pno111111") == {"Ram Kishore"}
    assert names("age=7") == {"Shyam Lal"}
    assert names("age=९") == {"Ram Kishore", "Shyam Lal"}  # not a choice: ignored
    assert near.id and far.id


def test_the_navigation_shows_the_pending_count_to_approvers_only(db, world, client, login_as):
    enrol(db, world, name="Ram Kishore")
    enrol(db, world, name="Shyam Lal", mobile="91234 56789")
    login_as(world["asp"])
    home = page(client, "/")
    assert "Approvals" in home and '<span class="badge badge-count"' in home
    assert 'title="Waiting for a decision">2</span>' in home
    login_as(world["constable"])
    home = page(client, "/")
    assert "Approvals" not in home and "My submissions" in home


@pytest.mark.parametrize(
    "url", ["/enrolments/", "/enrolments/proposals", "/enrolments/bulk?pick=1:1"]
)
def test_a_constable_cannot_open_the_approval_pages(db, world, client, login_as, url):
    login_as(world["constable"])
    assert client.get(url).status_code == 403


def test_an_asp_of_another_district_gets_404_for_decisions_and_history(db, world, client, login_as):
    contact = enrol(db, world)
    login_as(world["other_asp"])
    assert (
        client.post(
            f"/enrolments/{contact.id}/approve", data={"version": contact.version}
        ).status_code
        == 404
    )
    assert client.get(f"/enrolments/contacts/{contact.id}/history").status_code == 404
    assert "Ram Kishore" not in page(client, "/enrolments/")
    db.session.refresh(contact)
    assert contact.status == ContactStatus.PENDING


# ---- erasure and history -------------------------------------------------------------------------


def test_erasure_removes_the_name_from_pages_while_the_history_keeps_the_events(
    db, world, client, login_as
):
    contact = approved(db, world)
    login_as(world["asp"])
    assert "Ram Kishore" in page(client, f"/enrolments/contacts/{contact.id}/erase")
    refused = client.post(
        f"/enrolments/contacts/{contact.id}/erase", data={"note": "Asked at the station"}
    )
    assert refused.status_code == 400  # the confirmation box was not ticked
    response = client.post(
        f"/enrolments/contacts/{contact.id}/erase",
        data={"note": "Asked at the station on 2 March", "confirm": "y"},
    )
    assert response.status_code == 302
    history = page(client, f"/enrolments/contacts/{contact.id}/history")
    assert "Ram Kishore" not in history and "राम" not in history
    for label in ("Enrolled", "Enrolment approved", "Personal data erased on request"):
        assert label in history
    assert "Ram Kishore" not in page(client, f"/roster/contacts/{contact.id}")
    assert "Ram Kishore" not in page(client, f"/roster/places/{world['place'].id}")


def test_station_staff_cannot_erase(db, world, client, login_as):
    contact = approved(db, world)
    login_as(world["constable"])
    assert client.get(f"/enrolments/contacts/{contact.id}/erase").status_code == 403


def test_the_api_keeps_csrf_on_and_accepts_the_token_in_a_header(app, db, world, client, login_as):
    import re

    contact = enrol(db, world)
    login_as(world["asp"])
    app.config["WTF_CSRF_ENABLED"] = True
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(client, "/enrolments/")).group(1)
    url = f"/api/enrolments/{contact.id}/decision"
    body = {"action": "approve", "version": contact.version}
    refused = client.post(url, json=body)
    assert refused.status_code == 400 and "error" in refused.json
    accepted = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200 and accepted.json["status"] == "active"


def test_already_decided_names_the_time_in_ist(db, world, client, login_as):
    from datetime import UTC, datetime

    contact = enrol(db, world)
    seen = contact.version
    enrolment.decide_enrolment(
        principal(world["second_asp"]),
        contact.id,
        seen,
        "approve",
        now=datetime(2026, 3, 2, 4, 30, tzinfo=UTC),
    )
    db.session.commit()
    login_as(world["asp"])
    response = client.post(
        f"/api/enrolments/{contact.id}/decision", json={"action": "approve", "version": seen}
    )
    assert response.status_code == 409
    assert "10:00" in response.json["error"]  # 04:30 UTC is 10:00 IST


def test_the_queue_and_history_read_in_hindi(db, world, client, login_as):
    contact = enrol(db, world)
    login_as(world["asp"])
    client.post("/language/hi", data={"next": "/"})
    queue = page(client, "/enrolments/")
    assert "स्वीकृति की प्रतीक्षा में नामांकन" in queue and "स्वीकृत करें" in queue
    history = page(client, f"/enrolments/contacts/{contact.id}/history")
    assert "नामांकित" in history


def test_the_contact_page_links_to_the_changes_each_post_may_make(db, world, client, login_as):
    contact = approved(db, world)
    login_as(world["constable"])
    text = page(client, f"/roster/contacts/{contact.id}")
    for endpoint in ("correct", "move", "remove", "history"):
        assert f"/enrolments/contacts/{contact.id}/{endpoint}" in text
    assert f"/enrolments/contacts/{contact.id}/erase" not in text
    login_as(world["asp"])
    text = page(client, f"/roster/contacts/{contact.id}")
    assert f"/enrolments/contacts/{contact.id}/erase" in text
    assert f"/enrolments/contacts/{contact.id}/correct" not in text


def test_the_queue_links_each_row_to_a_rejection_page_that_carries_the_version_seen(
    db, world, client, login_as
):
    contact = enrol(db, world)
    login_as(world["asp"])
    queue = page(client, "/enrolments/")
    link = (
        re.search(rf'href="(/enrolments/{contact.id}/reject\?[^"]+)"', queue)
        .group(1)
        .replace("&amp;", "&")
    )
    assert 'name="reason"' not in queue  # no rejection form in the rows: the page stays light
    form = page(client, link)
    assert "Ram Kishore" in form and 'name="reason"' in form
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    back = re.search(r'name="back" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post(
        f"/enrolments/{contact.id}/reject",
        data={"version": version, "back": back, "reason": "duplicate", "note": ""},
    )
    assert response.status_code == 302 and response.location.endswith("/enrolments/")
    db.session.refresh(contact)
    assert contact.status == ContactStatus.REJECTED and contact.decision_reason == "duplicate"
    # Opened again after the decision, the page says so instead of offering the form.
    response = client.get(link, follow_redirects=True)
    assert "decided already" in response.get_data(as_text=True)


def test_a_rejection_page_opened_before_a_correction_cannot_reject_the_corrected_record(
    db, world, client, login_as
):
    contact = enrol(db, world)
    login_as(world["asp"])
    form = page(client, f"/enrolments/{contact.id}/reject?version={contact.version}")
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    enrolment.decide_enrolment(
        principal(world["second_asp"]), contact.id, contact.version, "approve"
    )
    db.session.commit()
    response = client.post(
        f"/enrolments/{contact.id}/reject",
        data={"version": version, "reason": "duplicate"},
        follow_redirects=True,
    )
    assert "decided" in response.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.status == ContactStatus.ACTIVE


def test_the_queue_is_searched_by_name_number_village_and_station_and_sorted_either_way(
    db, world, client, login_as
):
    enrol(db, world, name="Ram Kishore")
    far = enrol(
        db, world, name="Shyam Lal", mobile="91234 56789", by="far_constable", place="far_place"
    )
    far.enrolled_at = utcnow() - timedelta(days=10)
    db.session.commit()
    login_as(world["asp"])

    def names(query):
        text = page(client, "/enrolments/?" + query)
        return {name for name in ("Ram Kishore", "Shyam Lal") if name in text}

    assert names("q=shyam") == {"Shyam Lal"}  # name, any case
    assert names("q=456789") == {"Shyam Lal"}  # part of the mobile number
    assert names("q=Bijrol") == {"Ram Kishore"}  # village, in English
    assert names("q=बिजरौल") == {"Ram Kishore"}  # and in Hindi
    assert names("q=baraut") == {"Ram Kishore"}  # police station
    assert names("q=nobody") == set()
    assert names(f"q=ram&station={world['station'].id}") == {"Ram Kishore"}
    oldest = page(client, "/enrolments/")
    assert oldest.index("Shyam Lal") < oldest.index("Ram Kishore")
    newest = page(client, "/enrolments/?sort=new")
    assert newest.index("Ram Kishore") < newest.index("Shyam Lal")
    assert '<option selected value="new">' in newest  # the choice is kept on the page
