"""The office and station home pages show drive progress, sensitive places below the target
and out-of-date contacts, from the drives' counters and indexed counts; nothing without them."""

import pytest

from cplan.services import drives
from tests import test_drives
from tests.test_drives import first_task, open_for, principal

# The drives tests' world: two districts, stations, villages, contacts, an election on in one.
make_contact = test_drives.make_contact
world = test_drives.world


def page(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["sp", "asp"])
def test_an_office_sees_drive_progress_with_a_burn_down_sensitive_places_and_out_of_date(
    client, db, login_as, world, who
):
    drive = open_for(world)
    task = first_task(db, drive, world["contacts"]["bijrol"][0])
    drives.record_outcome(
        principal(world["baraut_constable"]), task.id, task.version, "confirmed", method="visit"
    )
    db.session.commit()
    login_as(world[who])
    html = page(client)
    assert f'href="/drives/{drive.id}"' in html and drive.name in html
    assert f"1 / {drive.task_count}" in html  # done of all tasks, from the counters
    assert 'id="chart-burn-down"' in html and "<svg" in html
    assert "Contacts still to verify at the end of each day" in html
    # BAMNAULI is graded in the election on and has 2 contacts against the target of 10.
    assert "Sensitive places below the target" in html and "Panchayat 2027" in html
    assert f'href="/roster/places/{world["bamnauli"].id}"' in html
    assert "BIJROL" not in html.split("Sensitive places below the target")[1].split("</section>")[0]
    # Six active contacts never verified (one was just confirmed; two verified recently).
    assert "5 contacts not verified within the policy" in html
    assert 'href="/drives/out-of-date"' in html


def test_an_office_without_drive_or_election_shows_neither(client, db, login_as, world):
    login_as(world["meerut_sp"])
    html = page(client)
    assert "chart-burn-down" not in html
    assert "Sensitive places below the target" not in html
    assert "1 contacts not verified within the policy" in html


def test_a_station_sees_contacts_to_verify_today_with_the_verify_next_link(
    client, db, login_as, world
):
    drive = open_for(world)
    db.session.commit()
    login_as(world["baraut_constable"])
    html = page(client)
    assert "Contacts to verify today" in html
    assert f'href="/drives/{drive.id}/next"' in html
    # Baraut's tasks: five never verified and one verified 90 days ago (the drive's limit: 30).
    assert '<span class="count">6</span>' in html.split("Contacts to verify today")[1][:60]


def test_a_station_without_an_open_drive_shows_nothing_to_verify(client, db, login_as, world):
    login_as(world["baraut_constable"])
    assert "Contacts to verify today" not in page(client)


def test_the_home_figures_read_in_hindi(client, db, login_as, world):
    open_for(world)
    db.session.commit()
    login_as(world["sp"])
    client.post("/language/hi")
    html = page(client)
    assert "Sensitive places below the target" not in html
    assert "Contacts still to verify at the end of each day" not in html
