"""The fixes the field trial of issue 17 asked for, each as an officer would notice it: the feed
names district and station on every row, finds an incident by its reference or UP-112 number
and can show open incidents only; no form chooses a value the officer did not choose; incident
times start at now; WhatsApp is a source; the Hindi call outcomes say what they mean; a favicon;
the village page lists its incidents and reports a rumour in one tap."""

import re

import pytest
from sqlalchemy import select

from cplan.models import Contact, Incident, IncidentStatus
from tests.test_home import add_contacts, build_world, page, report


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    return build_world(make_district, make_station, make_place, make_officer, state)


def test_every_feed_row_names_the_district_and_the_police_station(client, db, login_as, world):
    incident = report(db, world, "baraut_constable", "bijrol")
    db.session.commit()
    for officer in ("supervisor", "asp"):
        login_as(world[officer])
        html = page(client, "/incidents/")
        row = html[html.index(incident.reference) :]
        row = row[: row.index("</tr>")]
        assert 'data-label="District and police station">Baghpat · Baraut<' in row


def test_the_feed_finds_an_incident_by_its_reference_or_its_up112_number(
    client, db, login_as, world
):
    wanted = report(db, world, "baraut_constable", "bijrol", up112_number="EV2611200417")
    other = report(db, world, "baraut_constable", "bamnauli")
    db.session.commit()
    login_as(world["supervisor"])

    by_reference = page(client, f"/incidents/?q={wanted.reference}")
    by_number = page(client, "/incidents/?q=ev2611200417")

    for html in (by_reference, by_number):
        assert wanted.reference in html and other.reference not in html
    assert "No incidents match." in page(client, "/incidents/?q=124/1999/1")


def test_the_feed_can_show_open_incidents_only(client, db, login_as, world):
    open_one = report(db, world, "baraut_constable", "bijrol")
    closed = report(db, world, "baraut_constable", "bamnauli")
    closed.status = IncidentStatus.CLOSED
    db.session.commit()
    login_as(world["asp"])

    assert closed.reference in page(client, "/incidents/")
    html = page(client, "/incidents/?open=1")
    assert open_one.reference in html and closed.reference not in html
    assert 'name="open" type="checkbox" value="1" checked' in html or (
        re.search(r'<input checked[^>]*name="open"', html)
    )


def test_the_incident_form_chooses_nothing_the_officer_did_not_and_starts_at_now(
    client, db, login_as, world
):
    login_as(world["baraut_constable"])
    html = page(client, "/incidents/new")
    for name in ("kind", "severity", "source"):
        select_html = html[html.index(f'name="{name}"') :]
        select_html = select_html[: select_html.index("</select>")]
        assert "selected" not in select_html, name  # the blank "Choose…" shows
        assert 'value="">Choose…</option>' in select_html
    assert re.search(
        r'name="occurred_at" required type="datetime-local" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', html
    )
    assert "WhatsApp message" in html

    response = client.post(
        "/incidents/new",
        data={
            "places": [str(world["bijrol"].id)],
            "kind": "",
            "severity": "",
            "source": "",
            "occurred_at": "2026-11-20T09:00",
            "reported_at": "2026-11-20T10:00",
            "summary": "A message going round",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose the kind of incident." in text
    assert "Choose where the report came from." in text
    assert db.session.scalar(select(Incident.id)) is None  # nothing saved


def test_whatsapp_is_a_source_of_an_incident(client, db, login_as, world):
    login_as(world["baraut_constable"])
    response = client.post(
        "/incidents/new",
        data={
            "places": [str(world["bijrol"].id)],
            "kind": "rumour",
            "severity": "high",
            "source": "whatsapp",
            "occurred_at": "2026-11-20T09:00",
            "reported_at": "2026-11-20T10:00",
            "summary": "Forwarded video of an old clash",
        },
    )
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert incident.source.value == "whatsapp"
    assert "WhatsApp message" in page(client, f"/incidents/{incident.id}")


def test_a_contact_left_without_a_category_is_refused_not_saved_as_pradhan(
    client, db, login_as, world
):
    login_as(world["baraut_constable"])
    html = page(client, f"/roster/places/{world['bijrol'].id}/enrol")
    category = html[html.index('name="category"') :]
    assert 'value="">Choose…</option>' in category[: category.index("</select>")]
    assert "selected" not in category[: category.index("</select>")]
    response = client.post(
        f"/roster/places/{world['bijrol'].id}/enrol",
        data={
            "name": "Ramesh Chand",
            "mobile": "9876500011",
            "category": "",
            "consent_on": "2026-11-20",
            "consent_language": "hi",
        },
    )
    assert response.status_code == 400
    assert "Choose a category from the list." in response.get_data(as_text=True)
    assert db.session.scalar(select(Contact.id)) is None


def test_the_hindi_call_outcomes_say_what_the_contact_said(client, db, login_as, world):
    add_contacts(db, world["bijrol"], 1)
    incident = report(db, world, "baraut_constable", "bijrol")
    db.session.commit()
    login_as(world["baraut_constable"])
    client.post("/language/hi")

    sheet = page(client, f"/incidents/{incident.id}/calls")

    assert "सूचना ग़लत बताई" in sheet  # "Denied": the contact said the report is false
    assert "अस्वीकृत" not in sheet  # "rejected", which it is not
    assert "सूचना सही बताई" in sheet


def test_every_page_carries_its_favicon_without_costing_a_request(client):
    html = client.get("/auth/sign-in", follow_redirects=True).get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="data:image/svg\+xml,([^"]+)">', html)
    assert icon and "%3Csvg" in icon.group(1) and "%3C/svg%3E" in icon.group(1)


def test_the_village_page_lists_its_incidents_and_reports_a_rumour_there_in_one_tap(
    client, db, login_as, world
):
    here = report(db, world, "baraut_constable", "bijrol", summary="Here")
    elsewhere = report(db, world, "baraut_constable", "bamnauli", summary="Elsewhere")
    db.session.commit()
    login_as(world["baraut_constable"])

    village = page(client, f"/roster/places/{world['bijrol'].id}")

    assert here.reference in village and elsewhere.reference not in village
    link = f"/incidents/new?place={world['bijrol'].id}&amp;kind=rumour"
    assert link in village and "Report a rumour here" in village
    form = page(client, link.replace("&amp;", "&"))
    checked = re.search(r'<input type="checkbox" name="places" value="(\d+)" checked>', form)
    assert checked and checked.group(1) == str(world["bijrol"].id)
    kind = form[form.index('name="kind"') :]
    assert 'selected value="rumour"' in kind[: kind.index("</select>")]


def test_the_village_page_shows_no_incident_of_another_station_or_a_hidden_tip(
    client, db, login_as, world
):
    tip = report(db, world, "asp", "bijrol", confidential=True, summary="Source names a gang")
    db.session.commit()
    login_as(world["baraut_constable"])
    assert tip.reference not in page(client, f"/roster/places/{world['bijrol'].id}")
    login_as(world["asp"])
    assert tip.reference in page(client, f"/roster/places/{world['bijrol'].id}")


def test_links_in_lists_are_a_thumb_tall_on_a_phone(client):
    response = client.get("/static/css/cplan.css")
    css = response.get_data(as_text=True)
    response.close()
    rule = re.search(r"@media \(max-width:759px\)\{([^{}]*)\{([^}]*)\}\}", css)
    assert rule and ".stack td a" in rule.group(1) and "min-height:44px" in rule.group(2)


def test_the_first_call_starts_verification_and_the_sheet_keeps_its_order(
    client, db, login_as, world
):
    add_contacts(db, world["bijrol"], 4)
    incident = report(db, world, "baraut_constable", "bijrol")
    db.session.commit()
    login_as(world["baraut_constable"])
    sheet = page(client, f"/incidents/{incident.id}/calls")
    before = re.findall(r'id="contact-(\d+)"', sheet)
    assert len(before) == 4

    for contact_id in (before[2], before[3]):
        response = client.post(
            f"/incidents/{incident.id}/calls",
            data={"contact_id": contact_id, "outcome": "confirmed", "said": ""},
        )
        assert response.status_code == 302

    after = re.findall(r'id="contact-(\d+)"', page(client, f"/incidents/{incident.id}/calls"))
    assert after == before  # the contacts just called did not jump to the top
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).status == IncidentStatus.VERIFYING


def test_one_tap_accepts_the_suggested_verdict(client, db, login_as, world):
    add_contacts(db, world["bijrol"], 3)
    incident = report(db, world, "baraut_constable", "bijrol")
    db.session.commit()
    login_as(world["baraut_constable"])
    ids = re.findall(r'id="contact-(\d+)"', page(client, f"/incidents/{incident.id}/calls"))
    for contact_id in ids:
        client.post(
            f"/incidents/{incident.id}/calls",
            data={"contact_id": contact_id, "outcome": "denied", "said": "All calm"},
        )

    html = page(client, f"/incidents/{incident.id}")
    form = html[html.index('class="accept-verdict"') :]
    form = form[: form.index("</form>")]
    assert 'name="status" value="found_false"' in form
    assert "Accept the suggested verdict: Found false" in form
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = client.post(
        f"/incidents/{incident.id}/status", data={"status": "found_false", "version": version}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).status == IncidentStatus.FOUND_FALSE
    assert 'class="accept-verdict"' not in page(client, f"/incidents/{incident.id}")


def test_the_feed_folds_its_filters_away_unless_one_is_in_use(client, db, login_as, world):
    login_as(world["supervisor"])
    plain = page(client, "/incidents/")
    assert '<details class="more-filters">' in plain  # folded: the incidents come first
    assert plain.index('name="q"') < plain.index('<details class="more-filters">')
    filtered = page(client, "/incidents/?status=new")
    assert '<details class="more-filters" open>' in filtered
