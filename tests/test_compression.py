"""Responses are compressed by the app when the browser accepts it (no proxy needed), keeping
every security header; the contact search, which echoes the typed text beside citizens'
numbers, is never compressed; a deployment behind a compressing proxy can switch it off."""

import gzip

import brotli
import pytest

from tests.test_home import add_contacts, build_world


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    return build_world(make_district, make_station, make_place, make_officer, state)


def test_a_page_travels_compressed_with_its_security_headers(client, db, login_as, world):
    add_contacts(db, world["bijrol"], 12)
    db.session.commit()
    login_as(world["baraut_constable"])
    url = f"/roster/places/{world['bijrol'].id}"

    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) * 3 < len(plain.data)
    for header in ("Content-Security-Policy", "X-Frame-Options", "Cross-Origin-Opener-Policy"):
        assert packed.headers[header] == plain.headers[header]


def test_the_stylesheet_travels_compressed(client):
    response = client.get("/static/css/cplan.css", headers={"Accept-Encoding": "gzip"})
    body = gzip.decompress(response.get_data())
    response.close()
    assert response.headers["Content-Encoding"] == "gzip" and b".more-filters" in body
    response = client.get("/static/css/cplan.css", headers={"Accept-Encoding": "gzip, br"})
    assert brotli.decompress(response.get_data()) == body
    response.close()


def test_the_contact_search_is_never_compressed(client, db, login_as, world):
    add_contacts(db, world["bijrol"], 3)
    db.session.commit()
    login_as(world["baraut_constable"])
    response = client.get("/search?q=Citizen", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and len(response.data) > 500
    assert "Content-Encoding" not in response.headers
    assert 'value="Citizen"' in response.get_data(as_text=True)  # the typed text, echoed


def test_compression_can_be_left_to_a_proxy(app):
    from cplan import create_app

    quiet = create_app({**app.config, "COMPRESS_RESPONSES": False})
    response = quiet.test_client().get("/auth/sign-in", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
