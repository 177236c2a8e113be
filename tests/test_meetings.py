"""Coordination meetings: recorded by a station, attendance confirms contacts in open drives."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import AuditEvent, CoordinationMeeting, TaskState, VerificationTask
from cplan.models.base import utcnow
from cplan.services import meetings
from cplan.services.errors import NotAllowed
from tests import test_drives
from tests.test_drives import open_for, principal, progress

# The fixtures of the drive tests, shared.
make_contact = test_drives.make_contact
world = test_drives.world


def record(world, who="baraut_so", **overrides):
    values = dict(
        held_at=utcnow() - timedelta(hours=2),
        venue="Panchayat bhawan, Bijrol",
        chaired_by="SHO Baraut",
        place_ids=[world["bijrol"].id, world["bamnauli"].id],
        attended_ids=[c.id for c in world["contacts"]["bijrol"][:2]],
        topics="Peaceful polls",
    )
    values.update(overrides)
    return meetings.record_meeting(principal(world[who]), **values)


def test_attending_confirms_the_contacts_in_the_open_drive(db, world):
    drive = open_for(world)
    meeting = record(world)
    assert meeting.attendance == 2 and meeting.confirmed_in_drives == 2
    states = db.session.scalars(
        select(VerificationTask).where(
            VerificationTask.contact_id.in_([c.id for c in world["contacts"]["bijrol"][:2]])
        )
    ).all()
    assert {(t.state, t.method.value) for t in states} == {(TaskState.CONFIRMED, "meeting")}
    assert progress(db, drive)["confirmed"] == 2
    assert (
        db.session.scalar(select(func.count()).where(AuditEvent.action == "meeting.recorded")) == 1
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"venue": "  "}, "venue"),
        ({"held_at": utcnow() + timedelta(days=2)}, "held_at"),
        ({"place_ids": []}, "places"),
        ({"attended_ids": [-1]}, "attended"),
    ],
)
def test_a_meeting_with_bad_details_is_refused_naming_the_field(db, world, overrides, field):
    with pytest.raises(meetings.MeetingError) as refused:
        record(world, **overrides)
    assert refused.value.field == field
    assert db.session.scalar(select(func.count(CoordinationMeeting.id))) == 0


def test_another_stations_village_or_contact_cannot_be_ticked(db, world):
    with pytest.raises(meetings.MeetingError):
        record(world, who="khekra_so")  # Bijrol and Bamnauli belong to Baraut
    with pytest.raises(NotAllowed):
        record(world, who="sp")  # meetings are the station's


def test_the_station_records_a_meeting_on_its_page_and_the_district_counts_it(
    client, db, login_as, world
):
    db.session.commit()
    login_as(world["baraut_so"])
    bijrol = world["bijrol"].id
    page = client.get(f"/meetings/new?place={bijrol}").get_data(as_text=True)
    first = world["contacts"]["bijrol"][0]
    assert f'name="attended" value="{first.id}"' in page
    response = client.post(
        "/meetings/new",
        data={
            "place": str(bijrol),
            "attended": [str(first.id)],
            "held_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
            "venue": "Thana Baraut",
            "chaired_by": "SHO Baraut",
            "topics": "",
            "notes": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thana Baraut" in page and first.name in page
    login_as(world["sp"])
    page = client.get("/meetings/").get_data(as_text=True)
    assert "1 meeting" in page and "Baraut" in page
    login_as(world["meerut_sp"])
    meeting_id = db.session.scalar(select(CoordinationMeeting.id))
    assert client.get(f"/meetings/{meeting_id}").status_code == 404


def test_the_meeting_pages_read_in_hindi(client, db, login_as, world):
    meeting = record(world)
    db.session.commit()
    login_as(world["baraut_so"])
    client.post("/language/hi", data={"next": "/"})
    bijrol = world["bijrol"].id
    form = client.get(f"/meetings/new?place={bijrol}").get_data(as_text=True)
    assert 'lang="hi"' in form and "समन्वय बैठक दर्ज करें" in form
    assert "Record a coordination meeting" not in form
    listed = client.get("/meetings/").get_data(as_text=True)
    assert "समन्वय बैठकें" in listed and "Coordination meetings" not in listed
    shown = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "समन्वय बैठक" in shown and "Panchayat bhawan, Bijrol" in shown
