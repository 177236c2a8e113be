"""Registering a phone through the sign-in steps, its device token, and the ways it ends."""

import re
from datetime import timedelta

import pytest

from cplan.models import DeviceToken
from cplan.models.base import utcnow
from cplan.services import accounts
from cplan.services.principal import Principal
from tests.api_contract import ApiClient
from tests.conftest import TEST_PASSWORD


def latest_code(number):
    from cplan.services.sms import get_outbox

    messages = [m for m in get_outbox() if m.to == number]
    return re.search(r"\b([0-9]{6})\b", messages[-1].text).group(1)


@pytest.fixture
def station(make_district, make_station):
    return make_station(make_district("Baghpat", code="124"), "Baraut")


@pytest.fixture
def sho(station, make_officer, db):
    officer = make_officer("station_officer", station)
    db.session.commit()
    return officer


def register(client, officer, name="SHO Baraut phone", password=TEST_PASSWORD):
    api = ApiClient(client)
    post = officer.test_post
    started = api.post("/api/v1/devices/challenges", {"cug": post.cug_number})
    assert started.status_code == 202
    challenge = started.get_json()["challenge"]
    proved = api.post(
        "/api/v1/devices/proofs", {"challenge": challenge, "code": latest_code(post.cug_number)}
    )
    assert proved.status_code == 200
    return api.post(
        "/api/v1/devices",
        {
            "proof": proved.get_json()["proof"],
            "pno": officer.pno,
            "password": password,
            "name": name,
        },
    )


def test_a_phone_registered_through_both_sign_in_steps_gets_a_token_stored_only_as_a_hash(
    client, sho, db
):
    response = register(client, sho)
    assert response.status_code == 201
    body = response.get_json()
    token = body["token"]
    assert token.startswith("cpl_")
    assert body["device"]["name"] == "SHO Baraut phone"
    assert body["device"]["post"]["id"] == sho.test_post.id
    device = db.session.get(DeviceToken, body["device"]["id"])
    assert token not in (device.token_hash, device.name)
    lifetime = device.expires_at - device.created_at
    assert lifetime == timedelta(days=30)
    mine = ApiClient(client, token).get("/api/v1/devices")
    assert mine.status_code == 200
    assert [d["id"] for d in mine.get_json()["items"]] == [device.id]
    assert "Set-Cookie" not in mine.headers


def test_a_wrong_password_gives_no_token_and_the_same_answer_as_a_wrong_code(client, sho):
    wrong_password = register(client, sho, password="not the password at all")
    assert wrong_password.status_code == 401
    assert wrong_password.mimetype == "application/problem+json"
    wrong_code = ApiClient(client).post(
        "/api/v1/devices/proofs", {"challenge": "nothing", "code": "123456"}
    )
    assert wrong_code.status_code == 401
    assert wrong_code.get_json()["title"] == wrong_password.get_json()["title"]


def test_a_malformed_step_names_the_field_in_the_reader_s_language(client):
    response = ApiClient(client, language="hi").post(
        "/api/v1/devices/proofs", {"challenge": "x", "code": "१२३४५६", "extra": 1}
    )
    assert response.status_code == 422
    body = response.get_json()
    assert {error["field"] for error in body["errors"]} == {"code", "extra"}
    assert body["title"] == "कुछ फ़ील्ड सही नहीं हैं।"


def test_a_device_name_without_a_letter_is_refused_naming_the_field(client, sho):
    response = register(client, sho, name="\u200b!!")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "name"


def test_without_a_token_the_api_answers_401_problem_json(client, sho):
    for token in (None, "cpl_unknown", "garbage"):
        response = ApiClient(client, token).get("/api/v1/devices")
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def _admin(make_officer, station):
    from cplan.services.geo import district_of

    return make_officer("sp_office", district_of(station))


@pytest.mark.parametrize(
    "end",
    ["revoked", "expired", "officer_deactivated", "unassigned", "post_deactivated", "cug_changed"],
)
def test_a_token_ends_at_once(client, db, sho, station, make_officer, api_as, end):
    api = api_as(sho)
    assert api.get("/api/v1/devices").status_code == 200
    admin = _admin(make_officer, station)
    actor = Principal(admin, admin.test_post, None)
    post = sho.test_post
    if end == "revoked":
        assert (
            ApiClient(client, api.token).post(f"/api/v1/devices/{api.device.id}/revoke").status_code
            == 200
        )
    elif end == "expired":
        api.device.expires_at = utcnow() - timedelta(seconds=1)
    elif end == "officer_deactivated":
        accounts.set_officer_active(actor, sho, False)
    elif end == "unassigned":
        accounts.unassign(actor, sho, post)
    elif end == "post_deactivated":
        accounts.set_post_active(actor, post, False)
    elif end == "cug_changed":
        accounts.change_cug(actor, post, "+919876543210")
    db.session.commit()
    assert api.get("/api/v1/devices").status_code == 401
    if end not in ("revoked", "expired"):
        # The row is ended too, so a later reactivation or reassignment does not revive it.
        db.session.refresh(api.device)
        assert api.device.revoked_at is not None


def test_the_sp_office_lists_and_revokes_its_district_s_tokens_but_not_another_s(
    client, db, sho, station, make_officer, make_district, make_station, api_as
):
    phone = api_as(sho)
    admin = api_as(_admin(make_officer, station))
    listed = admin.get("/api/v1/devices").get_json()["items"]
    assert phone.device.id in {d["id"] for d in listed}
    elsewhere = make_officer("sp_office", make_district("Meerut", code="140"))
    other = api_as(elsewhere)
    assert other.post(f"/api/v1/devices/{phone.device.id}/revoke").status_code == 404
    constable = api_as(make_officer("constable", station))
    assert constable.post(f"/api/v1/devices/{phone.device.id}/revoke").status_code == 404
    assert admin.post(f"/api/v1/devices/{phone.device.id}/revoke").status_code == 200
    assert phone.get("/api/v1/devices").status_code == 401


def test_requests_are_limited_per_token(app, client, sho, api_as):
    api = api_as(sho)
    other = api_as(sho)
    statuses = [api.get("/api/v1/devices").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429
    assert other.get("/api/v1/devices").status_code == 200
