"""Coverage figures on a known fixture: per district, per station, per place, the station's
action list (worst first), who may open the pages, and that out of scope is 404."""

import pytest

from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.services import coverage

STATUSES = (
    ContactStatus.ACTIVE,
    ContactStatus.PENDING,
    ContactStatus.REJECTED,
    ContactStatus.INACTIVE,
)


@pytest.fixture
def add_contacts(db):
    """``add_contacts(place, active=4, pending=1, ...)``: contact rows straight into the table."""
    counter = {"n": 0}

    def add(place, category=ContactCategory.TEACHER, confidential=False, **counts):
        for status in STATUSES:
            for _ in range(counts.get(status.value, 0)):
                counter["n"] += 1
                db.session.add(
                    Contact(
                        place_id=place.id,
                        unit_path=place.unit_path,
                        name=f"Person {counter['n']}",
                        name_script=Script.LATIN,
                        mobile=f"+9199{counter['n']:08d}",
                        category=category,
                        status=status,
                        confidential=confidential,
                    )
                )
        db.session.flush()

    return add


@pytest.fixture
def fixture(make_district, make_station, make_place, add_contacts, db, app):
    """Baraut station: places with 0, 4 and 11 active contacts (plus pending, rejected and
    inactive ones that must not count), an uninhabited place with contacts that is left out;
    Khekada station: one place with 10 active; an unattached place; Meerut: one full place."""
    app.config["COVERAGE_TARGET"] = 10
    baghpat = make_district("Baghpat", code="124")
    baraut = make_station(baghpat, "Baraut")
    khekada = make_station(baghpat, "Khekada")
    empty = make_place("ANGADPUR", station=baraut)
    four = make_place("BIJROL", station=baraut)
    eleven = make_place("CHHAPRAULI", station=baraut)
    forest = make_place("NIRPURA RF", station=baraut, uninhabited=True)
    ten = make_place("KHEKRA", station=khekada)
    loose = make_place("LOOSE", district=baghpat)
    add_contacts(empty, pending=2, rejected=3, inactive=1)
    add_contacts(four, active=3, pending=1, inactive=5)
    add_contacts(four, category=ContactCategory.PRADHAN, active=1)
    add_contacts(eleven, active=10, rejected=2)
    add_contacts(eleven, category=ContactCategory.DOCTOR, active=1, confidential=True)
    add_contacts(forest, active=12)
    add_contacts(ten, active=10, pending=3)
    meerut = make_district("Meerut", code="131")
    sardhana = make_station(meerut, "Sardhana")
    add_contacts(make_place("DABTHALA", station=sardhana), active=10)
    db.session.commit()
    return {
        "baghpat": baghpat,
        "baraut": baraut,
        "khekada": khekada,
        "empty": empty,
        "four": four,
        "eleven": eleven,
        "forest": forest,
        "ten": ten,
        "loose": loose,
        "meerut": meerut,
        "sardhana": sardhana,
    }


@pytest.fixture
def reader(make_officer, login_as):
    def sign(role, unit):
        return login_as(make_officer(role, unit))

    return sign


def figures(fig):
    return (fig.inhabited, fig.meeting, fig.below, fig.without_contacts, fig.active, fig.pending)


def test_a_station_is_counted_place_by_place_worst_first(fixture, reader):
    asp = reader("asp", fixture["baghpat"])
    result = coverage.coverage_of(asp, fixture["baraut"])
    assert result.level == "place"
    assert [
        (row.record.name_en, row.figures.active, row.figures.pending) for row in result.rows
    ] == [("ANGADPUR", 0, 2), ("BIJROL", 4, 1), ("CHHAPRAULI", 11, 0)]
    # inhabited, meeting, below, without any contact, active, pending
    assert figures(result.totals) == (3, 1, 2, 1, 15, 3)
    assert result.totals.categories == {
        ContactCategory.TEACHER: 13,
        ContactCategory.PRADHAN: 1,
        ContactCategory.DOCTOR: 1,
    }


def test_a_district_is_counted_station_by_station(fixture, reader):
    asp = reader("asp", fixture["baghpat"])
    result = coverage.coverage_of(asp, fixture["baghpat"])
    assert result.level == "station"
    rows = {row.record.name_en if row.record else None: figures(row.figures) for row in result.rows}
    assert rows == {
        "Baraut": (3, 1, 2, 1, 15, 3),
        "Khekada": (1, 1, 0, 0, 10, 3),
        None: (1, 0, 1, 1, 0, 0),
    }
    assert figures(result.totals) == (5, 2, 3, 2, 25, 6)


def test_the_state_is_counted_district_by_district(fixture, reader, state):
    control_room = reader("control_room", state)
    result = coverage.coverage_of(control_room, state)
    assert result.level == "district"
    rows = {row.record.name_en: figures(row.figures) for row in result.rows}
    assert rows == {"Baghpat": (5, 2, 3, 2, 25, 6), "Meerut": (1, 1, 0, 0, 10, 0)}


def test_a_station_officer_does_not_count_confidential_contacts(fixture, reader):
    sho = reader("station_officer", fixture["baraut"])
    result = coverage.coverage_of(sho, fixture["baraut"])
    assert [(row.record.name_en, row.figures.active) for row in result.rows] == [
        ("ANGADPUR", 0),
        ("BIJROL", 4),
        ("CHHAPRAULI", 10),
    ]
    assert figures(result.totals) == (3, 1, 2, 1, 14, 3)


def test_the_target_comes_from_the_configuration(fixture, reader, app):
    app.config["COVERAGE_TARGET"] = 4
    result = coverage.coverage_of(reader("asp", fixture["baghpat"]), fixture["baraut"])
    assert (result.totals.meeting, result.totals.below) == (2, 1)


def test_the_action_list_holds_places_below_target_worst_first(fixture, reader):
    sho = reader("station_officer", fixture["baraut"])
    page = coverage.places_below_target(sho, fixture["baraut"])
    assert [(row.place.name_en, row.active, row.pending, row.missing) for row in page.items] == [
        ("ANGADPUR", 0, 2, 10),
        ("BIJROL", 4, 1, 6),
    ]
    assert page.total == 2


def test_every_figure_is_a_grouped_query(fixture, reader, db):
    from sqlalchemy import event

    statements = []
    asp = reader("asp", fixture["baghpat"])
    coverage.coverage_of(asp, fixture["baghpat"])  # loads the post and its unit once
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        coverage.coverage_of(asp, fixture["baghpat"])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    selects = [statement for statement in statements if statement.startswith("SELECT")]
    assert len(selects) == 3, selects  # places grouped, contacts grouped, the stations' names
    assert all("GROUP BY" in statement for statement in selects[:2])


def test_the_station_page_links_each_place_below_target_to_its_roster(client, fixture, reader):
    reader("station_officer", fixture["baraut"])
    page = client.get("/coverage/").get_data(as_text=True)
    assert page.index(f'href="/roster/places/{fixture["empty"].id}"') < page.index(
        f'href="/roster/places/{fixture["four"].id}"'
    )
    assert f'/roster/places/{fixture["eleven"].id}"' not in page
    assert "Places below the target, worst first" in page


def test_the_district_page_drills_down_to_its_stations(client, fixture, reader):
    reader("asp", fixture["baghpat"])
    page = client.get("/coverage/").get_data(as_text=True)
    assert f'href="/coverage/units/{fixture["baraut"].id}"' in page
    assert "Not yet attached to a police station" in page
    assert client.get(f"/coverage/units/{fixture['baraut'].id}").status_code == 200


@pytest.mark.parametrize(
    "role, unit, status",
    [
        ("constable", "baraut", 403),
        ("station_officer", "baraut", 200),
        ("circle_officer", "baraut_circle", 200),
        ("asp", "baghpat", 200),
        ("sp_office", "baghpat", 200),
    ],
)
def test_who_may_open_the_coverage_page(client, fixture, reader, role, unit, status):
    units = {**fixture, "baraut_circle": fixture["baraut"].parent}
    reader(role, units[unit])
    assert client.get("/coverage/").status_code == status


def test_the_control_room_sees_the_state(client, fixture, reader, state):
    reader("control_room", state)
    page = client.get("/coverage/").get_data(as_text=True)
    assert "Baghpat" in page and "Meerut" in page


@pytest.mark.parametrize("other", ["meerut", "sardhana", "khekada"])
def test_a_unit_outside_the_scope_is_not_found(client, fixture, reader, other):
    reader("station_officer", fixture["baraut"])
    assert client.get(f"/coverage/units/{fixture[other].id}").status_code == 404


def test_a_district_post_cannot_open_another_district(client, fixture, reader):
    reader("asp", fixture["baghpat"])
    assert client.get(f"/coverage/units/{fixture['meerut'].id}").status_code == 404
    assert client.get(f"/coverage/units/{fixture['sardhana'].id}").status_code == 404


def test_the_analyze_command_gives_the_planner_statistics_on_contacts(fixture, db, runner):
    from sqlalchemy import text

    db.session.commit()
    result = runner.invoke(args=["cplan", "analyze"])
    assert result.exit_code == 0 and "statistics refreshed" in result.output
    if db.engine.dialect.name == "sqlite":
        analysed = db.session.scalar(
            text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'contacts'")
        )
        # Statistics of this tiny data set must not steer the plans other tests look at.
        db.session.execute(text("DELETE FROM sqlite_stat1"))
        db.session.commit()
        db.session.close()
        db.engine.dispose()  # connections read the statistics when they open
    else:
        analysed = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'contacts' AND "
                "last_analyze IS NOT NULL"
            )
        )
    assert analysed >= 1


@pytest.mark.fresh_app(reports_replica=True)
def test_with_a_reports_replica_the_figures_are_read_from_it(app, client, db, fixture, reader):
    from sqlalchemy import event

    replica, primary = db.engines["reports"], db.engines[None]
    assert replica is not primary
    read = {"replica": [], "primary": []}

    def listen(engine, name):
        def record(_conn, _cursor, statement, *_):
            read[name].append(statement)

        event.listen(engine, "before_cursor_execute", record)
        return record

    listeners = [(replica, listen(replica, "replica")), (primary, listen(primary, "primary"))]
    try:
        reader("asp", fixture["baghpat"])
        page = client.get(f"/coverage/units/{fixture['baraut'].id}").get_data(as_text=True)
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
    assert "<dt>Active contacts</dt><dd>15</dd>" in page  # the same figures as from the primary
    assert f'href="/roster/places/{fixture["four"].id}"' in page  # and the places below the target
    aggregates = [sql for sql in read["replica"] if "count(" in sql.lower()]
    assert len(aggregates) >= 2  # the places' figures, the contacts by status and category
    assert not any(
        "places.active_contacts" in sql for sql in read["primary"]
    )  # nothing on the primary
    assert any("sign_in_sessions" in sql for sql in read["primary"])  # sign-in stays on the primary
