"""Verification drives and meetings through the API: a phone lists its station's tasks (cursor
paging, ``updated_since``), gets "verify next", records outcomes once (Idempotency-Key; 409
naming who won a race), and lists and records meetings; the same scope and audit as the pages."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, update

from cplan.extensions import db
from cplan.models import (
    AuditEvent,
    Contact,
    ContactProposal,
    ContactStatus,
    TaskState,
    VerificationTask,
)
from cplan.models.base import utcnow
from cplan.services import drives
from cplan.services.principal import Principal


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


@pytest.fixture
def drive(db, api_world):
    """A drive of Baghpat opened by the SP office, two days ago: a task per active contact."""
    today = datetime.now(UTC).date()
    opened = drives.open_drive(
        principal(api_world["sp_office"]),
        scope_unit_id=api_world["district"].id,
        opens_on=today,
        due_on=today + timedelta(days=10),
        max_age_days=30,
    )
    # Everything so far happened two days ago, so a stamp taken now is later than all of it.
    past = utcnow() - timedelta(days=2)
    opened.opened_at = past
    db.session.execute(update(Contact).values(updated_at=past, consent_on=today))
    db.session.commit()
    return opened


def audits(db, action):
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def all_pages(api, url):
    seen = []
    while url:
        page = api.get(url).get_json()
        seen += page["items"]
        url = page["next"] and f"{url.split('cursor=')[0].rstrip('&')}&cursor={page['next']}"
    return seen


def test_a_phone_lists_its_stations_tasks_page_by_page_with_full_numbers(
    db, api_world, api_as, drive
):
    constable = api_as(api_world["constable"])
    assert [d["id"] for d in constable.get("/api/v1/drives").get_json()["items"]] == [drive.id]
    tasks = all_pages(constable, f"/api/v1/drives/{drive.id}/tasks?limit=1")
    assert len(tasks) == 2 == drive.task_count  # the two active contacts of Bijrol
    assert {t["state"] for t in tasks} == {"pending"}
    assert all(t["contact"]["mobile"].startswith("+9198765") for t in tasks)
    assert all(t["place"]["id"] == api_world["bijrol"].id for t in tasks)
    assert audits(db, "drive.tasks_viewed") == 2  # a full number sent is kept, page by page
    # The ASP sees the same tasks with the numbers masked, and nothing is audited for it.
    asp = api_as(api_world["asp"]).get(f"/api/v1/drives/{drive.id}/tasks").get_json()["items"]
    assert {t["id"] for t in asp} == {t["id"] for t in tasks}
    assert all("*" in t["contact"]["mobile"] for t in asp)
    assert audits(db, "drive.tasks_viewed") == 2


def test_updated_since_gives_the_tasks_changed_after_the_stamp_and_nothing_older(
    db, api_world, api_as, drive
):
    constable = api_as(api_world["constable"])
    url = f"/api/v1/drives/{drive.id}/tasks"
    since = quote(datetime.now(UTC).isoformat())
    assert constable.get(f"{url}?updated_since={since}").get_json()["items"] == []
    first = constable.get(url).get_json()["items"][0]
    recorded = constable.post(
        f"/api/v1/drives/tasks/{first['id']}/outcome",
        {"outcome": "confirmed", "version": first["version"]},
    )
    assert recorded.status_code == 200
    changed = constable.get(f"{url}?updated_since={since}").get_json()["items"]
    assert [(t["id"], t["state"], t["done_by"]) for t in changed] == [
        (first["id"], "confirmed", "Ram Constable")
    ]
    # Only the pending ones, for the list of work still to do.
    pending = constable.get(f"{url}?state=pending").get_json()["items"]
    assert first["id"] not in {t["id"] for t in pending} and len(pending) == 1


def test_a_contact_corrected_after_the_stamp_brings_its_task_back(db, api_world, api_as, drive):
    constable = api_as(api_world["constable"])
    since = datetime.now(UTC)
    task = db.session.scalar(select(VerificationTask).order_by(VerificationTask.id).limit(1))
    task.contact.name = "Citizen Renamed"
    db.session.commit()
    got = constable.get(
        f"/api/v1/drives/{drive.id}/tasks?updated_since={quote(since.isoformat())}"
    ).get_json()["items"]
    assert [(t["id"], t["contact"]["name"]) for t in got] == [(task.id, "Citizen Renamed")]


def test_verify_next_gives_one_contact_with_the_number_and_is_audited(db, api_world, api_as, drive):
    constable = api_as(api_world["constable"])
    task = constable.get(f"/api/v1/drives/{drive.id}/next").get_json()["task"]
    assert task["state"] == "pending" and task["contact"]["mobile"].startswith("+9198765")
    assert audits(db, "drive.next_viewed") == 1
    # Above the station there is no "verify next": the ASP has no permission to record.
    assert api_as(api_world["asp"]).get(f"/api/v1/drives/{drive.id}/next").status_code == 403
    # Both contacts done: nothing left, and nothing audited.
    for _ in range(2):
        task = constable.get(f"/api/v1/drives/{drive.id}/next").get_json()["task"]
        outcome = {"outcome": "confirmed", "version": task["version"], "method": "visit"}
        assert (
            constable.post(f"/api/v1/drives/tasks/{task['id']}/outcome", outcome).status_code == 200
        )
    assert constable.get(f"/api/v1/drives/{drive.id}/next").get_json() == {"task": None}
    assert audits(db, "drive.next_viewed") == 3


def test_an_outcome_recorded_first_by_another_phone_is_409_naming_who_and_when(
    db, api_world, api_as, make_officer, drive
):
    first = api_as(api_world["constable"])
    second = api_as(make_officer("station_officer", api_world["baraut"], name="Shyam SO"))
    task = second.get(f"/api/v1/drives/{drive.id}/next").get_json()["task"]
    body = {"outcome": "confirmed", "version": task["version"]}
    assert first.post(f"/api/v1/drives/tasks/{task['id']}/outcome", body).status_code == 200
    lost = second.post(f"/api/v1/drives/tasks/{task['id']}/outcome", body)
    assert lost.status_code == 409 and lost.mimetype == "application/problem+json"
    problem = lost.get_json()
    assert problem["decided_by"] == "Ram Constable" and problem["decided_at"]
    assert "Ram Constable" in problem["detail"]
    assert audits(db, "drive.outcome_recorded") == 1


def test_a_retried_attempt_with_the_same_key_is_counted_once(db, api_world, api_as, drive):
    constable = api_as(api_world["constable"])
    task = constable.get(f"/api/v1/drives/{drive.id}/next").get_json()["task"]
    url = f"/api/v1/drives/tasks/{task['id']}/outcome"
    body = {"outcome": "unreachable", "version": task["version"]}
    headers = {"Idempotency-Key": "attempt-1"}
    first = constable.post(url, body, headers=headers)
    again = constable.post(url, body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert first.get_json()["attempts"] == 1 and first.get_json()["state"] == "pending"
    assert db.session.get(VerificationTask, task["id"]).attempts == 1
    assert audits(db, "drive.attempt_recorded") == 1


def test_changed_and_unsuitable_go_to_the_asp_and_bad_input_names_the_field(
    db, api_world, api_as, drive
):
    constable = api_as(api_world["constable"])
    tasks = constable.get(f"/api/v1/drives/{drive.id}/tasks").get_json()["items"]
    url = f"/api/v1/drives/tasks/{tasks[0]['id']}/outcome"
    refused = constable.post(url, {"outcome": "unsuitable", "version": tasks[0]["version"]})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["reason"]
    bad = constable.post(url, {"outcome": "maybe", "version": tasks[0]["version"]})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "outcome"
    changed = constable.post(
        url,
        {
            "outcome": "changed",
            "version": tasks[0]["version"],
            "details": {"mobile": "98765 99999"},
        },
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["state"] == "changed"
    removal = constable.post(
        f"/api/v1/drives/tasks/{tasks[1]['id']}/outcome",
        {"outcome": "unsuitable", "version": tasks[1]["version"], "reason": "moved"},
    )
    assert removal.status_code == 200 and removal.get_json()["state"] == "unsuitable"
    proposals = db.session.scalars(select(ContactProposal).order_by(ContactProposal.id)).all()
    assert [p.kind.value for p in proposals] == ["correction", "removal"]
    assert "+919876599999" in proposals[0].changes
    assert db.session.get(Contact, tasks[0]["contact"]["id"]).mobile != "+919876599999"


def test_another_stations_post_cannot_see_or_record_the_task(db, api_world, api_as, drive):
    task = db.session.scalar(select(VerificationTask).limit(1))
    kotwali = api_as(api_world["kotwali_so"])
    assert kotwali.get(f"/api/v1/drives/{drive.id}/tasks").get_json()["items"] == []
    refused = kotwali.post(
        f"/api/v1/drives/tasks/{task.id}/outcome", {"outcome": "confirmed", "version": 1}
    )
    assert refused.status_code == 404
    assert db.session.get(VerificationTask, task.id).state == TaskState.PENDING
    other = api_as(api_world["other_asp"])
    assert other.get(f"/api/v1/drives/{drive.id}").status_code == 404
    assert other.get(f"/api/v1/drives/{drive.id}/tasks").status_code == 404


# ---- meetings ------------------------------------------------------------------------------------


def meeting_body(api_world, **overrides):
    contacts = (
        select(Contact.id)
        .where(Contact.place_id == api_world["bijrol"].id, Contact.status == ContactStatus.ACTIVE)
        .order_by(Contact.id)
    )
    return {
        "held_at": (utcnow() - timedelta(hours=2)).isoformat(),
        "venue": "Panchayat bhawan, Bijrol",
        "chaired_by": "SHO Baraut",
        "place_ids": [api_world["bijrol"].id],
        "attended_ids": list(db.session.scalars(contacts))[:1],
        "topics": "Festival arrangements",
    } | overrides


def test_a_meeting_recorded_by_phone_confirms_who_came_and_is_listed(db, api_world, api_as, drive):
    constable = api_as(api_world["constable"])
    since = quote(datetime.now(UTC).isoformat())
    body = meeting_body(api_world)
    recorded = constable.post("/api/v1/meetings", body, headers={"Idempotency-Key": "m-1"})
    assert recorded.status_code == 201
    meeting = recorded.get_json()
    assert meeting["confirmed_in_drives"] == 1 and meeting["attendance"] == 1
    assert [a["id"] for a in meeting["attendees"]] == body["attended_ids"]
    replay = constable.post("/api/v1/meetings", body, headers={"Idempotency-Key": "m-1"})
    assert replay.get_json()["id"] == meeting["id"] and audits(db, "meeting.recorded") == 1
    task = db.session.scalar(
        select(VerificationTask).where(VerificationTask.contact_id == body["attended_ids"][0])
    )
    assert task.state == TaskState.CONFIRMED and task.method.value == "meeting"
    # Listed for the station, its district and the state; changed since the stamp.
    for who in ("constable", "asp", "supervisor"):
        listed = api_as(api_world[who]).get(f"/api/v1/meetings?updated_since={since}")
        assert [m["id"] for m in listed.get_json()["items"]] == [meeting["id"]], who
    later = quote((datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    assert constable.get(f"/api/v1/meetings?updated_since={later}").get_json()["items"] == []
    assert (
        api_as(api_world["kotwali_so"]).get(f"/api/v1/meetings/{meeting['id']}").status_code == 404
    )
    # The confirmed task comes back to a phone syncing the drive.
    synced = constable.get(f"/api/v1/drives/{drive.id}/tasks?updated_since={since}").get_json()
    assert [(t["id"], t["method"]) for t in synced["items"]] == [(task.id, "meeting")]


def test_meetings_page_by_cursor_in_the_order_recorded(db, api_world, api_as):
    constable = api_as(api_world["constable"])
    ids = [
        constable.post("/api/v1/meetings", meeting_body(api_world, venue=f"Hall {n}")).get_json()[
            "id"
        ]
        for n in range(3)
    ]
    assert [m["id"] for m in all_pages(constable, "/api/v1/meetings?limit=2")] == ids


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"venue": "   "}, "venue"),
        ({"place_ids": []}, "place_ids"),
        ({"attended_ids": [10**9]}, "attended"),
    ],
)
def test_a_meeting_with_bad_details_is_refused_naming_the_field(
    db, api_world, api_as, overrides, field
):
    refused = api_as(api_world["constable"]).post(
        "/api/v1/meetings", meeting_body(api_world, **overrides)
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == [field]
    assert audits(db, "meeting.recorded") == 0


def test_the_sardhana_village_cannot_be_invited_and_an_asp_cannot_record(db, api_world, api_as):
    other_village = meeting_body(api_world, place_ids=[api_world["sardhana"].id], attended_ids=[])
    refused = api_as(api_world["constable"]).post("/api/v1/meetings", other_village)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "places"
    asp = api_as(api_world["asp"]).post("/api/v1/meetings", meeting_body(api_world))
    assert asp.status_code == 403
    assert audits(db, "meeting.recorded") == 0
