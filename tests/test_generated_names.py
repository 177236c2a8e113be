"""Generated spellings are marked quietly wherever names are listed (roster, coverage, search,
call sheet): a dotted underline on the spelling the computer made, explained once at the end of
the page (whose words a script makes every mark's tooltip); a corrected or checked name carries
no mark and the page no note."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.services import incidents, roster
from cplan.services.principal import Principal

MARK = re.compile(r'<span class="generated">([^<]*)</span>')
NOTE = 'id="generated-note"'


def marked(page: str) -> list[str]:
    """The spellings a page marks as generated, in page order (the note's own sample left out)."""
    return MARK.findall(page.split(NOTE)[0])


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer, login_as):
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    baraut = make_station(baghpat, "Baraut")
    baraut.name_hi = "बड़ौत"
    generated = make_place(
        "BAMNAULI", station=baraut, lgd_code="119301", name_hi="बामनौली", name_generated=True
    )
    corrected = make_place(
        "BIJROL", station=baraut, lgd_code="119300", name_hi="बिजरौल", name_corrected=True
    )
    unchecked = Contact(
        place_id=generated.id,
        unit_path=generated.unit_path,
        name="Ram Kishore",
        name_script=Script.LATIN,
        name_other="राम किशोर",
        name_other_generated=True,
        category=ContactCategory.TEACHER,
        status=ContactStatus.ACTIVE,
        mobile="+919876543210",
    )
    checked = Contact(
        place_id=corrected.id,
        unit_path=corrected.unit_path,
        name="Sita Devi",
        name_script=Script.LATIN,
        name_other="सीता देवी",
        name_other_generated=False,
        category=ContactCategory.DOCTOR,
        status=ContactStatus.ACTIVE,
        mobile="+919876543211",
    )
    db.session.add_all([unchecked, checked])
    db.session.flush()
    for contact in (unchecked, checked):
        roster.index_contact(contact)
    officer = make_officer("station_officer", baraut)
    officer.language = "hi"
    db.session.commit()
    login_as(officer)
    return {
        "generated": generated,
        "corrected": corrected,
        "unchecked": unchecked,
        "checked": checked,
        "baraut": baraut,
        "officer": officer,
    }


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_roster_marks_a_generated_village_name_and_contact_name_and_explains_once(
    client, world
):
    page = page_of(client, f"/roster/places/{world['generated'].id}")
    assert marked(page) == ["बामनौली", "राम किशोर"]  # the heading, then the card
    assert page.count(NOTE) == 1 and page.index(NOTE) > page.index("राम किशोर")
    note = page.split(NOTE)[1].split("</p>")[0]
    assert 'data-title="कंप्यूटर की वर्तनी, अभी जाँची नहीं गई"' in note  # the tooltip, once
    assert "/static/js/generated-names.js" in page.split(NOTE)[1]


def test_a_corrected_village_and_a_checked_contact_carry_no_mark_and_no_note(client, world):
    page = page_of(client, f"/roster/places/{world['corrected'].id}")
    assert "बिजरौल" in page and "सीता देवी" in page
    assert marked(page) == [] and NOTE not in page and "generated-names.js" not in page


def test_coverage_marks_only_the_generated_name_among_places_below_target(client, world):
    page = page_of(client, f"/coverage/units/{world['baraut'].id}")
    below = page.split('id="below-target"')[1]
    assert "बामनौली" in below and "बिजरौल" in below
    assert marked(below) == ["बामनौली"]


def test_search_marks_generated_place_and_contact_names(client, world):
    page = page_of(client, "/search?q=बामनौली")
    assert marked(page) == ["बामनौली"]
    page = page_of(client, "/search?q=Ram")
    assert "राम किशोर" in marked(page)
    page = page_of(client, "/search?q=Sita")
    assert "सीता देवी" in page and marked(page) == []


def test_the_call_sheet_marks_generated_names(client, db, world):
    officer = world["officer"]
    reported = datetime.now(UTC) - timedelta(minutes=5)
    incident = incidents.create_incident(
        Principal(officer=officer, post=officer.test_post, session=None),
        [world["generated"]],
        kind="rumour",
        severity="high",
        occurred_at=reported,
        reported_at=reported,
        source="up112_call",
        summary="Rumour at the pond",
    )
    db.session.commit()
    page = page_of(client, f"/incidents/{incident.id}/calls")
    assert marked(page) == ["राम किशोर", "बामनौली"]  # the contact's name, then the village


def test_in_english_the_official_name_is_plain_and_only_the_hindi_spelling_is_marked(
    client, db, world
):
    world["officer"].language = "en"
    db.session.commit()
    page = page_of(client, f"/roster/places/{world['generated'].id}")
    heading = page.split("<h1>")[1].split("</h1>")[0]
    assert "BAMNAULI" in heading and marked(heading) == ["बामनौली"]
    assert "Dotted underline" in page
