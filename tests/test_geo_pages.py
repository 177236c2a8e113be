"""The geography pages: counts, unit and place pages, place search, pagination and scope.

Every test here is signed in (as the state control room unless it narrows the scope with
``scoped_to``); anonymous visitors are covered by tests/test_access.py.
"""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import event

from cplan.extensions import db as _db
from cplan.models import Subdistrict
from cplan.services import geo, places, transliteration
from cplan.services.principal import Principal


class TableRows(HTMLParser):
    """Collects each table row as {column label: cell text} (labels from data-label)."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._label, self._text = [], None, None, []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = {}
        elif tag == "td" and self._row is not None:
            self._label, self._text = dict(attrs).get("data-label"), []

    def handle_endtag(self, tag):
        if tag == "td" and self._label is not None:
            self._row[self._label] = " ".join("".join(self._text).split())
            self._label = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._label is not None:
            self._text.append(data)


def table_rows(response):
    parser = TableRows()
    parser.feed(response.get_data(as_text=True))
    return parser.rows


def breadcrumbs(response):
    """The texts of the breadcrumb trail, top first."""
    trail = response.get_data(as_text=True).split('class="breadcrumbs"')[1].split("</nav>")[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", trail, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in items]


def key_for(*names):
    """A place's search key as the importers build it: the key of each of its names."""
    return " ".join(transliteration.search_key(name) for name in names if name)


@pytest.fixture
def add_place(make_place):
    """make_place with a search key built from its names."""

    def add(name_en, name_hi="", **fields):
        return make_place(name_en, name_hi=name_hi, search_key=key_for(name_en, name_hi), **fields)

    return add


@pytest.fixture
def spine(make_district, make_station, make_unit, add_place, db):
    """Baghpat (three stations in two circles, six places) and Meerut (one station, one place)."""
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    baraut_circle = make_unit("circle", "Baraut circle", baghpat, name_hi="बड़ौत सर्किल")
    baraut = make_station(baghpat, "Baraut", circle=baraut_circle)
    binauli = make_station(baghpat, "Binauli", circle=baraut_circle)
    khekada = make_station(baghpat, "Khekada")
    tehsil = Subdistrict(lgd_code="00712", district_id=baghpat.id, name_en="Baraut", name_hi="बड़ौत")
    db.session.add(tehsil)
    db.session.flush()
    town = add_place("BARAUT", "बड़ौत", station=baraut, kind="town", lgd_code="800123")
    rows = {
        "town": town,
        "ward": add_place(
            "PATTI CHAUDHRAN", "पट्टी चौधरान", station=baraut, kind="ward", town_id=town.id
        ),
        "bijrol": add_place(
            "BIJROL",
            "बिजरौल",
            station=baraut,
            lgd_code="119300",
            subdistrict_id=tehsil.id,
            latitude=29.1234567,
            longitude=77.2345678,
            import_note="Coordinates checked against the tehsil map.",
        ),
        "bamnauli": add_place(
            "BAMNAULI", "बामनौली", station=binauli, lgd_code="119301", name_generated=True
        ),
        "khekra": add_place("KHEKRA", "खेकड़ा", station=khekada, kind="town"),
        "nirpura": add_place(
            "NIRPURA", "निरपुरा", district=baghpat, lgd_code="119302", uninhabited=True
        ),
    }
    meerut = make_district("Meerut", code="131", name_hi="मेरठ")
    sardhana = make_station(meerut, "Sardhana")
    rows["sardhana"] = add_place("SARDHANA", "सरधना", station=sardhana, kind="town")
    db.session.commit()
    return {
        "baghpat": baghpat,
        "baraut_circle": baraut_circle,
        "baraut": baraut,
        "binauli": binauli,
        "khekada": khekada,
        "meerut": meerut,
        "sardhana_station": sardhana,
        **rows,
    }


# The role whose posts sit at each kind of unit.
ROLE_AT = {
    "state": "control_room",
    "district": "asp",
    "circle": "circle_officer",
    "station": "station_officer",
}


@pytest.fixture
def scoped_to(make_officer, login_as):
    """Sign in through a post at ``unit``: its subtree becomes the scope of every page."""

    def sign_in(unit):
        return login_as(make_officer(ROLE_AT[unit.kind.value], unit))

    return sign_in


@pytest.fixture
def client(client, state, scoped_to):
    """The test client, signed in as a state control-room supervisor (sees the whole state)."""
    scoped_to(state)
    return client


@pytest.fixture
def control_room(state, make_officer):
    """A state control-room principal, for the place services called directly (they take the
    principal whose scope they read: there is no default scope)."""
    officer = make_officer("control_room", state)
    return Principal(officer, officer.test_post, None)


def count_queries(app):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(_db.engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(_db.engine, "before_cursor_execute", record)


# ---- the overview ------------------------------------------------------------------------------


def test_the_overview_lists_districts_with_station_and_place_counts(client, spine):
    response = client.get("/geo/")
    assert response.status_code == 200
    rows = {row["District"].split()[0]: row for row in table_rows(response)}
    assert rows["Baghpat"]["Police stations"] == "3"
    assert rows["Baghpat"]["Places"] == "6"  # the unattached village counts too
    assert rows["Meerut"]["Police stations"] == "1"
    assert rows["Meerut"]["Places"] == "1"


def test_the_overview_does_not_query_once_per_district(
    app, client, make_district, make_station, add_place
):
    def queries_for_overview():
        client.get("/geo/")  # warm up: the first request of a session does one-off work
        statements, stop = count_queries(app)
        client.get("/geo/")
        stop()
        return len(statements)

    first = make_district("Agra", code="118")
    add_place("ACHHNERA", station=make_station(first, "Achhnera"))
    _db.session.commit()
    with_one = queries_for_overview()
    for name, code in [("Aligarh", "119"), ("Etah", "141"), ("Mathura", "154")]:
        district = make_district(name, code=code)
        add_place(f"{name} village", station=make_station(district, name))
    _db.session.commit()
    assert queries_for_overview() == with_one


def test_a_station_scope_sees_only_its_own_station(client, spine, scoped_to):
    scoped_to(spine["binauli"])
    rows = table_rows(client.get("/geo/"))
    assert [row["Police station"].split()[0] for row in rows] == ["Binauli"]
    assert rows[0]["Places"] == "1"


# ---- unit pages -----------------------------------------------------------------------------


def test_a_district_page_lists_circles_and_stations_with_place_counts(client, spine):
    response = client.get(f"/geo/units/{spine['baghpat'].id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Baraut circle" in page and "Circle Khekada" in page
    counts = {row["Police station"].split()[0]: row["Places"] for row in table_rows(response)}
    assert counts == {"Baraut": "3", "Binauli": "1", "Khekada": "1"}
    assert "1 place of this district is not yet assigned to a police station." in page


def test_a_station_page_lists_its_places_with_markers(client, spine):
    response = client.get(f"/geo/units/{spine['binauli'].id}")
    rows = table_rows(response)
    assert len(rows) == 1
    assert rows[0]["LGD code"] == "119301"
    assert "बामनौली" in rows[0]["Name"]
    # The transliterated Hindi spelling carries the quiet mark; the official English one does not.
    page = response.get_data(as_text=True)
    assert re.findall(
        r'<span class="generated">([^<]*)</span>', page.split('id="generated-note"')[0]
    ) == ["बामनौली"]


def test_breadcrumbs_walk_up_from_the_station(client, spine):
    assert breadcrumbs(client.get(f"/geo/units/{spine['baraut'].id}")) == [
        "Districts and stations",
        "Uttar Pradesh",
        "Baghpat zone",
        "Baghpat range",
        "Baghpat",
        "Baraut circle",
        "Baraut",
    ]


def test_a_station_page_shows_fifty_places_a_page(
    client, make_district, make_station, add_place, db
):
    district = make_district("Shamli", code="701")
    station = make_station(district, "Kairana")
    for number in range(120):
        add_place(f"GAON {number:03d}", station=station)
    db.session.commit()
    first = client.get(f"/geo/units/{station.id}")
    assert len(table_rows(first)) == 50
    assert f'href="/geo/units/{station.id}?page=2"' in first.get_data(as_text=True)
    last = table_rows(client.get(f"/geo/units/{station.id}?page=3"))
    assert [row["Name"] for row in last][:1] == ["GAON 100"] and len(last) == 20


@pytest.mark.parametrize("page", ["abc", "२", "-1", "0"])
def test_a_page_number_that_is_not_plain_digits_means_the_first_page(client, spine, page):
    response = client.get(f"/geo/units/{spine['baraut'].id}?page={page}")
    assert response.status_code == 200
    assert len(table_rows(response)) == 3


def test_an_unknown_unit_is_not_found(client, spine):
    assert client.get("/geo/units/999999").status_code == 404


def test_a_unit_outside_the_scope_is_not_found(client, spine, scoped_to):
    scoped_to(spine["baghpat"])
    assert client.get(f"/geo/units/{spine['baraut'].id}").status_code == 200
    assert client.get(f"/geo/units/{spine['meerut'].id}").status_code == 404
    assert client.get(f"/geo/units/{spine['sardhana_station'].id}").status_code == 404


def test_breadcrumbs_stop_at_the_top_of_the_scope(client, spine, scoped_to):
    scoped_to(spine["baghpat"])
    assert breadcrumbs(client.get(f"/geo/units/{spine['baraut'].id}")) == [
        "Districts and stations",
        "Baghpat",
        "Baraut circle",
        "Baraut",
    ]


# ---- place pages ----------------------------------------------------------------------------


def test_a_place_page_shows_names_codes_and_where_it_lies(client, spine):
    response = client.get(f"/geo/places/{spine['bijrol'].id}")
    page = response.get_data(as_text=True)
    for text in (
        "BIJROL",
        "बिजरौल",
        "119300",
        "Baraut",
        "Baghpat",
        "29.12346, 77.23457",
        "Coordinates checked against the tehsil map.",
    ):
        assert text in page
    assert breadcrumbs(response)[-3:] == ["Baraut circle", "Baraut", "BIJROL"]


def test_a_ward_page_links_to_its_town(client, spine):
    page = client.get(f"/geo/places/{spine['ward'].id}").get_data(as_text=True)
    assert f'href="/geo/places/{spine["town"].id}"' in page


def test_a_town_page_lists_its_wards(client, spine):
    page = client.get(f"/geo/places/{spine['town'].id}").get_data(as_text=True)
    assert f'href="/geo/places/{spine["ward"].id}"' in page


def test_an_uninhabited_place_is_marked(client, spine):
    page = client.get(f"/geo/places/{spine['nirpura'].id}").get_data(as_text=True)
    assert "uninhabited" in page and "not yet assigned" in page


def test_a_place_page_shows_the_station_history(client, spine, db):
    geo.move_place(spine["bamnauli"], spine["baraut"], reason="New police station carved out")
    db.session.commit()
    rows = table_rows(client.get(f"/geo/places/{spine['bamnauli'].id}"))
    assert [row["Police station"] for row in rows] == ["Baraut", "Binauli"]
    assert rows[0]["Until"] == "current"
    assert rows[0]["Reason"] == "New police station carved out"


def test_a_place_outside_the_scope_is_not_found(client, spine, scoped_to):
    scoped_to(spine["baraut"])
    assert client.get(f"/geo/places/{spine['bijrol'].id}").status_code == 200
    assert client.get(f"/geo/places/{spine['bamnauli'].id}").status_code == 404
    assert client.get(f"/geo/places/{spine['sardhana'].id}").status_code == 404


# ---- search ---------------------------------------------------------------------------------


def found(client, query, **params):
    response = client.get("/geo/search", query_string={"q": query, **params})
    assert response.status_code == 200
    return [row["Name"].split()[0] for row in table_rows(response)]


def test_search_finds_a_place_by_its_hindi_name(client, spine):
    assert found(client, "बिजरौल") == ["BIJROL"]


def test_search_finds_a_place_by_part_of_its_roman_name_in_any_case(client, spine):
    assert found(client, "bijr") == ["BIJROL"]


def test_search_finds_a_place_by_a_roman_name_spelt_differently(client, spine):
    assert "BARAUT" in found(client, "Badaut")


def test_search_finds_a_place_by_its_lgd_code(client, spine):
    assert found(client, "119300") == ["BIJROL"]
    assert found(client, " 119301 ") == ["BAMNAULI"]


def test_devanagari_digits_are_not_an_lgd_code(client, spine):
    assert "BIJROL" not in found(client, "११९३००")


def test_a_too_short_query_explains_itself(client, spine):
    response = client.get("/geo/search?q=b")
    page = response.get_data(as_text=True)
    assert "Type at least two letters of the name, or a complete LGD code." in page
    assert table_rows(response) == []


def test_an_empty_search_shows_just_the_form(client, spine):
    page = client.get("/geo/search").get_data(as_text=True)
    assert 'name="q"' in page and "Type at least two letters" not in page


def test_an_overlong_query_is_refused_with_a_field_error(client, spine):
    page = client.get("/geo/search", query_string={"q": "b" * 101}).get_data(as_text=True)
    assert 'role="alert"' in page and 'aria-invalid="true"' in page


@pytest.mark.parametrize("query", ["%%", "__", "b%l", "b_j%", "%"])
def test_like_wildcards_in_the_query_match_only_themselves(client, spine, query):
    assert found(client, query) == []


def test_the_search_escapes_wildcards_even_when_the_key_keeps_them(
    app, spine, monkeypatch, control_room
):
    # Today's keys drop % and _, so prove the escaping itself with a key function that keeps them.
    monkeypatch.setattr(transliteration, "normalise_query", lambda text: text.lower())
    assert places.search_places(control_room, "bij").total == 1
    for query in ("%%", "__", "b%l", "b_jrol"):
        assert places.search_places(control_room, query).total == 0, query


def test_search_stays_inside_the_scope(client, spine, scoped_to):
    scoped_to(spine["meerut"])
    assert found(client, "SARDHANA") == ["SARDHANA"]
    assert found(client, "BIJROL") == []
    assert found(client, "119300") == []


def test_search_results_are_ordered_by_name_and_paginated_fifty_a_page(
    client, make_district, make_station, add_place, db
):
    station = make_station(make_district("Shamli", code="701"), "Kairana")
    for number in reversed(range(55)):
        add_place(f"KHERI {number:02d}", station=station)
    db.session.commit()
    first = [row["Name"] for row in table_rows(client.get("/geo/search?q=kheri"))]
    assert len(first) == 50 and first[0] == "KHERI 00" and first == sorted(first)
    assert [row["Name"] for row in table_rows(client.get("/geo/search?q=kheri&page=2"))] == [
        f"KHERI {number}" for number in range(50, 55)
    ]
    assert "Showing 51–55 of 55" in client.get("/geo/search?q=kheri&page=2").get_data(as_text=True)


def test_the_search_service_never_returns_more_than_fifty(
    app, make_district, make_station, add_place, db, control_room
):
    station = make_station(make_district("Shamli", code="701"), "Kairana")
    for number in range(60):
        add_place(f"KHERI {number:02d}", station=station)
    db.session.flush()
    result = places.search_places(control_room, "kheri", page=1, per_page=1000)
    assert len(result.items) == 50 and result.total == 60


def test_the_search_service_refuses_a_query_without_letters(app, control_room):
    with pytest.raises(places.QueryTooShort):
        places.search_places(control_room, "  x ")
