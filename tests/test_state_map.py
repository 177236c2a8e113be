"""The state map: above district level each district is a point at the centroid of its places,
coloured by the share of its villages at the contact target (or, during an election, of its
sensitive places), each a link to the district's own map, with the same figures as a table."""

import re
from datetime import timedelta

import pytest

from cplan.models.base import utcnow
from cplan.models.elections import (
    Election,
    ElectionAuthority,
    ElectionKind,
    ElectionPhase,
    PhaseDistrict,
    SensitivePlace,
    SensitivityLevel,
)
from tests.test_home import add_contacts, build_world, page
from tests.test_query_counts import statements_for

POINT = re.compile(
    r'<a href="/map/(\d+)"><circle class="map-(\w+)" cx="([\d.]+)" cy="([\d.]+)"/>'
    r"<title>([^<]*)</title></a>"
)


def points(html) -> dict[int, tuple[str, float, float, str]]:
    return {
        int(unit_id): (level, float(x), float(y), title)
        for unit_id, level, x, y, title in POINT.findall(html)
    }


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    world = build_world(make_district, make_station, make_place, make_officer, state)
    world["bijrol"].latitude, world["bijrol"].longitude = 29.10, 77.26
    world["sisana"].latitude, world["sisana"].longitude = 28.95, 77.40
    world["sardhana_village"].latitude, world["sardhana_village"].longitude = 29.14, 77.61
    return world


def test_the_control_room_sees_each_district_at_its_places_centroid_coloured_by_coverage(
    client, db, login_as, world, make_district
):
    add_contacts(db, world["bijrol"], 10)  # 1 of Baghpat's 3 villages at the target
    add_contacts(db, world["sardhana_village"], 2)
    make_district("Shamli", code="999")  # no place with coordinates
    db.session.commit()
    login_as(world["supervisor"])

    html = page(client, "/map")

    drawn = points(html)
    assert set(drawn) == {world["baghpat"].id, world["meerut"].id}
    baghpat, meerut = drawn[world["baghpat"].id], drawn[world["meerut"].id]
    assert baghpat[0] == "below" and meerut[0] == "none"  # 33% and 0% at the target
    # Baghpat's centroid (29.025 N, 77.33 E; Bamnauli has no coordinates) lies west and south
    # of Meerut's only village (29.14 N, 77.61 E).
    assert baghpat[1] < meerut[1] and baghpat[2] > meerut[2]
    assert baghpat[3] == "Baghpat: 1 of 3 villages and wards at the target (33%)"
    assert "1 district has no place with coordinates" in html
    # The drawing has a title and a description stating every figure, for screen readers.
    assert re.search(r'<svg [^>]*aria-labelledby="map-title" aria-describedby="map-desc"', html)
    description = re.search(r'<desc id="map-desc">([^<]*)</desc>', html).group(1)
    assert "Baghpat: 1 of 3" in description and "Meerut: 0 of 1" in description
    # The same figures as a table, every district (Shamli too) a link to its map.
    table = html[html.index("The districts as a table") :]
    for unit in (world["baghpat"], world["meerut"]):
        assert f'<a href="/map/{unit.id}">{unit.name_en}</a>' in table
    assert "Shamli" in table and re.search(r">\s*33%\s*<", table)


def test_a_districts_point_opens_its_village_map_and_the_home_links_the_state_map(
    client, db, login_as, world
):
    db.session.commit()
    login_as(world["supervisor"])
    assert 'href="/map"' in page(client)
    district_page = page(client, f"/map/{world['baghpat'].id}")
    assert f'href="/roster/places/{world["bijrol"].id}"' in district_page


def test_the_state_map_speaks_hindi(client, db, login_as, world):
    db.session.commit()
    login_as(world["supervisor"])
    client.post("/language/hi")
    html = page(client, "/map")
    assert points(html)[world["baghpat"].id][3].startswith("बागपत:")
    assert "ज़िले तालिका के रूप में" in html


def test_a_district_post_still_gets_its_village_map_not_the_state_map(client, db, login_as, world):
    db.session.commit()
    login_as(world["asp"])
    html = page(client, "/map")
    assert not points(html)
    assert f'href="/roster/places/{world["bijrol"].id}"' in html
    assert client.get(f"/map/{world['state'].id}").status_code == 404


def test_the_state_map_reads_the_same_number_of_statements_for_more_districts(
    client, db, login_as, world, make_district, make_station, make_place
):
    db.session.commit()
    login_as(world["supervisor"])
    few = statements_for(client, db, "/map")
    for n in range(5):
        district = make_district(f"District {n}", code=f"9{n}")
        station = make_station(district, f"Station {n}")
        make_place(f"VILLAGE {n}", station=station, latitude=27 + n / 10, longitude=80 + n / 10)
    db.session.commit()
    assert statements_for(client, db, "/map") == few


# ---- during an election -------------------------------------------------------------------------


@pytest.fixture
def election(db, world):
    """An election on in Baghpat (polling next spring) with BAMNAULI graded sensitive."""
    election = Election(
        kind=ElectionKind.GRAM_PANCHAYAT,
        authority=ElectionAuthority.STATE_ELECTION_COMMISSION,
        name_en="Panchayat 2027",
    )
    phase = ElectionPhase(
        election=election, number=1, poll_date=utcnow().date() + timedelta(days=120)
    )
    db.session.add_all([election, phase])
    db.session.flush()
    db.session.add(
        PhaseDistrict(election_id=election.id, phase_id=phase.id, district_id=world["baghpat"].id)
    )
    for booth in ("", "Booth 2"):  # two grades of one place count it once
        db.session.add(
            SensitivePlace(
                election_id=election.id,
                place_id=world["bamnauli"].id,
                booth=booth,
                unit_path=world["bamnauli"].unit_path,
                level=SensitivityLevel.HYPER_SENSITIVE,
                rank=2,
            )
        )
    db.session.flush()
    return election


def test_during_an_election_districts_are_coloured_by_their_sensitive_places(
    client, db, login_as, world, election
):
    world["bamnauli"].latitude, world["bamnauli"].longitude = 29.0, 77.3
    add_contacts(db, world["bamnauli"], 2)  # graded, 2 of the 10 contacts of the target
    add_contacts(db, world["bijrol"], 10)
    db.session.commit()
    login_as(world["supervisor"])

    html = page(client, "/map")

    drawn = points(html)
    assert drawn[world["baghpat"].id][0] == "none"
    assert drawn[world["baghpat"].id][3] == "Baghpat: 0 of 1 sensitive places at the target"
    assert drawn[world["meerut"].id][:1] == ("off",)  # Meerut does not vote
    assert 'href="/map?by=coverage"' in html
    table = html[html.index("The districts as a table") :]
    assert "Sensitive places" in table and "Meerut" in table

    by_coverage = page(client, "/map?by=coverage")
    assert points(by_coverage)[world["baghpat"].id][3] == (
        "Baghpat: 1 of 3 villages and wards at the target (33%)"
    )
    assert 'href="/map?by=sensitive"' in by_coverage
    assert "villages and wards at the target" in page(client, "/map?by=nonsense")


def test_without_an_election_there_is_no_sensitivity_colouring(client, db, login_as, world):
    db.session.commit()
    login_as(world["supervisor"])
    html = page(client, "/map?by=sensitive")
    assert "by=coverage" not in html and "no election on" in html


def test_each_worker_keeps_the_districts_figures_for_a_minute(client, db, login_as, world, app):
    """The figures read every place of the state: kept for ``STATE_MAP_CACHE_SECONDS``, so a
    contact enrolled meanwhile shows at the next reading, not at once."""
    db.session.commit()
    login_as(world["supervisor"])
    app.config["STATE_MAP_CACHE_SECONDS"] = 60
    try:
        first = points(page(client, "/map"))[world["baghpat"].id]
        add_contacts(db, world["bijrol"], 10)
        db.session.commit()
        kept = points(page(client, "/map"))[world["baghpat"].id]
        assert kept == first and kept[3].startswith("Baghpat: 0 of 3")
        app.config["STATE_MAP_CACHE_SECONDS"] = 0
        fresh = points(page(client, "/map"))[world["baghpat"].id]
        assert fresh[3].startswith("Baghpat: 1 of 3")
    finally:
        app.config["STATE_MAP_CACHE_SECONDS"] = 0
