"""The breach register: recorded by the SP office or the state, counted down, audited, exported."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cplan.formats import IST
from cplan.models.audit import AuditEvent
from cplan.models.base import utcnow
from cplan.models.breaches import Breach


def ist_input(moment):
    return moment.astimezone(IST).strftime("%Y-%m-%dT%H:%M")


def form(found_at, **changes):
    data = {
        "found_at": ist_input(found_at),
        "summary": "A roster export was mailed to a wrong address.",
        "data_affected": "names and mobile numbers of contacts",
        "people_affected": "240",
        "measures": "Recipient asked to delete it.",
    }
    data.update(changes)
    return data


@pytest.fixture
def offices(make_district, make_officer, state):
    baghpat = make_district("Baghpat", code="124")
    meerut = make_district("Meerut", code="135")
    return {
        "baghpat_sp": make_officer("sp_office", baghpat),
        "meerut_sp": make_officer("sp_office", meerut),
        "state_admin": make_officer("state_admin", state),
        "asp": make_officer("asp", baghpat),
    }


def events(db, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_sp_office_records_a_breach_and_sees_the_72_hour_countdown(
    client, db, offices, login_as
):
    login_as(offices["baghpat_sp"])
    found = utcnow() - timedelta(hours=7, minutes=5)

    response = client.post("/breaches/new", data=form(found))

    breach = db.session.scalars(select(Breach)).one()
    assert response.status_code == 302 and response.location.endswith(f"/breaches/{breach.id}")
    assert breach.people_affected == 240 and breach.version == 1
    page = client.get(f"/breaches/{breach.id}").get_data(as_text=True)
    assert "Due in 64 h 5" in page or "Due in 64 h 4" in page  # the Board's 72 hours
    assert "Overdue" in page and "by 1 h " in page  # CERT-In's 6 hours
    (event,) = events(db, "breach.recorded")
    assert event.target_id == breach.id and "mobile" not in event.detail


def test_a_report_made_stops_the_clock_and_the_update_is_audited(client, db, offices, login_as):
    login_as(offices["baghpat_sp"])
    found = utcnow() - timedelta(hours=8)
    client.post("/breaches/new", data=form(found))
    breach = db.session.scalars(select(Breach)).one()

    response = client.post(
        f"/breaches/{breach.id}",
        data=form(
            found,
            version="1",
            cert_in_reported_at=ist_input(found + timedelta(hours=7)),
            board_report_at=ist_input(found + timedelta(hours=7, minutes=30)),
        ),
    )

    assert response.status_code == 302
    db.session.refresh(breach)
    assert breach.version == 2 and breach.cert_in_reported_at is not None
    page = client.get(f"/breaches/{breach.id}").get_data(as_text=True)
    assert "Made late" in page and "Made in time" in page and "Due in" not in page
    (event,) = events(db, "breach.updated")
    assert event.detail_data == {"changed": ["board_report_at", "cert_in_reported_at"]}


def test_two_officers_editing_at_once_cannot_overwrite_each_other(client, db, offices, login_as):
    login_as(offices["baghpat_sp"])
    found = utcnow() - timedelta(hours=1)
    client.post("/breaches/new", data=form(found))
    breach = db.session.scalars(select(Breach)).one()
    client.post(f"/breaches/{breach.id}", data=form(found, version="1", people_affected="300"))

    stale = client.post(
        f"/breaches/{breach.id}", data=form(found, version="1", people_affected="5")
    )

    assert stale.status_code == 200 and "Someone else changed this breach" in stale.get_data(
        as_text=True
    )
    db.session.refresh(breach)
    assert breach.people_affected == 300


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"people_affected": "२४०"}, "digits 0-9"),
        ({"summary": "   "}, "Say what happened"),
        ({"board_told_at": "2020-01-01T10:00"}, "before the breach was found"),
    ],
)
def test_bad_details_are_refused_beside_their_field_and_nothing_is_saved(
    client, db, offices, login_as, changes, message
):
    login_as(offices["baghpat_sp"])
    response = client.post("/breaches/new", data=form(utcnow() - timedelta(hours=1), **changes))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalars(select(Breach)).all() == []


def test_a_breach_found_in_the_future_is_refused(client, db, offices, login_as):
    login_as(offices["baghpat_sp"])
    response = client.post("/breaches/new", data=form(utcnow() + timedelta(days=1)))
    assert "cannot be found in the future" in response.get_data(as_text=True)


def test_each_office_sees_its_own_breaches_and_the_state_sees_all(client, db, offices, login_as):
    login_as(offices["baghpat_sp"])
    client.post("/breaches/new", data=form(utcnow() - timedelta(hours=1)))
    breach = db.session.scalars(select(Breach)).one()

    login_as(offices["meerut_sp"])
    assert client.get(f"/breaches/{breach.id}").status_code == 404
    assert "mailed to a wrong address" not in client.get("/breaches/").get_data(as_text=True)

    login_as(offices["state_admin"])
    assert "mailed to a wrong address" in client.get("/breaches/").get_data(as_text=True)
    assert client.get(f"/breaches/{breach.id}").status_code == 200


def test_posts_without_the_permission_are_refused(client, offices, login_as):
    login_as(offices["asp"])
    assert client.get("/breaches/").status_code == 403
    assert client.post("/breaches/new", data={}).status_code == 403


def test_the_report_downloads_as_csv_and_the_download_is_audited(client, db, offices, login_as):
    login_as(offices["baghpat_sp"])
    client.post("/breaches/new", data=form(utcnow() - timedelta(hours=1)))
    breach = db.session.scalars(select(Breach)).one()

    response = client.post(f"/breaches/{breach.id}/export")

    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "People affected,240" in text and "Full report due by (IST)" in text
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(events(db, "breach.exported")) == 1


def test_the_pages_speak_hindi(client, offices, login_as):
    login_as(offices["baghpat_sp"])
    page = client.get("/breaches/", headers={"Accept-Language": "hi"}).get_data(as_text=True)
    assert "डेटा" in page
