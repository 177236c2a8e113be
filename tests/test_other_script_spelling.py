"""A contact's name in the other script: the computer proposes it on "Check spelling", the officer
accepts or corrects it (then it counts as checked), or leaves it to the computer (marked as
not checked), on the enrol, correction and resubmission forms."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from cplan.models.audit import AuditEvent
from cplan.models.roster import Contact, ContactProposal
from cplan.services import enrolment, roster
from cplan.services.principal import Principal
from cplan.services.roster import ContactDetails

NAME = "राम किशोर शर्मा"


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer, login_as):
    baghpat = make_district("Baghpat", code="124")
    baraut = make_station(baghpat, "Baraut")
    world = {
        "bijrol": make_place("BIJROL", station=baraut, lgd_code="119300"),
        "constable": make_officer("constable", baraut),
        "asp": make_officer("asp", baghpat),
    }
    db.session.commit()
    login_as(world["constable"])
    return world


def form_data(**changes):
    data = {
        "name": NAME,
        "name_other": "",
        "mobile": "98765 43210",
        "category": "teacher",
        "gender": "male",
        "consent_on": date.today().isoformat(),
        "consent_language": "hi",
    }
    data.update(changes)
    return data


def field_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return value.group(1) if value else None


def contacts(db):
    return list(db.session.scalars(select(Contact).order_by(Contact.id)))


def computer_spelling(app, name=NAME):
    with app.test_request_context():
        return roster.other_script_spelling(name)


def test_check_spelling_proposes_the_computers_spelling_and_saves_nothing(app, client, db, world):
    url = f"/roster/places/{world['bijrol'].id}/enrol"
    response = client.post(url, data=form_data(mobile="", check_spelling="Check spelling"))
    assert response.status_code == 200  # no complaint about the number: nothing was being saved
    page = response.get_data(as_text=True)
    proposal = computer_spelling(app)
    assert proposal and field_value(page, "name_other") == proposal
    assert field_value(page, "proposed") == proposal
    assert "The computer's spelling of the name: correct it if needed." in page.replace(
        "&#39;", "'"
    )
    assert 'id="mobile-error"' not in page
    assert contacts(db) == []
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_spelling_accepted_or_corrected_by_the_officer_counts_as_checked(app, client, db, world):
    url = f"/roster/places/{world['bijrol'].id}/enrol"
    proposal = computer_spelling(app)
    assert (
        client.post(url, data=form_data(name_other=proposal, proposed=proposal)).status_code == 302
    )
    corrected = "Ram Kishor Sharma"
    client.post(
        url,
        data=form_data(
            name="राम किशोर वर्मा",
            mobile="98765 43211",
            name_other=corrected,
            proposed=computer_spelling(app, "राम किशोर वर्मा"),
        ),
    )
    accepted, edited = contacts(db)
    assert (accepted.name_other, accepted.name_other_generated) == (proposal, False)
    assert (edited.name_other, edited.name_other_generated) == (corrected, False)


def test_an_empty_field_is_spelt_by_the_computer_and_stays_marked_as_not_checked(
    app, client, db, world
):
    client.post(f"/roster/places/{world['bijrol'].id}/enrol", data=form_data())
    [contact] = contacts(db)
    assert (contact.name_other, contact.name_other_generated) == (computer_spelling(app), True)


def test_a_proposal_left_over_from_a_name_changed_since_is_not_saved_as_checked(
    app, client, db, world
):
    stale = computer_spelling(app, "राम किशोर")
    client.post(
        f"/roster/places/{world['bijrol'].id}/enrol",
        data=form_data(name_other=stale, proposed=stale),
    )
    [contact] = contacts(db)
    assert (contact.name_other, contact.name_other_generated) == (computer_spelling(app), True)


def test_check_spelling_never_overwrites_what_the_officer_wrote(app, client, world):
    url = f"/roster/places/{world['bijrol'].id}/enrol"
    page = client.post(url, data=form_data(name_other="Ram Kishor", check_spelling="1")).get_data(
        as_text=True
    )
    assert field_value(page, "name_other") == "Ram Kishor"
    # ...but replaces its own earlier proposal when the name changed.
    old = computer_spelling(app, "राम")
    page = client.post(
        url, data=form_data(name_other=old, proposed=old, check_spelling="1")
    ).get_data(as_text=True)
    assert field_value(page, "name_other") == computer_spelling(app)


def test_check_spelling_without_a_name_asks_for_the_name(client, db, world):
    response = client.post(
        f"/roster/places/{world['bijrol'].id}/enrol", data=form_data(name="", check_spelling="1")
    )
    assert response.status_code == 400
    errors = response.get_data(as_text=True).replace("&#39;", "'").split('id="name-error"')[1][:200]
    assert "Enter the contact's name." in errors
    assert contacts(db) == []


def _active_contact(db, world):
    constable, asp = world["constable"], world["asp"]
    contact = roster.enrol(
        Principal(constable, constable.test_post, None),
        world["bijrol"],
        ContactDetails(
            name=NAME, mobile="9876543210", category="teacher", consent_on=date(2025, 1, 1)
        ),
    )
    enrolment.decide_enrolment(
        Principal(asp, asp.test_post, None), contact.id, contact.version, "approve"
    )
    db.session.commit()
    return contact


def test_a_correction_offers_the_computers_spelling_and_its_approval_marks_it_checked(
    app, client, db, world, login_as
):
    with app.test_request_context():
        contact = _active_contact(db, world)
    assert contact.name_other_generated
    url = f"/enrolments/contacts/{contact.id}/correct"
    page = client.get(url).get_data(as_text=True)
    assert field_value(page, "name_other") in (
        None,
        "",
    )  # not prefilled: kept, it would count as checked
    assert "spelt by the computer and not checked" in page
    data = {"name": NAME, "name_other": "", "mobile": "98765 43210", "category": "teacher"}
    page = client.post(url, data={**data, "check_spelling": "1"}).get_data(as_text=True)
    assert field_value(page, "name_other") == contact.name_other
    # Correcting only the number leaves the spelling to the computer: no change to the name.
    assert client.post(url, data={**data, "mobile": "98765 43219"}).status_code == 302
    proposal = db.session.scalar(select(ContactProposal))
    assert enrolment.proposed_changes(proposal) == {"mobile": "+919876543219"}
    db.session.delete(proposal)
    db.session.commit()
    # Accepting the offered spelling is a change the approver sees, and approving it marks it
    # checked.
    response = client.post(
        url, data={**data, "name_other": contact.name_other, "proposed": contact.name_other}
    )
    assert response.status_code == 302
    proposal = db.session.scalar(select(ContactProposal))
    assert enrolment.proposed_changes(proposal) == {
        "name_other": contact.name_other,
        "name_other_generated": False,
    }
    login_as(world["asp"])
    assert 'class="compare-changed' in client.get("/enrolments/proposals").get_data(as_text=True)
    client.post(f"/enrolments/proposals/{proposal.id}/approve", data={"version": proposal.version})
    db.session.refresh(contact)
    assert not contact.name_other_generated
    page = client.get(f"/roster/contacts/{contact.id}").get_data(as_text=True)
    assert 'class="generated"' not in page


def test_a_resubmission_offers_the_spelling_again_and_saves_it_as_checked(app, client, db, world):
    constable, asp = world["constable"], world["asp"]
    with app.test_request_context():
        contact = roster.enrol(
            Principal(constable, constable.test_post, None),
            world["bijrol"],
            ContactDetails(
                name=NAME, mobile="9876543210", category="teacher", consent_on=date(2025, 1, 1)
            ),
        )
        enrolment.decide_enrolment(
            Principal(asp, asp.test_post, None),
            contact.id,
            contact.version,
            "reject",
            reason="wrong_number",
        )
    db.session.commit()
    url = f"/enrolments/contacts/{contact.id}/resubmit"
    assert field_value(client.get(url).get_data(as_text=True), "name_other") in (None, "")
    data = {**form_data(), "consent_on": "2025-01-01"}
    page = client.post(url, data={**data, "check_spelling": "1"}).get_data(as_text=True)
    proposal = field_value(page, "name_other")
    assert proposal == contact.name_other
    assert (
        client.post(url, data={**data, "name_other": proposal, "proposed": proposal}).status_code
        == 302
    )
    db.session.refresh(contact)
    assert contact.status == "pending" and not contact.name_other_generated
