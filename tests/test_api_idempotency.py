"""Safe retries: the same Idempotency-Key and body within 24 hours gets the first answer without
doing it twice; another body is refused; conflicts say who and when."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import Contact, IdempotentRequest, Incident
from cplan.models.base import utcnow
from tests.api_contract import TODAY, report


def count(db, model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_retried_report_is_answered_again_without_a_second_incident(db, api_world, api_as):
    api = api_as(api_world["constable"])
    headers = {"Idempotency-Key": "3f1c-report-1"}
    when = (utcnow() - timedelta(hours=1)).isoformat()
    first = report(api, api_world["bijrol"], occurred_at=when, headers=headers)
    again = report(api, api_world["bijrol"], occurred_at=when, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(db, Incident) == 1


def test_the_same_key_with_another_body_is_refused(db, api_world, api_as):
    api = api_as(api_world["constable"])
    headers = {"Idempotency-Key": "key-2"}
    report(api, api_world["bijrol"], summary="One thing", headers=headers)
    other = report(api, api_world["bijrol"], summary="Another thing", headers=headers)
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(db, Incident) == 1


def test_keys_belong_to_their_device_and_expire_after_a_day(db, api_world, api_as):
    first = api_as(api_world["constable"])
    second = api_as(api_world["constable"])
    headers = {"Idempotency-Key": "shared"}
    report(first, api_world["bijrol"], headers=headers)
    report(second, api_world["bijrol"], headers=headers)
    assert count(db, Incident) == 2
    for record in db.session.scalars(select(IdempotentRequest)):
        record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    report(first, api_world["bijrol"], headers=headers)
    assert count(db, Incident) == 3


def test_a_refusal_is_kept_too_and_a_bad_key_names_the_header(db, api_world, api_as):
    api = api_as(api_world["constable"])
    url = f"/api/v1/places/{api_world['bijrol'].id}/contacts"
    body = {"name": "Sunita Devi", "mobile": "12345", "category": "teacher", "consent_on": TODAY}
    first = api.post(url, body, headers={"Idempotency-Key": "enrol-1"})
    again = api.post(url, body, headers={"Idempotency-Key": "enrol-1"})
    assert first.status_code == again.status_code == 422
    bad = api.post(url, body, headers={"Idempotency-Key": "नमस्ते"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(db, Contact) == 3  # the world's own


def test_the_stored_answer_is_sealed_at_rest(db, api_world, api_as):
    from sqlalchemy import text

    api = api_as(api_world["constable"])
    report(
        api,
        api_world["bijrol"],
        summary="A secret-looking summary",
        headers={"Idempotency-Key": "k"},
    )
    stored = db.session.execute(text("SELECT body FROM idempotent_requests")).scalar_one()
    assert stored.startswith("sealed:v1:") and "secret-looking" not in stored


@pytest.mark.slow
def test_two_copies_sent_together_make_one_incident(app, db, api_world, api_as):
    from tests.concurrency import run_together

    api = api_as(api_world["constable"])
    body = {
        "place_ids": [api_world["bijrol"].id],
        "kind": "rumour",
        "severity": "high",
        "occurred_at": utcnow().isoformat(),
        "summary": "Together",
    }
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": "together"}
    db.session.commit()  # SQLite: the reads above hold the write lock until they end

    def send():
        return app.test_client().post("/api/v1/incidents", json=body, headers=headers).status_code

    statuses = run_together(app, [send] * 4)
    assert count(db, Incident) == 1
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
