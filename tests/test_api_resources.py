"""The field flow through /api/v1: places and rosters, enrolment and its decision, incidents.
Every answer is checked against the OpenAPI document (``tests.api_contract``)."""

from datetime import UTC, datetime
from urllib.parse import quote

from sqlalchemy import func, select

from cplan.models import AuditEvent, Contact, ContactStatus
from tests.api_contract import TODAY, report


def events(db, action):
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_a_constable_finds_a_village_in_either_script_and_sees_its_roster_in_full(
    db, api_world, api_as
):
    api = api_as(api_world["constable"])
    for query in ("bij", "बिज", "119300"):
        found = api.get(f"/api/v1/places?q={query}")
        assert found.status_code == 200
        assert [p["id"] for p in found.get_json()["items"]] == [api_world["bijrol"].id], query
    roster = api.get(f"/api/v1/places/{api_world['bijrol'].id}").get_json()
    assert len(roster["active"]) == 2 and len(roster["pending"]) == 1
    assert all(c["full_numbers"] and c["mobile"].startswith("+91987") for c in roster["active"])
    assert events(db, "roster.viewed") == 1


def test_posts_above_the_station_see_masked_numbers_and_the_read_is_audited(db, api_world, api_as):
    roster = api_as(api_world["asp"]).get(f"/api/v1/places/{api_world['bijrol'].id}").get_json()
    assert [c["mobile"][:10] for c in roster["active"]] == ["+91 ******"] * 2
    assert not any(c["full_numbers"] for c in roster["active"])
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "roster.viewed")).one()
    assert event.officer_id == api_world["asp"].id


def test_a_place_outside_the_scope_is_404_like_a_missing_one(api_world, api_as):
    api = api_as(api_world["constable"])
    outside = api.get(f"/api/v1/places/{api_world['sisana'].id}")
    missing = api.get("/api/v1/places/999999")
    assert outside.status_code == missing.status_code == 404
    assert outside.get_json() | {"instance": ""} == missing.get_json() | {"instance": ""}
    assert api.get("/api/v1/places?q=sisana").get_json()["items"] == []


def test_place_search_pages_with_a_cursor(api_world, make_place, api_as, db):
    for n in range(5):
        make_place(f"BIJ NAGAR {n}", station=api_world["baraut"])
    db.session.commit()
    api = api_as(api_world["constable"])
    seen, url = [], "/api/v1/places?q=bij&limit=4"
    while url:
        page = api.get(url).get_json()
        seen += [p["id"] for p in page["items"]]
        url = page["next"] and f"/api/v1/places?q=bij&limit=4&cursor={page['next']}"
    assert len(seen) == len(set(seen)) == 6
    bad = api.get("/api/v1/places?q=bij&cursor=nonsense")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "cursor"


def test_enrol_creates_a_pending_contact_and_a_bad_number_names_its_field(db, api_world, api_as):
    api = api_as(api_world["constable"])
    url = f"/api/v1/places/{api_world['bijrol'].id}/contacts"
    body = {"name": "Sunita Devi", "mobile": "098765 43210", "category": "teacher"}
    body["consent_on"] = TODAY
    created = api.post(url, body)
    assert created.status_code == 201
    assert created.get_json()["status"] == "pending"
    assert created.get_json()["mobile"] == "+919876543210"
    again = api.post(url, body | {"name": "Sunita Devi Sharma"})
    assert again.status_code == 409
    assert [c["id"] for c in again.get_json()["duplicates"]] == [created.get_json()["id"]]
    confirmed = api.post(url, body | {"name": "Sunita Devi Sharma", "confirm_duplicate": True})
    assert confirmed.status_code == 201
    bad = api.post(url, body | {"mobile": "12345"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["mobile"]
    missing = api.post(url, {"name": "Sunita Devi"})
    assert {e["field"] for e in missing.get_json()["errors"]} == {
        "mobile",
        "category",
        "consent_on",
    }
    assert (
        api_as(api_world["asp"]).post(url, body).status_code == 403
    )  # the ASP decides, not enrols


def test_an_enrolment_is_decided_once_and_the_loser_is_told_who_and_when(db, api_world, api_as):
    pending = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.PENDING))
    url = f"/api/v1/enrolments/{pending.id}/decision"
    body = {"action": "approve", "version": pending.version}
    won = api_as(api_world["asp"]).post(url, body)
    assert won.status_code == 200 and won.get_json()["status"] == "active"
    lost = api_as(api_world["sp_office"]).post(
        url, body | {"action": "reject", "reason": "duplicate"}
    )
    assert lost.status_code == 409
    assert lost.get_json()["decided_by"] == "Anita ASP"
    assert lost.get_json()["decided_at"]
    assert api_as(api_world["other_asp"]).post(url, body).status_code == 404
    assert api_as(api_world["constable"]).post(url, body).status_code == 403


def test_the_old_decision_url_still_works(db, api_world, login_as, client):
    pending = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.PENDING))
    login_as(api_world["asp"])
    response = client.post(
        f"/api/enrolments/{pending.id}/decision",
        json={"action": "approve", "version": pending.version},
    )
    assert response.status_code == 200 and response.json["status"] == "active"
    assert response.headers["Link"] == (
        f'</api/v1/enrolments/{pending.id}/decision>; rel="successor-version"'
    )


def test_a_contact_is_read_masked_above_the_station_and_audited(db, api_world, api_as):
    contact = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.ACTIVE))
    seen = api_as(api_world["supervisor"]).get(f"/api/v1/contacts/{contact.id}").get_json()
    assert seen["mobile"].startswith("+91 ******") and not seen["full_numbers"]
    assert events(db, "roster.contact_viewed") == 1
    assert api_as(api_world["kotwali_so"]).get(f"/api/v1/contacts/{contact.id}").status_code == 404


def test_the_field_flow_report_call_note_and_status(db, api_world, api_as):
    api = api_as(api_world["constable"])
    created = report(api, api_world["bijrol"])
    assert created.status_code == 201
    incident = created.get_json()
    assert incident["status"] == "new" and incident["reference"].startswith("124/")
    contact = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.ACTIVE))
    call = api.post(
        f"/api/v1/incidents/{incident['id']}/calls",
        {"contact_id": contact.id, "outcome": "denied", "said": "All calm here"},
    )
    assert call.status_code == 201 and call.get_json()["contact_id"] == contact.id
    note = api.post(f"/api/v1/incidents/{incident['id']}/notes", {"text": "Beat sent"})
    assert note.status_code == 201
    shown = api.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert shown["status"] == "verifying"  # the first call started the verification by itself
    moved = api.post(
        f"/api/v1/incidents/{incident['id']}/status",
        {"status": "unconfirmed", "version": shown["version"]},
    )
    assert moved.status_code == 200 and moved.get_json()["status"] == "unconfirmed"
    kinds = [entry["kind"] for entry in moved.get_json()["timeline"]]
    assert "call" in kinds and kinds[-2:] == ["note", "status_change"]
    stale = api_as(api_world["asp"]).post(
        f"/api/v1/incidents/{incident['id']}/status",
        {"status": "found_false", "version": shown["version"]},
    )
    assert stale.status_code == 409
    assert stale.get_json()["decided_by"] == "Ram Constable"
    wrong = api.post(
        f"/api/v1/incidents/{incident['id']}/status",
        {"status": "closed", "version": moved.get_json()["version"]},
    )
    assert wrong.status_code == 409


def test_incidents_are_listed_in_scope_with_cursors_and_updated_since(db, api_world, api_as):
    constable = api_as(api_world["constable"])
    ids = [report(constable, api_world["bijrol"]).get_json()["id"] for _ in range(5)]
    other = report(api_as(api_world["kotwali_so"]), api_world["sisana"]).get_json()["id"]
    seen, url = [], "/api/v1/incidents?limit=2"
    while url:
        page = constable.get(url).get_json()
        seen += [i["id"] for i in page["items"]]
        url = page["next"] and f"/api/v1/incidents?limit=2&cursor={page['next']}"
    assert seen == ids  # the other station's incident is not among them
    everything = api_as(api_world["supervisor"]).get("/api/v1/incidents").get_json()["items"]
    assert {i["id"] for i in everything} == {*ids, other}
    assert constable.get(f"/api/v1/incidents/{other}").status_code == 404
    since = quote(datetime.now(UTC).isoformat())
    assert constable.get(f"/api/v1/incidents?updated_since={since}").get_json()["items"] == []
    constable.post(f"/api/v1/incidents/{ids[2]}/notes", {"text": "Still calm"})
    changed = constable.get(f"/api/v1/incidents?updated_since={since}").get_json()["items"]
    assert [i["id"] for i in changed] == [ids[2]]


def test_a_report_for_a_place_outside_the_scope_is_404(api_world, api_as):
    assert report(api_as(api_world["constable"]), api_world["sardhana"]).status_code == 404


def test_a_device_token_needs_no_csrf_token_but_a_web_session_does(
    app, db, api_world, api_as, login_as, client
):
    app.config["WTF_CSRF_ENABLED"] = True
    pending = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.PENDING))
    url = f"/api/v1/enrolments/{pending.id}/decision"
    body = {"action": "approve", "version": pending.version}
    login_as(api_world["sp_office"])
    refused = client.post(url, json=body)  # the browser's cookie, no X-CSRFToken
    # With the cookie still there, a device token is who asks (and needs no CSRF token).
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    accepted = api_as(api_world["asp"]).post(url, body)
    assert accepted.status_code == 200


def test_a_roster_synced_with_updated_since_gives_what_changed_after_the_stamp_and_what_left(
    db, api_world, api_as
):
    from datetime import timedelta

    from sqlalchemy import update

    db.session.execute(update(Contact).values(updated_at=datetime.now(UTC) - timedelta(days=1)))
    db.session.commit()
    constable = api_as(api_world["constable"])
    url = f"/api/v1/places/{api_world['bijrol'].id}"
    since = quote(datetime.now(UTC).isoformat())
    unchanged = constable.get(f"{url}?updated_since={since}").get_json()
    assert (unchanged["active"], unchanged["pending"], unchanged["removed"]) == ([], [], [])
    pending = db.session.scalar(select(Contact).where(Contact.status == ContactStatus.PENDING))
    approved = api_as(api_world["asp"]).post(
        f"/api/v1/enrolments/{pending.id}/decision",
        {"action": "approve", "version": pending.version},
    )
    assert approved.status_code == 200
    left = db.session.scalar(
        select(Contact).where(Contact.status == ContactStatus.ACTIVE, Contact.id != pending.id)
    )
    left.status = ContactStatus.INACTIVE
    db.session.commit()
    changed = constable.get(f"{url}?updated_since={since}").get_json()
    assert [c["id"] for c in changed["active"]] == [pending.id]  # the other active one is older
    assert changed["pending"] == []
    assert [(c["id"], c["status"]) for c in changed["removed"]] == [(left.id, "inactive")]
    # Without a stamp the whole roster, as before; nothing listed as removed.
    whole = constable.get(url).get_json()
    assert len(whole["active"]) == 2 and whole["removed"] == []
    assert constable.get(f"{url}?updated_since=yesterday").status_code == 422
