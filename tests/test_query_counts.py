"""No N+1 queries: the main pages issue as many SQL statements for many rows as for a few.

Each test renders a page over a small and a larger data set and compares the statement counts
(every statement the engine sends, audit writes included). A page that loads a relation per row
shows up as a count that grows with the rows.
"""

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from cplan.services import elections, enrolment, incidents, roster
from cplan.services.principal import Principal

SMALL, LARGE = 3, 12


@contextmanager
def counted(db):
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_for(client, db, url) -> int:
    # The test's session outlives requests; expired, and without the active elections its
    # transaction remembered, it caches nothing between them, as in production.
    db.session.expire_all()
    elections.forget_active_phases(db.session())
    with counted(db) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    district = make_district("Baghpat", code="124")
    baraut = make_station(district, "Baraut")
    khekada = make_station(district, "Khekada")
    places = [
        make_place(f"VILLAGE {n}", station=baraut if n % 2 else khekada, lgd_code=str(119300 + n))
        for n in range(LARGE)
    ]
    return {
        "district": district,
        "baraut": baraut,
        "khekada": khekada,
        "places": places,
        "few": make_place("FEW", station=baraut, lgd_code="119000"),
        "many": make_place("MANY", station=baraut, lgd_code="119001"),
        "constable": make_officer("constable", baraut),
        "khekada_constable": make_officer("constable", khekada),
        "sho": make_officer("station_officer", baraut),
        "asp": make_officer("asp", district),
        "sp_office": make_officer("sp_office", district),
        "supervisor": make_officer("control_room", state),
    }


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


MOBILES = iter(range(9800000000, 9900000000))  # a fresh valid number for every contact


def enrol(db, world, place, count, name="Citizen", approve=True):
    contacts = []
    for n in range(count):
        who = (
            world["constable"]
            if place.station_id == world["baraut"].id
            else world["khekada_constable"]
        )
        contact = roster.enrol(
            principal(who),
            place,
            roster.ContactDetails(
                name=f"{name} {place.name_en.title()} {n}",
                mobile=str(next(MOBILES)),
                category="teacher",
                consent_on=date(2026, 1, 1),
            ),
        )
        if approve:
            enrolment.decide_enrolment(
                principal(world["asp"]), contact.id, contact.version, "approve"
            )
        contacts.append(contact)
    db.session.commit()
    return contacts


def report(db, world, places, n):
    incident = incidents.create_incident(
        principal(
            world["sho"]
            if all(p.station_id == world["baraut"].id for p in places)
            else world["asp"]
        ),
        places,
        "rumour",
        "high",
        datetime(2026, 11, 20, 4, tzinfo=UTC) + timedelta(minutes=n),
        datetime(2026, 11, 20, 5, tzinfo=UTC) + timedelta(minutes=n),
        "up112_call",
        f"Rumour {n}",
    )
    db.session.commit()
    return incident


def test_the_village_roster_page(client, db, login_as, world):
    enrol(db, world, world["few"], SMALL)
    enrol(db, world, world["many"], LARGE)
    enrol(db, world, world["many"], SMALL, name="Pending", approve=False)
    for who in ("sho", "asp"):  # full numbers, and masked numbers with the reveal check
        login_as(world[who])
        few = statements_for(client, db, f"/roster/places/{world['few'].id}")
        many = statements_for(client, db, f"/roster/places/{world['many'].id}")
        assert many == few, who


@pytest.mark.parametrize(
    "who", ["asp", "sho"]
)  # masked numbers; full numbers, with an access record
def test_the_name_search(client, db, login_as, world, who):
    enrol(db, world, world["few"], 1, name="Ramesh")
    login_as(world[who])
    few = statements_for(client, db, "/search?q=ramesh")
    for place in world["places"]:
        enrol(db, world, place, 1, name="Ramesh")
    many = statements_for(client, db, "/search?q=ramesh")
    assert many == few


def test_the_approval_queue(client, db, login_as, world):
    for place in world["places"][:SMALL]:
        enrol(db, world, place, 1, approve=False)
    login_as(world["asp"])
    few = statements_for(client, db, "/enrolments/")
    for place in world["places"][SMALL:]:
        enrol(db, world, place, 2, approve=False)
    many = statements_for(client, db, "/enrolments/")
    assert many == few


@pytest.mark.parametrize("url", ["/incidents/", "/incidents/review", "/incidents/export.csv"])
def test_the_incident_feed_review_queue_and_export(client, db, login_as, world, url):
    places = world["places"]
    for n in range(SMALL):
        report(db, world, [places[n]], n)
    incidents.claim(principal(world["supervisor"]), report(db, world, [places[0]], 98).id)
    db.session.commit()
    login_as(world["supervisor"])
    few = statements_for(client, db, url)
    for n in range(SMALL, LARGE):
        report(db, world, [places[n], places[(n + 1) % LARGE]], n)  # two places, often two stations
    incident = report(db, world, [places[1]], 99)
    incidents.claim(principal(world["supervisor"]), incident.id)
    db.session.commit()
    many = statements_for(client, db, url)
    assert many == few


def test_the_incident_page_and_its_call_sheet(client, db, login_as, world):
    few_contacts = enrol(db, world, world["few"], SMALL)
    many_contacts = enrol(db, world, world["many"], LARGE)
    few = report(db, world, [world["few"]], 1)
    many = report(db, world, [world["many"]], 2)
    sho = principal(world["sho"])
    for incident, contacts in ((few, few_contacts), (many, many_contacts)):
        incidents.change_status(sho, incident.id, 1, "verifying")
        for contact in contacts:
            incidents.log_call(sho, incident.id, contact.id, "denied", "All calm")
    db.session.commit()
    login_as(world["sho"])
    for page in ("", "/calls", "/report"):
        assert statements_for(client, db, f"/incidents/{many.id}{page}") == statements_for(
            client, db, f"/incidents/{few.id}{page}"
        ), page


def test_the_district_coverage_page(client, db, login_as, world):
    login_as(world["sp_office"])
    enrol(db, world, world["places"][0], 1)
    few = statements_for(client, db, f"/coverage/units/{world['district'].id}")
    for place in world["places"][1:]:
        enrol(db, world, place, 2)
    many = statements_for(client, db, f"/coverage/units/{world['district'].id}")
    assert many == few


@pytest.mark.parametrize("who", ["constable", "asp", "supervisor"])
def test_the_home_pages(client, db, login_as, world, who):
    """Issue 17's home pages: the same statements for 3 incidents, contacts and escalations as
    for 12 (the lists are grouped or loaded in a few queries, never one per row)."""
    places = world["places"]
    for n in range(SMALL):
        incident = report(db, world, [places[n], world["many"]], n)
        incidents.escalate(principal(world["sho"]), incident.id, world["district"], "Help")
        enrol(db, world, places[n], 1, approve=False)
    db.session.commit()
    login_as(world[who])
    few = statements_for(client, db, "/")
    for n in range(SMALL, LARGE):
        incident = report(db, world, [places[n], world["many"]], n)
        incidents.escalate(principal(world["sho"]), incident.id, world["district"], "Help")
        enrol(db, world, places[n], 2, approve=False)
    db.session.commit()
    assert statements_for(client, db, "/") == few


def test_the_village_map(client, db, login_as, world):
    login_as(world["sp_office"])
    few = statements_for(client, db, "/map")
    for n, place in enumerate(world["places"]):
        place.latitude, place.longitude = 29.0 + n / 100, 77.2 + n / 100
        enrol(db, world, place, 1)
    assert statements_for(client, db, "/map") == few
