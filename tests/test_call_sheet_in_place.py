"""The call sheet logs a call without reloading the sheet (issue 17): asked by its script
(``X-Cplan-Fragment: 1``), the post answers with only what changed (the message, the contact's
card, the tally with the suggested verdict) instead of a redirect to the whole sheet; it keeps
the CSRF check and the scope rules of the plain post, which works as before without the header.
The script itself is driven in a browser by tests/e2e/test_call_sheet.py."""

import re

import pytest
from sqlalchemy import func, select

from cplan.models import Contact, Incident, IncidentStatus, TimelineEntry
from cplan.models.incidents import EntryKind
from tests.test_home import add_contacts, build_world, page, report

IN_PLACE = {"X-Cplan-Fragment": "1"}


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    return build_world(make_district, make_station, make_place, make_officer, state)


@pytest.fixture
def incident(db, world):
    """A new incident of Bijrol, whose 4 active contacts are on its call sheet."""
    add_contacts(db, world["bijrol"], 4)
    incident = report(db, world, "baraut_constable", "bijrol")
    db.session.commit()
    return incident


def card_ids(html):
    return re.findall(r'id="contact-(\d+)"', html)


def calls_logged(db, incident):
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id, TimelineEntry.kind == EntryKind.CALL)
    )


def test_the_sheet_loads_its_script_from_the_app_deferred_and_without_inline_script(
    client, login_as, world, incident
):
    login_as(world["baraut_constable"])
    response = client.get(f"/incidents/{incident.id}/calls")
    html = response.get_data(as_text=True)
    assert re.search(r'<script src="/static/js/call-sheet\.js[^"]*" defer></script>', html)
    assert "<script>" not in html and "onclick" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'id="call-status" role="status"' in html and "data-call-sheet" in html
    # Without the script the forms post as before.
    assert html.count('class="call-outcome-form" method="post"') == 4
    with client.get("/static/js/call-sheet.js") as script:
        assert script.status_code == 200 and b"X-Cplan-Fragment" in script.data


def test_a_call_logged_in_place_answers_with_the_changed_card_and_tally_only(
    client, db, login_as, world, incident
):
    login_as(world["baraut_constable"])
    before = card_ids(page(client, f"/incidents/{incident.id}/calls"))
    called = before[2]

    response = client.post(
        f"/incidents/{incident.id}/calls",
        data={"contact_id": called, "outcome": "denied", "said": "All calm here"},
        headers=IN_PLACE,
    )

    assert response.status_code == 200  # not a redirect to the whole sheet
    assert response.headers["X-Cplan-Fragment"] == "call"
    assert "X-Cplan-Fragment" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<header" not in html  # a fragment, not the page
    assert card_ids(html) == [called]  # only the card of the contact just called
    card = html[html.index(f'id="contact-{called}"') :]
    assert "call-card-done" in html[: html.index(f'id="contact-{called}"')]
    assert 'class="badge tally-denied"' in card
    assert 'href="tel:' in card  # the Call button stays
    status = '<p class="call-status flash flash-success" id="call-status" role="status">'
    assert status + "Call recorded: Denied.</p>" in html
    assert '<div id="call-summary">' in html
    assert re.search(r'tally-denied"><span class="tally-count">1</span>', html)
    assert len(html) < 5000  # a card and a tally, not the 30 KB sheet
    # Recorded, and the new incident is verifying by itself on its first call.
    assert calls_logged(db, incident) == 1
    assert db.session.get(Incident, incident.id).status == IncidentStatus.VERIFYING
    # The sheet reloaded later keeps its order.
    assert card_ids(page(client, f"/incidents/{incident.id}/calls")) == before


def test_the_answer_in_place_carries_the_suggested_verdict_with_the_current_version(
    client, db, login_as, world, incident
):
    login_as(world["baraut_constable"])
    ids = card_ids(page(client, f"/incidents/{incident.id}/calls"))
    for contact_id in ids[:3]:
        response = client.post(
            f"/incidents/{incident.id}/calls",
            data={"contact_id": contact_id, "outcome": "confirmed"},
            headers=IN_PLACE,
        )
    html = response.get_data(as_text=True)
    assert "Accept the suggested verdict: Verified true" in html
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    db.session.expire_all()
    assert int(version) == db.session.get(Incident, incident.id).version
    accepted = client.post(
        f"/incidents/{incident.id}/status", data={"status": "verified_true", "version": version}
    )
    assert accepted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).status == IncidentStatus.VERIFIED_TRUE


def test_without_the_header_the_post_still_redirects_to_the_sheet(
    client, db, login_as, world, incident
):
    login_as(world["baraut_constable"])
    contact_id = card_ids(page(client, f"/incidents/{incident.id}/calls"))[0]
    response = client.post(
        f"/incidents/{incident.id}/calls", data={"contact_id": contact_id, "outcome": "no_answer"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calls#contact-{contact_id}")
    assert calls_logged(db, incident) == 1


def test_a_bad_outcome_in_place_says_so_and_records_nothing(client, db, login_as, world, incident):
    login_as(world["baraut_constable"])
    contact_id = card_ids(page(client, f"/incidents/{incident.id}/calls"))[0]
    response = client.post(
        f"/incidents/{incident.id}/calls",
        data={"contact_id": contact_id, "outcome": "maybe"},
        headers=IN_PLACE,
    )
    assert response.status_code == 400
    assert response.headers["X-Cplan-Fragment"] == "call"
    html = response.get_data(as_text=True)
    assert "flash-error" in html and "Not a valid choice" in html
    assert card_ids(html) == []  # the card stays as the officer left it
    assert calls_logged(db, incident) == 0


def test_a_contact_outside_the_incident_is_refused_in_place(client, db, login_as, world, incident):
    add_contacts(db, world["sisana"], 1)  # another station's village: not this constable's
    db.session.commit()
    sisana = db.session.scalar(select(Contact.id).where(Contact.place_id == world["sisana"].id))
    login_as(world["baraut_constable"])
    response = client.post(
        f"/incidents/{incident.id}/calls",
        data={"contact_id": str(sisana), "outcome": "confirmed"},
        headers=IN_PLACE,
    )
    assert response.status_code == 404  # out of scope looks like nothing at all
    assert "X-Cplan-Fragment" not in response.headers  # the script posts plainly then
    assert calls_logged(db, incident) == 0


def test_an_incident_of_another_station_is_404_in_place(client, db, login_as, world, incident):
    login_as(world["kotwali_constable"])
    response = client.post(
        f"/incidents/{incident.id}/calls",
        data={"contact_id": "1", "outcome": "confirmed"},
        headers=IN_PLACE,
    )
    assert response.status_code == 404
    assert calls_logged(db, incident) == 0


def test_the_post_in_place_needs_the_forms_csrf_token(app, client, db, login_as, world, incident):
    login_as(world["baraut_constable"])
    html = page(client, f"/incidents/{incident.id}/calls")
    contact_id = card_ids(html)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/incidents/{incident.id}/calls"
    data = {"contact_id": contact_id, "outcome": "confirmed"}

    refused = client.post(url, data=data, headers=IN_PLACE)
    assert refused.status_code == 400
    assert "Your form expired" in refused.get_data(as_text=True)
    assert "X-Cplan-Fragment" not in refused.headers
    assert calls_logged(db, incident) == 0

    accepted = client.post(url, data={**data, "csrf_token": token}, headers=IN_PLACE)
    assert accepted.status_code == 200 and "Call recorded: Confirmed." in accepted.get_data(
        as_text=True
    )
    assert calls_logged(db, incident) == 1
