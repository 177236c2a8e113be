"""The drive pages: opening a drive, its progress, and the station's "verify next"."""

from datetime import timedelta

from sqlalchemy import func, select

from cplan.models import AuditEvent, ContactProposal, TaskState, VerificationTask
from cplan.services import drives
from tests import test_drives
from tests.test_drives import TODAY, open_for, principal, progress

# The fixtures of the drive tests, shared.
make_contact = test_drives.make_contact
world = test_drives.world


def test_the_sp_office_opens_a_drive_and_sees_its_progress(client, db, login_as, world):
    login_as(world["sp"])
    page = client.get("/drives/new").get_data(as_text=True)
    assert "Baghpat" in page and "Panchayat 2027, phase 2" in page
    response = client.post(
        "/drives/new",
        data={
            "scope_unit_id": str(world["baghpat"].id),
            "phase_id": "",
            "opens_on": TODAY.isoformat(),
            "due_on": (TODAY + timedelta(days=10)).isoformat(),
            "max_age_days": "30",
            "name": "Before the polls",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Before the polls" in page and "Baraut" in page and "Khekra" in page
    assert "Drive opened with 7 contacts to verify." in page


def test_an_overlapping_drive_is_refused_on_the_form_naming_the_open_one(
    client, db, login_as, world
):
    first = open_for(world, name="First")
    db.session.commit()
    login_as(world["control_room"])
    response = client.post(
        "/drives/new",
        data={
            "scope_unit_id": str(world["state"].id),
            "opens_on": TODAY.isoformat(),
            "due_on": (TODAY + timedelta(days=3)).isoformat(),
            "max_age_days": "30",
        },
    )
    assert response.status_code == 400
    assert f"Drive {first.id} (First" in response.get_data(as_text=True)


def test_verify_next_shows_one_contact_with_a_call_button_and_moves_on(client, db, login_as, world):
    drive = open_for(world, who="control_room", unit="state", phase_id=world["phase"].id)
    db.session.commit()
    login_as(world["baraut_constable"])
    page = client.get(f"/drives/{drive.id}/next").get_data(as_text=True)
    task = drives.next_task(principal(world["baraut_constable"]), drive, world["baraut"])
    assert task.place_id == world["bamnauli"].id  # the hyper-sensitive village first
    assert f'href="tel:{task.contact.mobile}"' in page  # in full, for the station
    assert "Hyper-sensitive" in page
    response = client.post(
        f"/drives/tasks/{task.id}",
        data={"version": str(task.version), "outcome": "confirmed", "method": "call"},
    )
    assert response.headers["Location"].endswith(f"/drives/{drive.id}/next")
    db.session.expire_all()
    assert db.session.get(VerificationTask, task.id).state == TaskState.CONFIRMED
    page = client.get(f"/drives/{drive.id}/next").get_data(as_text=True)
    assert "confirmed." in page and "1 of 6 done" in page
    assert (
        db.session.scalar(select(func.count()).where(AuditEvent.action == "drive.next_viewed")) == 2
    )


def test_a_contact_marked_as_a_candidate_after_the_drive_opened_leaves_verify_next(
    client, db, login_as, world
):
    from cplan.models import ElectionRole
    from cplan.services import election_marks

    drive = open_for(world, who="control_room", unit="state", phase_id=world["phase"].id)
    constable = principal(world["baraut_constable"])
    first = drives.next_task(constable, drive, world["baraut"]).contact
    election_marks.mark_contact(
        principal(world["sp"]), first, ElectionRole.CANDIDATE, election=world["election"]
    )
    db.session.commit()
    login_as(world["baraut_constable"])
    page = client.get(f"/drives/{drive.id}/next").get_data(as_text=True)
    shown = drives.next_task(constable, drive, world["baraut"]).contact
    assert shown.id != first.id and shown.name in page and first.name not in page
    # Never again, however many are worked.
    while (task := drives.next_task(constable, drive, world["baraut"])) is not None:
        assert task.contact_id != first.id
        drives.record_outcome(constable, task.id, task.version, "confirmed")


def test_a_stale_tap_says_who_recorded_first(client, db, login_as, world):
    drive = open_for(world)
    task = drives.next_task(principal(world["baraut_so"]), drive, world["baraut"])
    version = task.version
    drives.record_outcome(principal(world["baraut_so"]), task.id, version, "confirmed")
    db.session.commit()
    login_as(world["baraut_constable"])
    response = client.post(
        f"/drives/tasks/{task.id}",
        data={"version": str(version), "outcome": "unreachable"},
        follow_redirects=True,
    )
    assert f"Already decided by {world['baraut_so'].name}" in response.get_data(as_text=True)
    assert progress(db, drive)["confirmed"] == 1 and progress(db, drive)["attempted"] == 0


def test_no_longer_suitable_sends_a_removal_to_the_asp(client, db, login_as, world):
    drive = open_for(world)
    task = drives.next_task(principal(world["khekra_so"]), drive, world["khekra"])
    db.session.commit()
    login_as(world["khekra_so"])
    response = client.post(
        f"/drives/tasks/{task.id}/unsuitable",
        data={"version": str(task.version), "reason": "deceased", "note": "Passed away"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    proposal = db.session.scalar(select(ContactProposal))
    assert proposal.contact_id == task.contact_id and proposal.inactive_reason.value == "deceased"


def test_a_station_cannot_open_another_stations_task(client, db, login_as, world):
    drive = open_for(world)
    task = drives.next_task(principal(world["khekra_so"]), drive, world["khekra"])
    db.session.commit()
    login_as(world["baraut_so"])
    assert client.get(f"/drives/tasks/{task.id}/changed").status_code == 404
    response = client.post(
        f"/drives/tasks/{task.id}", data={"version": "1", "outcome": "confirmed"}
    )
    assert response.status_code == 404


def test_verify_next_in_hindi(client, db, login_as, world):
    drive = open_for(world)
    db.session.commit()
    login_as(world["baraut_so"])
    client.post("/language/hi", data={"next": "/"})
    page = client.get(f"/drives/{drive.id}/next").get_data(as_text=True)
    assert 'lang="hi"' in page and "पुष्टि" in page


def test_progress_rolls_up_from_station_to_state_without_reading_tasks(client, db, login_as, world):
    from sqlalchemy import event

    drive = open_for(world)
    so = principal(world["baraut_so"])
    for _ in range(2):
        task = drives.next_task(so, drive, world["baraut"])
        drives.record_outcome(so, task.id, task.version, "confirmed")
    db.session.commit()
    statements = []

    def remember(_conn, _cursor, statement, *_args):
        statements.append(statement)

    login_as(world["control_room"])
    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        state_page = client.get(f"/drives/{drive.id}?unit={world['state'].id}")
        circle = world["baraut"].parent
        circle_page = client.get(f"/drives/{drive.id}?unit={circle.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert not [s for s in statements if "verification_tasks" in s]
    for page in (state_page.get_data(as_text=True), circle_page.get_data(as_text=True)):
        assert '2 <span class="muted">(' in page  # two verified so far
    assert "Baghpat" in state_page.get_data(as_text=True)
    assert "Baraut" in circle_page.get_data(as_text=True)


def test_the_district_progress_downloads_as_a_formula_safe_csv(client, db, login_as, world):
    world["khekra"].name_en = "=HYPERLINK(1)"
    drive = open_for(world)
    db.session.commit()
    login_as(world["sp"])
    page = client.get(f"/drives/{drive.id}").get_data(as_text=True)
    assert f"/drives/{drive.id}/export?unit={world['baghpat'].id}" in page
    response = client.get(f"/drives/{drive.id}/export?unit={world['baghpat'].id}")
    text = response.get_data().decode("utf-8-sig")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "'=HYPERLINK(1)" in text and "Whole district,,7," in text
    assert (
        db.session.scalar(
            select(func.count()).where(AuditEvent.action == "drive.progress_exported")
        )
        == 1
    )
    login_as(world["meerut_sp"])
    assert client.get(f"/drives/{drive.id}/export?unit={world['baghpat'].id}").status_code == 404


def test_out_of_date_contacts_are_marked_and_listed_sensitive_villages_first(
    client, db, login_as, world
):
    contacts = world["contacts"]
    login_as(world["baraut_so"])
    page = client.get(f"/roster/places/{world['bijrol'].id}").get_data(as_text=True)
    # Never verified and verified 90 days ago: only the first is out of date at 180 days.
    assert page.count("out of date") == len(contacts["bijrol"])
    page = client.get("/drives/out-of-date").get_data(as_text=True)
    first_name = page.index(contacts["bamnauli"][0].name)
    assert first_name < page.index(contacts["bijrol"][0].name)  # hyper-sensitive BAMNAULI first
    assert contacts["old"].name not in page and contacts["recent"].name not in page
    assert "5 contacts to verify again." in page
    assert f'href="tel:{contacts["bamnauli"][0].mobile}"' in page
    # A shorter policy makes the contact verified 90 days ago out of date too.
    client.application.config["VERIFICATION_POLICY_DAYS"] = 60
    assert "6 contacts to verify again." in client.get("/drives/out-of-date").get_data(as_text=True)


def test_a_contact_unreachable_on_three_days_is_flagged_on_its_page(client, db, login_as, world):
    from datetime import UTC, datetime

    drive = open_for(world, name="Before the polls")
    contact = world["contacts"]["khekra"][0]
    task = drives.next_task(principal(world["khekra_so"]), drive, world["khekra"])
    day = datetime(2027, 3, 2, 6, 0, tzinfo=UTC)
    for n in range(3):
        drives.record_outcome(
            principal(world["khekra_so"]),
            task.id,
            task.version,
            "unreachable",
            now=day + timedelta(days=n),
        )
    db.session.commit()
    login_as(world["khekra_so"])
    page = client.get(f"/roster/contacts/{contact.id}").get_data(as_text=True)
    assert "In verification drives" in page and "Before the polls" in page
    assert '<span class="badge badge-overdue">Unreachable</span>' in page
    assert "Tried 3 times" in page
