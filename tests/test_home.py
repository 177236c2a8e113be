"""Each post's home page answers "what needs me now?": a station sees its villages against the
target, its open incidents and its own submissions; an office sees open and overdue incidents,
approvals by age and coverage per station; a control room sees open incidents by district,
the most severe first, and what was escalated to it. Nothing outside the post's scope shows."""

import re
from datetime import timedelta

import pytest

from cplan.models import Contact, ContactCategory, ContactStatus, Script
from cplan.models.base import utcnow
from cplan.services import incidents
from cplan.services.principal import Principal


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    return build_world(make_district, make_station, make_place, make_officer, state)


def build_world(make_district, make_station, make_place, make_officer, state):
    """Two districts, three stations, four villages and a post of every kind (also used by
    tests/test_field_fixes.py)."""
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    meerut = make_district("Meerut", code="135", name_hi="मेरठ")
    baraut = make_station(baghpat, "Baraut")
    kotwali = make_station(baghpat, "Kotwali")
    sardhana = make_station(meerut, "Sardhana")
    return {
        "state": state,
        "baghpat": baghpat,
        "meerut": meerut,
        "baraut": baraut,
        "kotwali": kotwali,
        "bijrol": make_place("BIJROL", station=baraut, name_hi="बिजरौल", lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=baraut, lgd_code="119301"),
        "sisana": make_place("SISANA", station=kotwali, lgd_code="119302"),
        "sardhana_village": make_place("SARDHANA", station=sardhana, lgd_code="120001"),
        "baraut_constable": make_officer("constable", baraut),
        "kotwali_constable": make_officer("constable", kotwali),
        "asp": make_officer("asp", baghpat),
        "meerut_asp": make_officer("asp", meerut),
        "supervisor": make_officer("control_room", state),
        "admin": make_officer("state_admin", state),
    }


def principal_of(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def add_contacts(db, place, count, status=ContactStatus.ACTIVE, officer=None, days_ago=0):
    for n in range(count):
        db.session.add(
            Contact(
                place_id=place.id,
                unit_path=place.unit_path,
                name=f"Citizen {place.name_en} {status.value} {n}",
                name_script=Script.LATIN,
                category=ContactCategory.TEACHER,
                status=status,
                mobile=f"+91987{place.id:02d}{n:05d}"[:13],
                enrolled_by_officer_id=officer.id if officer else None,
                enrolled_at=utcnow() - timedelta(days=days_ago, minutes=1),
            )
        )
    db.session.flush()


def report(db, world, officer, place, severity="high", hours_ago=1, **values):
    reported = utcnow() - timedelta(hours=hours_ago)
    incident = incidents.create_incident(
        principal_of(world[officer]),
        [world[place]],
        values.pop("kind", "rumour"),
        severity,
        reported - timedelta(minutes=10),
        reported,
        "up112_call",
        values.pop("summary", f"Rumour at {place}"),
        **values,
    )
    db.session.flush()
    return incident


def page(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_constable_sees_the_stations_villages_against_the_target_each_one_tap_from_its_roster(
    client, db, login_as, world
):
    add_contacts(db, world["bijrol"], 10)
    add_contacts(db, world["bamnauli"], 3)
    add_contacts(db, world["sisana"], 4)  # another station's village
    db.session.commit()
    login_as(world["baraut_constable"])

    html = page(client)

    assert 'role="search"' in html and 'action="/search"' in html
    assert f'href="/roster/places/{world["bijrol"].id}"' in html
    assert f'href="/roster/places/{world["bamnauli"].id}"' in html
    assert "10 of 10" in html and "3 of 10" in html
    assert "1 of 2 below the target" in html
    assert "SISANA" not in html  # Kotwali's village
    assert "Report a rumour" in html


def test_a_constable_sees_open_incidents_of_the_station_only_and_not_closed_ones(
    client, db, login_as, world
):
    mine = report(db, world, "baraut_constable", "bijrol", summary="Pond rumour")
    theirs = report(db, world, "kotwali_constable", "sisana")
    db.session.commit()
    login_as(world["baraut_constable"])

    html = page(client)

    assert mine.reference in html
    assert theirs.reference not in html
    assert "BIJROL" in html and "Baghpat" in html  # the place and the district of each row


def test_a_constable_sees_own_submissions_waiting_and_sent_back(client, db, login_as, world):
    me = world["baraut_constable"]
    add_contacts(db, world["bijrol"], 2, ContactStatus.PENDING, officer=me)
    add_contacts(db, world["bamnauli"], 1, ContactStatus.REJECTED, officer=me)
    add_contacts(db, world["bamnauli"], 4, ContactStatus.PENDING)  # someone else's
    db.session.commit()
    login_as(me)

    html = page(client)

    assert "2 waiting for approval, 1 sent back to correct" in html
    assert 'href="/enrolments/mine"' in html or "/mine" in html


def test_an_asp_sees_open_and_overdue_incidents_approvals_by_age_and_coverage_per_station(
    client, db, login_as, world
):
    add_contacts(db, world["bijrol"], 10)
    add_contacts(db, world["sisana"], 2)
    add_contacts(db, world["bamnauli"], 1, ContactStatus.PENDING, days_ago=0)
    add_contacts(db, world["bamnauli"], 2, ContactStatus.PENDING, days_ago=3)
    add_contacts(db, world["sisana"], 3, ContactStatus.PENDING, days_ago=45)
    add_contacts(db, world["sardhana_village"], 7, ContactStatus.PENDING, days_ago=45)  # Meerut
    fresh = report(db, world, "baraut_constable", "bijrol", severity="medium", hours_ago=0)
    late = report(db, world, "kotwali_constable", "sisana", severity="critical", hours_ago=8)
    meerut = report(db, world, "meerut_asp", "sardhana_village", severity="critical")
    db.session.commit()
    login_as(world["asp"])

    html = page(client)

    assert fresh.reference in html and late.reference in html
    assert meerut.reference not in html
    assert html.index(late.reference) < html.index(fresh.reference)  # critical first
    figures = html[html.index("home-figures") : html.index("</dl>")]
    assert ">2</a>" in figures  # open
    assert "figure-bad" in figures  # one overdue
    assert ">6</a>" in figures  # waiting for approval (Meerut's 7 not counted)
    approvals = html[html.index('id="approvals-heading"') :]
    assert "Under a day: 1; 1 to 7 days: 2; 7 to 30 days: 0; Over 30 days: 3" in approvals
    table = approvals[approvals.index("<tbody>") :]
    for label, count in (("Under a day", 1), ("1 to 7 days", 2), ("Over 30 days", 3)):
        row = table[table.index(label) :]
        assert f">{count}</td>" in row[: row.index("</tr>")]
    stations = html[html.index('id="stations-heading"') :]
    assert "Baraut" in stations and "Kotwali" in stations and "Sardhana" not in stations
    assert "Baraut: At target 1, Below target 1" in stations  # the chart's description


def test_an_asp_sees_escalations_to_the_district(client, db, login_as, world):
    incident = report(db, world, "baraut_constable", "bijrol")
    constable = principal_of(world["baraut_constable"])
    incidents.escalate(constable, incident.id, world["baghpat"], "Crowd gathering, send help")
    db.session.commit()
    login_as(world["asp"])

    html = page(client)

    assert "Escalated to you" in html and "Crowd gathering, send help" in html
    login_as(world["meerut_asp"])
    assert "Crowd gathering" not in page(client)


def test_the_control_room_sees_open_incidents_by_district_the_most_severe_first(
    client, db, login_as, world
):
    low = report(db, world, "baraut_constable", "bijrol", severity="low")
    critical = report(db, world, "meerut_asp", "sardhana_village", severity="critical")
    closed = report(db, world, "kotwali_constable", "sisana", severity="critical")
    closed.status = incidents.IncidentStatus.CLOSED
    db.session.commit()
    login_as(world["supervisor"])

    html = page(client)

    assert html.index(critical.reference) < html.index(low.reference)
    assert closed.reference not in html
    districts = html[html.index('id="districts-heading"') :]
    assert f"/incidents/?district={world['meerut'].id}&amp;open=1" in districts
    assert districts.index("Meerut") < districts.index("Baghpat")  # the critical load first
    assert "Approvals by age" not in html  # a control room never approves


def test_home_pages_work_in_hindi(client, db, login_as, world):
    add_contacts(db, world["bijrol"], 3)
    report(db, world, "baraut_constable", "bijrol")
    db.session.commit()
    for officer in ("baraut_constable", "asp", "supervisor"):
        login_as(world[officer])
        client.post("/language/hi")
        html = page(client)
        assert 'lang="hi"' in html
        assert "खुली घटनाएँ" in html  # "Open incidents"


def test_the_state_administrator_keeps_the_plain_home(client, db, login_as, world):
    login_as(world["admin"])
    html = page(client)
    assert "Find a place" in html and "Open incidents" not in html


def test_the_office_charts_are_svg_drawn_by_the_server_with_a_title_a_description_and_a_table(
    client, db, login_as, world
):
    add_contacts(db, world["bamnauli"], 2, ContactStatus.PENDING, days_ago=3)
    report(db, world, "baraut_constable", "bijrol", hours_ago=0)
    report(db, world, "kotwali_constable", "sisana", hours_ago=0)
    db.session.commit()
    login_as(world["asp"])

    html = page(client)

    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0] or (
        "generated-names.js" in html
    )
    assert "cdn" not in html.lower()
    for chart in ("chart-approvals", "chart-coverage", "chart-incidents"):
        figure = html[html.index(f'<figure class="chart" id="{chart}"') :]
        figure = figure[: figure.index("</figure>")]
        assert '<svg class="chart-svg"' in figure and 'role="img"' in figure
        assert f'<title id="{chart}-title">' in figure and f'<desc id="{chart}-desc">' in figure
        assert "<table" in figure  # the same figures as a table
    incidents_chart = html[html.index('id="chart-incidents"') :]
    assert "New or being verified 2" in incidents_chart  # today's two new incidents
    approvals = html[html.index('id="chart-approvals"') :]
    assert "1 to 7 days: 2" in approvals


def test_charts_speak_hindi(client, db, login_as, world):
    report(db, world, "baraut_constable", "bijrol", hours_ago=0)
    db.session.commit()
    login_as(world["supervisor"])
    client.post("/language/hi")

    html = page(client)

    chart = html[html.index('id="chart-incidents"') :]
    assert "दिसंबर" in chart or "नवंबर" in chart or "जनवरी" in chart  # days in Hindi
    assert "नई या सत्यापन में" in chart  # the series' name in Hindi


def test_the_village_map_places_each_village_from_its_coordinates_and_links_its_roster(
    client, db, login_as, world, make_place
):
    world["bijrol"].latitude, world["bijrol"].longitude = 29.10, 77.26  # north-west
    world["sisana"].latitude, world["sisana"].longitude = 28.95, 77.40  # south-east
    world["sardhana_village"].latitude, world["sardhana_village"].longitude = 29.14, 77.61
    add_contacts(db, world["bijrol"], 10)
    add_contacts(db, world["sisana"], 2)
    db.session.commit()
    login_as(world["asp"])

    html = page(client, "/map")

    points = re.findall(
        r'<a href="/roster/places/(\d+)"><circle class="map-(\w+)" cx="([\d.]+)" cy="([\d.]+)"/>',
        html,
    )
    by_place = {int(place): (level, float(x), float(y)) for place, level, x, y in points}
    assert set(by_place) == {world["bijrol"].id, world["sisana"].id}  # Meerut's is not here
    bijrol, sisana = by_place[world["bijrol"].id], by_place[world["sisana"].id]
    assert bijrol[0] == "met" and sisana[0] == "below"
    assert bijrol[1] < sisana[1] and bijrol[2] < sisana[2]  # west of it and north of it
    assert "<title>BIJROL: 10</title>" in html
    assert "1 village or ward has no coordinates" in html  # Bamnauli
    assert client.get(f"/map/{world['meerut'].id}").status_code == 404


def test_a_station_maps_its_own_villages_and_the_control_room_chooses_a_district(
    client, db, login_as, world
):
    world["bijrol"].latitude, world["bijrol"].longitude = 29.10, 77.26
    world["sisana"].latitude, world["sisana"].longitude = 28.95, 77.40
    db.session.commit()
    login_as(world["baraut_constable"])
    html = page(client, "/map")
    assert f"/roster/places/{world['bijrol'].id}" in html
    assert f"/roster/places/{world['sisana'].id}" not in html  # Kotwali's
    login_as(world["supervisor"])
    choose = page(client, "/map")
    assert f"/map/{world['meerut'].id}" in choose and f"/map/{world['baghpat'].id}" in choose
    assert f"/roster/places/{world['sisana'].id}" in page(client, f"/map/{world['baghpat'].id}")


def test_the_control_room_home_refreshes_itself_without_counting_as_activity(
    client, db, login_as, world
):
    from cplan.models import SignInSession

    signed_in = login_as(world["supervisor"])
    html = page(client)
    assert re.search(r'<script src="/static/js/refresh\.js\?v=\w+" defer></script>', html)
    assert '<div id="home-live" data-refresh="60">' in html
    assert "<script>" not in html  # nothing inline: the CSP stays as it is

    def last_seen():
        db.session.expire_all()
        return db.session.get(SignInSession, signed_in.session.id).last_seen_at

    earlier = utcnow() - timedelta(minutes=5)
    db.session.get(SignInSession, signed_in.session.id).last_seen_at = earlier
    db.session.commit()
    refreshed = client.get("/", headers={"X-Cplan-Refresh": "1"})
    assert refreshed.status_code == 200 and 'id="home-live"' in refreshed.get_data(as_text=True)
    assert abs((last_seen() - earlier).total_seconds()) < 1  # the idle time keeps running
    client.get("/")
    assert last_seen() > earlier + timedelta(minutes=4)  # the officer's own visit counts


def test_a_refresh_after_the_idle_time_gets_the_sign_in_page(client, db, login_as, world):
    from cplan.models import SignInSession

    signed_in = login_as(world["supervisor"])
    session = db.session.get(SignInSession, signed_in.session.id)
    session.last_seen_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    response = client.get("/", headers={"X-Cplan-Refresh": "1"})
    assert response.status_code == 302 and "/auth/sign-in" in response.location


def test_the_control_room_sees_response_times_by_district_slowest_first(
    client, db, login_as, world
):
    quick = report(db, world, "baraut_constable", "bijrol", hours_ago=3)
    slow = report(db, world, "meerut_asp", "sardhana_village", hours_ago=3)
    waiting = report(db, world, "meerut_asp", "sardhana_village", hours_ago=2)
    quick.first_call_at = quick.reported_at + timedelta(minutes=10)
    quick.verdict_at = quick.reported_at + timedelta(hours=2)
    slow.first_call_at = slow.reported_at + timedelta(minutes=50)
    db.session.commit()
    login_as(world["supervisor"])

    html = page(client)

    section = html[html.index('id="response-heading"') :]
    assert "Meerut: 50; Baghpat: 10" in section  # the chart's description, slowest first
    table = section[section.index("</figure>") :]  # the table after the chart
    meerut = table[table.index("Meerut</td>") :]
    cells = re.findall(r'class="num">([^<]*)</td>', meerut[: meerut.index("</tr>")])
    assert cells == ["2", "1", "50", "–"]  # reported, not called yet, minutes, hours
    assert waiting.reference in html
