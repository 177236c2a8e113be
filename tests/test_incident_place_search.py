"""The incident form offers the station's villages through a search (issue 17), not a checkbox
for each of its 84 villages: places found or already chosen are checkboxes, the station's other
villages one list (the form without scripts), and ``/incidents/places`` answers the search as it
is typed (static/js/place-finder.js, driven in a browser by tests/e2e/test_call_sheet.py)."""

import re

import pytest

from tests.test_home import build_world, page


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    return build_world(make_district, make_station, make_place, make_officer, state)


def place_boxes(html):
    return re.findall(r'<input type="checkbox" name="places" value="(\d+)"( checked)?>', html)


def test_a_station_gets_one_list_of_its_villages_and_the_search_not_a_box_for_each(
    client, login_as, world
):
    login_as(world["baraut_constable"])
    html = page(client, "/incidents/new")
    assert place_boxes(html) == []
    listing = html[html.index('<select id="place-select" name="places" multiple') :]
    listing = listing[: listing.index("</select>")]
    assert re.findall(r'<option value="(\d+)">', listing) == [
        str(world["bamnauli"].id),
        str(world["bijrol"].id),
    ]  # by name, the station's own only, none chosen for the officer
    assert "SISANA" not in html and "selected" not in listing
    assert re.search(r'<script src="/static/js/place-finder\.js[^"]*" defer></script>', html)
    assert 'data-places-url="/incidents/places"' in html
    assert 'autocomplete="off"' in html[html.index('name="q"') - 200 : html.index('name="q"') + 200]


def test_the_plain_search_shows_the_places_found_as_unticked_boxes(client, login_as, world):
    login_as(world["baraut_constable"])
    html = page(client, "/incidents/new?q=BIJ")
    assert place_boxes(html) == [(str(world["bijrol"].id), "")]
    assert 'id="place-select"' not in html


def test_a_place_the_officer_came_from_is_ticked_and_the_others_stay_in_the_list(
    client, login_as, world
):
    login_as(world["baraut_constable"])
    html = page(client, f"/incidents/new?place={world['bijrol'].id}&kind=rumour")
    assert place_boxes(html) == [(str(world["bijrol"].id), " checked")]
    listing = html[html.index('id="place-select"') : html.index("</select>")]
    assert str(world["bamnauli"].id) in listing and str(world["bijrol"].id) not in listing


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("BIJ", ["bijrol"]),
        ("bij", ["bijrol"]),
        ("बिज", ["bijrol"]),
        ("BAM", ["bamnauli"]),
        ("B", []),  # too short to search
        ("SISANA", []),  # another station's village
        ("", []),
    ],
)
def test_the_search_as_you_type_finds_the_stations_places_only(
    client, login_as, world, query, found
):
    login_as(world["baraut_constable"])
    response = client.get("/incidents/places", query_string={"q": query})
    assert response.status_code == 200 and response.is_json
    places = response.get_json()["places"]
    assert [place["id"] for place in places] == [world[name].id for name in found]
    if found == ["bijrol"]:
        assert places[0]["label"] in ("BIJROL (Baraut)", "बिजरौल (Baraut)")


def test_a_district_searches_its_whole_district_and_no_other(client, login_as, world):
    login_as(world["asp"])
    labels = [p["label"] for p in client.get("/incidents/places?q=SI").get_json()["places"]]
    assert labels == ["SISANA (Kotwali)"]
    assert client.get("/incidents/places?q=SARDHANA").get_json()["places"] == []


def test_the_search_needs_a_post_that_reports_incidents(client):
    response = client.get("/incidents/places?q=BIJ")
    assert response.status_code == 302 and "/auth/sign-in" in response.location
    assert not response.is_json
