"""Exports with full numbers: a daily limit per officer, and the SP office sees them all.

Issue 14, finding 7: a station exported its 811 contacts with full numbers seven times in a day.
Now each officer may make ``FULL_NUMBER_EXPORTS_PER_DAY`` (3) per IST day; the next is refused
and recorded, and the SP office's "Exports with full numbers" page lists who, when, how many
contacts and why.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cplan.models import AuditEvent, Contact, ContactCategory, ContactStatus
from cplan.models.roster import Script
from cplan.pipelines import roster_export
from tests.concurrency import principal_in_thread, run_together

IST = ZoneInfo("Asia/Kolkata")
EXPORT = {
    "place_code": "",
    "file_format": "csv",
    "reason": "whatsapp_group",
    "note": "Station WhatsApp group for panchayat elections",
}


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    village = make_place("Bijwara", station=station, lgd_code="1001")
    for number in range(3):
        db.session.add(
            Contact(
                place=village,
                unit_path=village.unit_path,
                name=f"Person {number}",
                name_script=Script.LATIN,
                mobile=f"+91987654321{number}",
                category=ContactCategory.TEACHER,
                status=ContactStatus.ACTIVE,
            )
        )
    meerut = make_district("Meerut", code="140")
    world = {
        "station": station,
        "sho": make_officer("station_officer", station, name="Ram Kumar"),
        "asp": make_officer("asp", district),
        "sp": make_officer("sp_office", district, name="SP Office Baghpat"),
        "meerut_sp": make_officer("sp_office", meerut),
    }
    db.session.commit()
    return world


def export(client, world):
    return client.post("/roster-files/export", data={**EXPORT, "station": world["station"].id})


def test_the_fourth_export_of_the_day_is_refused_and_recorded(client, db, world, login_as):
    login_as(world["sho"])
    for _ in range(3):
        response = export(client, world)
        assert response.status_code == 200 and "+919876543210" in response.get_data(as_text=True)

    refused = export(client, world)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert "You have made 3 exports with full numbers today" in page and "+919876543210" not in page
    assert "Exports with full numbers left for you today: 0 of 3." in page
    db.session.rollback()
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.startswith("roster.export"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["roster.exported"] * 3 + ["roster.export_refused"]


def test_the_limit_belongs_to_the_officer_and_starts_again_at_midnight_ist(app, db, world):
    app.config["FULL_NUMBER_EXPORTS_PER_DAY"] = 2
    sho = principal_in_thread(world["sho"].id)
    late = datetime(2026, 3, 5, 23, 59, tzinfo=IST)
    assert roster_export.take_daily_export(sho, now=late) == 1
    assert roster_export.take_daily_export(sho, now=late) == 0
    with pytest.raises(roster_export.ExportLimitReached):
        roster_export.take_daily_export(sho, now=late)
    assert (
        roster_export.take_daily_export(sho, now=late + timedelta(minutes=2)) == 1
    )  # the next IST day
    assert roster_export.take_daily_export(principal_in_thread(world["asp"].id), now=late) == 1


def test_a_refused_or_failed_export_costs_nothing(app, db, world, login_as, client):
    login_as(world["sho"])
    bad = client.post(
        "/roster-files/export",
        data={**EXPORT, "station": world["station"].id, "place_code": "9999"},
    )
    assert bad.status_code == 400
    assert "left for you today: 3 of 3" in client.get("/roster-files/export").get_data(as_text=True)


def test_the_limit_is_configurable(app, client, db, world, login_as):
    app.config["FULL_NUMBER_EXPORTS_PER_DAY"] = 1
    login_as(world["sho"])
    assert export(client, world).status_code == 200
    assert export(client, world).status_code == 429


def test_two_exports_at_once_cannot_both_take_the_last_one(app, db, world):
    app.config["FULL_NUMBER_EXPORTS_PER_DAY"] = 1
    officer_id = world["sho"].id
    db.session.rollback()

    results = run_together(
        app, [lambda: roster_export.take_daily_export(principal_in_thread(officer_id))] * 2
    )

    assert sorted(type(result).__name__ for result in results) == ["ExportLimitReached", "int"]


def test_the_sp_office_sees_every_export_in_its_district(client, db, world, login_as):
    login_as(world["sho"])
    for _ in range(4):  # three exports and one refused
        export(client, world)

    login_as(world["sp"])
    page = client.get("/audit/exports").get_data(as_text=True)

    assert page.count(world["sho"].pno) >= 4
    assert (
        "Station WhatsApp group" in page
        and "Station WhatsApp group for panchayat elections" in page
    )
    assert "Refused: daily limit" in page
    assert "Today: 3 exports, 9 contacts in all. Officers who exported: 1. Refused: 1." in page
    assert "+91987654321" not in page
    only_sho = client.get(f"/audit/exports?pno={world['sho'].pno}").get_data(as_text=True)
    assert only_sho.count("<tr>") == 5  # the header and the four exports

    login_as(world["meerut_sp"])
    other = client.get("/audit/exports").get_data(as_text=True)
    assert world["sho"].pno not in other and "No exports with full numbers yet." in other

    login_as(world["sho"])
    assert client.get("/audit/exports").status_code == 403
