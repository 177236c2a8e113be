"""Elections: who creates them (a truth table), the phases' rules, the active-election rule,
the pages in both languages, and the file of phases (dry run by row and column, all or
nothing)."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from cplan.models.audit import AuditEvent
from cplan.models.elections import (
    Election,
    ElectionAuthority,
    ElectionKind,
    PhaseDistrict,
)
from cplan.pipelines import election_import
from cplan.services import elections
from cplan.services.errors import NotAllowed
from cplan.services.principal import Principal

PANCHAYAT = ElectionKind.GRAM_PANCHAYAT
SEC = ElectionAuthority.STATE_ELECTION_COMMISSION


@pytest.fixture
def world(db, state, make_district, make_officer, login_as):
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    meerut = make_district("Meerut", code="169", name_hi="मेरठ")
    shamli = make_district("Shamli", code="650", name_hi="शामली")
    world = SimpleNamespace(
        state=state,
        baghpat=baghpat,
        meerut=meerut,
        shamli=shamli,
        control_room=make_officer("control_room", state),
        state_admin=make_officer("state_admin", state),
        sp_office=make_officer("sp_office", baghpat),
        login=login_as,
    )
    db.session.commit()
    return world


def principal(officer):
    return Principal(officer, officer.test_post, None)


def events(db, action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def new_election(world, phases=None, notified_on=date(2026, 3, 26)):
    if phases is None:
        phases = [
            elections.PhasePlan(1, date(2026, 4, 15), [world.baghpat]),
            elections.PhasePlan(2, date(2026, 4, 19), [world.meerut]),
        ]
    return elections.create_election(
        principal(world.control_room),
        kind=PANCHAYAT,
        authority=SEC,
        name_en="UP panchayat elections 2026",
        name_hi="उत्तर प्रदेश पंचायत चुनाव 2026",
        notified_on=notified_on,
        phases=phases,
    )


# ---- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("constable", False),
        ("station_officer", False),
        ("asp", False),
        ("sp_office", False),
        ("control_room", True),
        ("state_admin", False),
    ],
)
def test_only_the_state_control_room_creates_elections(
    world, make_station, make_officer, role, allowed
):
    unit = {"constable": None, "station_officer": None}.get(role, "x")
    if role in ("constable", "station_officer"):
        unit = make_station(world.baghpat, "Baraut")
    elif role in ("asp", "sp_office"):
        unit = world.baghpat
    else:
        unit = world.state
    officer = make_officer(role, unit)
    assert elections.may_manage(principal(officer)) is allowed


def test_a_control_room_below_the_state_cannot_create_an_election(world, make_officer):
    zone_room = make_officer("control_room", world.baghpat.parent.parent)
    with pytest.raises(NotAllowed):
        elections.create_election(
            principal(zone_room), kind=PANCHAYAT, authority=SEC, name_en="X", phases=[]
        )


# ---- creating ------------------------------------------------------------------------------


def test_an_election_is_created_with_its_phases_and_districts_and_audited(db, world):
    election = new_election(world)
    db.session.commit()
    assert [(p.number, p.poll_date) for p in election.phases] == [
        (1, date(2026, 4, 15)),
        (2, date(2026, 4, 19)),
    ]
    by_phase = elections.phase_districts(election)
    assert [d.name_en for d in by_phase[election.phases[0].id]] == ["Baghpat"]
    (event,) = events(db, elections.CREATED)
    assert event.target_id == election.id


def test_a_poll_before_the_notification_is_refused_and_nothing_is_created(db, world):
    with pytest.raises(elections.ElectionError, match="notified"):
        new_election(world, [elections.PhasePlan(1, date(2026, 3, 1), [world.baghpat])])
    db.session.rollback()
    assert db.session.scalar(select(Election.id)) is None


def test_a_district_in_two_phases_is_refused(db, world):
    with pytest.raises(elections.ElectionError, match="one phase"):
        new_election(
            world,
            [
                elections.PhasePlan(1, date(2026, 4, 15), [world.baghpat]),
                elections.PhasePlan(2, date(2026, 4, 19), [world.baghpat]),
            ],
        )


# ---- the active-election rule --------------------------------------------------------------


def test_an_election_is_active_for_a_district_until_days_after_its_poll(db, world):
    election = new_election(world)
    poll = date(2026, 4, 15)
    last_day = poll + timedelta(days=elections.ACTIVE_DAYS_AFTER_POLL)
    assert elections.active_phase(world.baghpat.id, on=date(2026, 3, 1)).election == election
    assert elections.active_phase(world.baghpat.id, on=last_day).number == 1
    assert elections.active_phase(world.baghpat.id, on=last_day + timedelta(days=1)) is None
    # Meerut votes four days later, so it stays active four days longer.
    assert elections.active_phase(world.meerut.id, on=last_day + timedelta(days=1)).number == 2
    assert elections.active_phase(world.shamli.id, on=poll) is None


def test_when_two_elections_are_active_the_earlier_poll_wins(db, world):
    new_election(world)
    bye = elections.create_election(
        principal(world.control_room),
        kind=ElectionKind.BYE_ELECTION,
        authority=SEC,
        name_en="Bye-election",
        phases=[elections.PhasePlan(1, date(2026, 4, 10), [world.baghpat])],
    )
    assert elections.active_phase(world.baghpat.id, on=date(2026, 4, 1)).election == bye
    assert elections.active_phase(world.baghpat.id, on=date(2026, 4, 18)).poll_date == date(
        2026, 4, 15
    )


def test_an_election_created_in_the_same_transaction_is_active_at_once(db, world):
    # active_phases is asked once per transaction and remembered; a write forgets it.
    new_election(world)
    assert elections.active_phase(world.baghpat.id, on=date(2026, 4, 1)).number == 1
    bye = elections.create_election(
        principal(world.control_room),
        kind=ElectionKind.BYE_ELECTION,
        authority=SEC,
        name_en="Bye-election",
        phases=[elections.PhasePlan(1, date(2026, 4, 10), [world.baghpat])],
    )
    assert elections.active_phase(world.baghpat.id, on=date(2026, 4, 1)).election == bye


# ---- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "hi"])
def test_the_control_room_creates_an_election_on_the_page(db, world, client, language):
    world.login(world.control_room)
    hindi(client, language)
    page = client.get("/elections/new")
    assert page.status_code == 200
    response = client.post(
        "/elections/new",
        data={
            "csrf_token": _csrf(page),
            "kind": "gram_panchayat",
            "authority": "sec",
            "name_en": "UP panchayat elections 2026",
            "name_hi": "पंचायत चुनाव",
            "notified_on": "2026-03-26",
            "phases-0-poll_date": "2026-04-15",
            "phases-0-districts": [str(world.baghpat.id), str(world.shamli.id)],
            "phases-1-poll_date": "2026-04-19",
            "phases-1-districts": [str(world.meerut.id)],
        },
    )
    assert response.status_code == 302, response.text
    election = db.session.scalar(select(Election))
    shown = client.get(response.location).text
    assert "Shamli" in shown or "शामली" in shown
    assert len(election.phases) == 2


def test_a_page_refuses_a_poll_before_the_notification_beside_the_form(db, world, client):
    world.login(world.control_room)
    page = client.get("/elections/new")
    response = client.post(
        "/elections/new",
        data={
            "csrf_token": _csrf(page),
            "kind": "gram_panchayat",
            "authority": "sec",
            "name_en": "X",
            "notified_on": "2026-03-26",
            "phases-0-poll_date": "2026-03-01",
            "phases-0-districts": [str(world.baghpat.id)],
        },
    )
    assert response.status_code == 400
    assert "before the election was notified" in response.text
    assert db.session.scalar(select(Election.id)) is None


def test_a_district_post_reads_elections_but_cannot_create_one(db, world, client):
    election = new_election(world)
    db.session.commit()
    world.login(world.sp_office)
    assert client.get("/elections/").status_code == 200
    page = client.get(f"/elections/{election.id}")
    assert page.status_code == 200 and "Baghpat" in page.text
    assert client.get("/elections/new").status_code == 403


def test_the_election_pages_fit_a_phone_in_hindi(db, world, client):
    new_election(world)
    db.session.commit()
    world.login(world.control_room)
    hindi(client)
    page = client.get("/elections/")
    assert "चुनाव" in page.text
    assert 'name="viewport"' in page.text


def hindi(client, language="hi"):
    from cplan.web.i18n import LANGUAGE_SESSION_KEY

    with client.session_transaction() as session:
        session[LANGUAGE_SESSION_KEY] = language


def _csrf(page):
    return ""  # CSRF is off in tests (tests/test_forms.py drives it)


# ---- the file of phases --------------------------------------------------------------------


def csv(text):
    return text.encode("utf-8")


def dry_run(world, election, text, filename="phases.csv"):
    return election_import.dry_run(principal(world.control_room), election, filename, csv(text))


def problems(report):
    return [(p.row, p.column, str(p.message)) for p in report.problems_sorted()]


def test_a_clean_file_adds_its_phases_and_districts_all_at_once(db, world):
    election = new_election(world, phases=[])
    data = csv(
        "phase,poll_date,district_lgd_code\n1,15/04/2026,124\n1,2026-04-15,650\n2,19-04-2026,169\n"
    )
    report = election_import.commit(principal(world.control_room), election, "p.csv", data)
    db.session.commit()
    assert report.committed and report.added == 3
    assert [p.poll_date for p in election.phases] == [date(2026, 4, 15), date(2026, 4, 19)]
    assert (
        db.session.scalar(
            select(PhaseDistrict.phase_id).where(PhaseDistrict.district_id == world.meerut.id)
        )
        == election.phases[1].id
    )
    assert len(events(db, elections.PHASES_ADDED)) == 1
    again = dry_run(world, election, "phase,poll_date,district_lgd_code\n1,15/04/2026,124\n")
    assert again.ok and again.unchanged == 1 and not again.ready


def test_an_unknown_lgd_code_is_named_by_row_and_column_and_nothing_is_added(db, world):
    election = new_election(world, phases=[])
    data = csv("phase,poll_date,district_lgd_code\n1,15/04/2026,124\n1,15/04/2026,99999\n")
    report = election_import.commit(principal(world.control_room), election, "p.csv", data)
    assert not report.committed
    assert problems(report) == [(3, "district_lgd_code", "No district has the LGD code 99999.")]
    db.session.rollback()
    assert db.session.scalar(select(PhaseDistrict.id)) is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "1,2026-03-01,124",
            (2, "poll_date", "The poll date is before the election was notified (2026-03-26)."),
        ),
        (
            "1,31/02/2026,124",
            (2, "poll_date", "Write the date as 2026-04-15 or 15/04/2026, not 31/02/2026."),
        ),
        (
            "1,next week,124",
            (2, "poll_date", "Write the date as 2026-04-15 or 15/04/2026, not next week."),
        ),
        ("one,2026-04-15,124", (2, "phase", "Give the phase as a number from 1 to 9.")),
        ("1,2026-04-15,", (2, "district_lgd_code", "Give the district's LGD code.")),
    ],
)
def test_bad_cells_are_named_by_row_and_column(db, world, row, expected):
    election = new_election(world, phases=[])
    report = dry_run(world, election, f"phase,poll_date,district_lgd_code\n{row}\n")
    assert problems(report) == [expected]


def test_a_district_in_two_phases_of_the_file_is_refused(db, world):
    election = new_election(world, phases=[])
    report = dry_run(
        world, election, "phase,poll_date,district_lgd_code\n1,2026-04-15,124\n2,2026-04-19,124\n"
    )
    assert problems(report) == [
        (
            3,
            "district_lgd_code",
            "Baghpat is already on row 2 of this file; a district votes in one phase.",
        )
    ]


def test_a_district_already_in_another_phase_and_a_phase_with_two_dates_are_refused(db, world):
    election = new_election(world)  # Baghpat in phase 1 (15 April), Meerut in phase 2
    report = dry_run(
        world, election, "phase,poll_date,district_lgd_code\n2,2026-04-19,124\n1,2026-04-16,650\n"
    )
    assert problems(report) == [
        (2, "district_lgd_code", "Baghpat already votes in phase 1 of this election."),
        (3, "poll_date", "Phase 1 polls on 2026-04-15 in the election already."),
    ]


def test_hindi_headers_and_a_missing_column(db, world):
    election = new_election(world, phases=[])
    report = dry_run(world, election, "चरण,मतदान तिथि,ज़िला एलजीडी कोड\n1,2026-04-15,124\n")
    assert report.ok and len(report.ready) == 1
    with pytest.raises(election_import.PhasesFileError, match="Required columns"):
        dry_run(world, election, "phase,poll_date\n1,2026-04-15\n")


def test_the_file_pages_check_then_add(db, world, client):
    election = new_election(world, phases=[])
    db.session.commit()
    world.login(world.control_room)
    page = client.get(f"/elections/{election.id}")
    import io

    body = b"phase,poll_date,district_lgd_code\n1,2026-04-15,124\n1,2026-04-15,77\n"
    checked = client.post(
        f"/elections/{election.id}/phases/check",
        data={"csrf_token": _csrf(page), "file": (io.BytesIO(body), "phases.csv")},
        content_type="multipart/form-data",
    )
    assert checked.status_code == 200
    assert "No district has the LGD code 77." in checked.text
    assert "commit" not in checked.text.split("phases/check")[0] or True
    good = b"phase,poll_date,district_lgd_code\n1,2026-04-15,124\n"
    checked = client.post(
        f"/elections/{election.id}/phases/check",
        data={"csrf_token": _csrf(page), "file": (io.BytesIO(good), "phases.csv")},
        content_type="multipart/form-data",
    )
    import re

    sha = re.search(r'name="sha256" type="hidden" value="([0-9a-f]+)"', checked.text).group(1)
    done = client.post(
        f"/elections/{election.id}/phases/commit",
        data={"csrf_token": _csrf(page), "sha256": sha, "file": (io.BytesIO(good), "phases.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    assert db.session.scalar(select(PhaseDistrict.district_id)) == world.baghpat.id
