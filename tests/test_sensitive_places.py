"""Sensitive places and contacts' election marks: who may grade and mark (truth tables), the
grade on rosters, coverage, incidents and call sheets while the election is on, the district's
file of grades (dry run by row and column, all or nothing), and marked contacts left out of
neutral verification lists."""

import io
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from cplan.models.audit import AuditEvent
from cplan.models.elections import (
    ContactElectionMark,
    ElectionAuthority,
    ElectionKind,
    ElectionRole,
    SensitivePlace,
    SensitivityLevel,
)
from cplan.models.roster import Contact
from cplan.pipelines import sensitive_place_import
from cplan.services import election_marks, elections, enrolment, incidents, roster
from cplan.services import sensitive_places as grades
from cplan.services.errors import AlreadyDecided, NotAllowed, NotInScope
from cplan.services.principal import Principal

HYPER = SensitivityLevel.HYPER_SENSITIVE
PLUS = SensitivityLevel.HYPER_SENSITIVE_PLUS


def principal(officer):
    return Principal(officer, officer.test_post, None)


@pytest.fixture
def world(db, state, make_district, make_station, make_place, make_officer, login_as):
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    meerut = make_district("Meerut", code="169")
    baraut = make_station(baghpat, "Baraut")
    sardhana = make_station(meerut, "Sardhana")
    w = SimpleNamespace(
        baghpat=baghpat,
        meerut=meerut,
        baraut=baraut,
        bijrol=make_place("BIJROL", station=baraut, lgd_code="119300", name_hi="बिजरौल"),
        bamnauli=make_place("BAMNAULI", station=baraut, lgd_code="119301", name_hi="बमनौली"),
        kaili=make_place("KAILI", station=sardhana, lgd_code="3001"),
        control_room=make_officer("control_room", state),
        sp_office=make_officer("sp_office", baghpat),
        asp=make_officer("asp", baghpat),
        meerut_sp=make_officer("sp_office", meerut),
        constable=make_officer("constable", baraut),
        sho=make_officer("station_officer", baraut),
        login=login_as,
    )
    poll = elections.today() + timedelta(days=20)
    w.election = elections.create_election(
        principal(w.control_room),
        kind=ElectionKind.GRAM_PANCHAYAT,
        authority=ElectionAuthority.STATE_ELECTION_COMMISSION,
        name_en="UP panchayat elections",
        name_hi="पंचायत चुनाव",
        notified_on=elections.today() - timedelta(days=5),
        phases=[elections.PhasePlan(1, poll, [baghpat])],  # Meerut does not vote
    )
    db.session.commit()
    return w


def contact_at(db, w, place, name="Ramesh Kumar", mobile="9876543210"):
    contact = roster.enrol(
        principal(w.constable),
        place,
        roster.ContactDetails(
            name=name, mobile=mobile, category="teacher", consent_on=date(2026, 1, 1)
        ),
    )
    enrolment.decide_enrolment(principal(w.asp), contact.id, contact.version, "approve")
    db.session.commit()
    return contact


def grade(w, place, level=HYPER, reasons=("communal_tension",), **fields):
    return grades.set_grade(
        principal(w.sp_office), w.election, place, level=level, reasons=list(reasons), **fields
    )


def actions(db):
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


# ---- grading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("constable", False),
        ("sho", False),
        ("asp", False),
        ("sp_office", True),
        ("control_room", False),
    ],
)
def test_only_the_sp_office_grades_places(world, who, allowed):
    assert grades.may_grade(principal(getattr(world, who))) is allowed


def test_the_sp_office_grades_changes_and_clears_a_place_and_each_step_is_audited(db, world):
    first = grade(world, world.bijrol, note="Clash in 2021", reference="SP/2026/14")
    changed = grade(
        world, world.bijrol, level=PLUS, reasons=["past_poll_violence", "earlier_repoll"]
    )
    assert changed.id == first.id and changed.rank == 3
    assert [r.value for r in changed.reason_codes] == ["past_poll_violence", "earlier_repoll"]
    booth = grade(world, world.bijrol, booth="Primary school, room 2")
    assert booth.id != first.id
    grades.clear_grade(principal(world.sp_office), booth)
    db.session.commit()
    assert actions(db).count(grades.SET) == 3 and actions(db).count(grades.CLEARED) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == grades.SET))
    assert "Clash" not in event.detail and "SP/2026" not in event.detail


def test_another_districts_place_and_a_district_that_does_not_vote_are_refused(db, world):
    with pytest.raises(NotInScope):
        grade(world, world.kaili)
    with pytest.raises(grades.SensitivityError, match="does not vote"):
        grades.set_grade(
            principal(world.meerut_sp),
            world.election,
            world.kaili,
            level=HYPER,
            reasons=["other"],
        )


def test_a_grade_needs_a_reason_from_the_list(db, world):
    with pytest.raises(grades.SensitivityError, match="at least one reason"):
        grade(world, world.bijrol, reasons=[])
    with pytest.raises(grades.SensitivityError, match="not a reason"):
        grade(world, world.bijrol, reasons=["bad_blood"])


def test_the_grade_shows_only_while_the_election_is_on(db, world):
    grade(world, world.bijrol, level=PLUS)
    assert grades.active_grades([world.bijrol, world.bamnauli])[world.bijrol.id].rank == 3
    assert world.bamnauli.id not in grades.active_grades([world.bijrol, world.bamnauli])
    phase = world.election.phases[0]
    phase.poll_date = elections.today() - timedelta(days=elections.ACTIVE_DAYS_AFTER_POLL + 1)
    db.session.commit()
    assert grades.active_grades([world.bijrol]) == {}


@pytest.mark.parametrize("language", ["en", "hi"])
def test_rosters_coverage_and_the_district_list_show_the_level_in_hindi(
    db, world, client, language
):
    from cplan.web.i18n import LANGUAGE_SESSION_KEY

    grade(world, world.bijrol, level=PLUS)
    grade(world, world.bamnauli, level=SensitivityLevel.SENSITIVE)
    db.session.commit()
    world.login(world.sho)
    with client.session_transaction() as session:
        session[LANGUAGE_SESSION_KEY] = language
    roster_page = client.get(f"/roster/places/{world.bijrol.id}").text
    assert "अति संवेदनशील प्लस" in roster_page
    coverage = client.get(f"/coverage/units/{world.baraut.id}").text
    assert "अति संवेदनशील प्लस" in coverage and "संवेदनशील" in coverage
    listing = client.get(
        f"/elections/{world.election.id}/districts/{world.baghpat.id}/sensitive-places"
    )
    assert listing.status_code == 200
    text = listing.text
    assert text.index("BIJROL" if language == "en" else "बिजरौल") < text.index(
        "BAMNAULI" if language == "en" else "बमनौली"
    )


def test_an_incident_and_its_call_sheet_show_the_grade_and_the_mark(db, world, client):
    contact = contact_at(db, world, world.bijrol)
    grade(world, world.bijrol, level=HYPER)
    election_marks.mark_contact(principal(world.sho), contact, ElectionRole.POLLING_AGENT)
    now = datetime.now(UTC)
    incident = incidents.create_incident(
        principal(world.sho),
        [world.bijrol],
        "rumour",
        "high",
        now - timedelta(hours=1),
        now,
        "up112_call",
        "A rumour of a clash at the booth",
    )
    db.session.commit()
    world.login(world.sho)
    assert "अति संवेदनशील" in client.get(f"/incidents/{incident.id}").text
    sheet = client.get(f"/incidents/{incident.id}/calls").text
    assert "अति संवेदनशील" in sheet and "Polling agent" in sheet


def test_the_sp_office_grades_a_place_on_the_page(db, world, client):
    world.login(world.sp_office)
    found = client.get(
        f"/elections/{world.election.id}/districts/{world.baghpat.id}/sensitive-places?q=bijrol"
    )
    assert f"/elections/{world.election.id}/places/{world.bijrol.id}/grade" in found.text
    response = client.post(
        f"/elections/{world.election.id}/places/{world.bijrol.id}/grade",
        data={"level": "hyper_sensitive", "reasons": ["caste_tension", "other"], "note": "x"},
    )
    assert response.status_code == 302
    saved = db.session.scalar(select(SensitivePlace))
    assert saved.level == HYPER and saved.reasons == "caste_tension,other"
    cleared = client.post(f"/elections/sensitive-places/{saved.id}/clear", data={})
    assert cleared.status_code == 302
    assert db.session.scalar(select(SensitivePlace.id)) is None


def test_a_station_cannot_grade_on_the_page(db, world, client):
    world.login(world.sho)
    response = client.post(
        f"/elections/{world.election.id}/places/{world.bijrol.id}/grade",
        data={"level": "hyper_sensitive", "reasons": ["other"]},
    )
    assert response.status_code == 403


# ---- the file of grades ----------------------------------------------------------------------


def check_file(world, text):
    return sensitive_place_import.dry_run(
        principal(world.sp_office), world.election, world.baghpat, "g.csv", text.encode()
    )


def problems(report):
    return [(p.row, p.column, str(p.message)) for p in report.problems_sorted()]


def test_a_clean_file_grades_every_row_by_code_or_by_name_and_station(db, world):
    data = (
        "lgd_code,place_name,police_station,level,reasons,note\n"
        "119300,,,अति संवेदनशील प्लस,past_poll_violence;earlier_repoll,Repoll in 2021\n"
        ",बमनौली,Baraut,sensitive,caste_tension,\n"
    ).encode()
    report = sensitive_place_import.commit(
        principal(world.sp_office), world.election, world.baghpat, "g.csv", data
    )
    db.session.commit()
    assert report.committed and report.graded == 2
    levels = {g.place_id: g.level for g in db.session.scalars(select(SensitivePlace))}
    assert levels == {world.bijrol.id: PLUS, world.bamnauli.id: SensitivityLevel.SENSITIVE}
    assert sensitive_place_import.IMPORTED in actions(db)


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_graded(db, world):
    report = sensitive_place_import.commit(
        principal(world.sp_office),
        world.election,
        world.baghpat,
        "g.csv",
        (
            b"lgd_code,place_name,police_station,level,reasons\n"
            b"119300,,,hyper_sensitive,communal_tension\n"
            b"3001,,,hyper_sensitive,communal_tension\n"
            b",NOWHERE,Baraut,sensitive,other\n"
            b"119301,,,very,bad_blood\n"
            b"119300,,,sensitive,other\n"
        ),
    )
    assert not report.committed
    assert problems(report) == [
        (3, "lgd_code", "No place with LGD code 3001 in Baghpat district."),
        (4, "place_name", "No place called NOWHERE at Baraut police station."),
        (
            5,
            "level",
            "The level must be sensitive, hyper_sensitive or hyper_sensitive_plus "
            "(संवेदनशील, अति संवेदनशील, अति संवेदनशील प्लस).",
        ),
        (5, "reasons", "bad_blood is not a reason on the list."),
        (6, "lgd_code", "The same place is already on row 2 of this file."),
    ]
    db.session.rollback()
    assert db.session.scalar(select(SensitivePlace.id)) is None


def test_the_file_pages_check_then_grade(db, world, client):
    world.login(world.sp_office)
    base = f"/elections/{world.election.id}/districts/{world.baghpat.id}/sensitive-places"
    body = b"lgd_code,level,reasons\n119300,hyper_sensitive_plus,booth_capturing\n"
    checked = client.post(
        f"{base}/check",
        data={"file": (io.BytesIO(body), "g.csv")},
        content_type="multipart/form-data",
    )
    assert checked.status_code == 200
    sha = re.search(r'name="sha256" type="hidden" value="([0-9a-f]+)"', checked.text).group(1)
    done = client.post(
        f"{base}/commit",
        data={"sha256": sha, "file": (io.BytesIO(body), "g.csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    assert db.session.scalar(select(SensitivePlace.level)) == PLUS


# ---- contacts' election marks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "mark", "unmark"),
    [
        ("constable", True, False),
        ("sho", True, False),
        ("asp", True, True),
        ("sp_office", True, True),
        ("control_room", False, False),
    ],
)
def test_who_marks_and_who_ends_a_mark(world, who, mark, unmark):
    officer = principal(getattr(world, who))
    assert election_marks.may_mark(officer) is mark
    assert election_marks.may_unmark(officer) is unmark


def test_a_contact_marked_as_a_candidate_disappears_from_the_neutral_list(db, world):
    ramesh = contact_at(db, world, world.bijrol)
    suresh = contact_at(db, world, world.bijrol, name="Suresh Pal", mobile="9876543211")
    sho = principal(world.sho)

    def neutral():
        statement = election_marks.neutral_contacts(sho, world.election, world.baraut)
        return {c.id for c in db.session.scalars(statement)}

    assert neutral() == {ramesh.id, suresh.id}
    election_marks.mark_contact(principal(world.constable), ramesh, ElectionRole.CANDIDATE)
    db.session.commit()
    assert neutral() == {suresh.id}
    assert election_marks.MARKED in actions(db)


def test_a_station_cannot_end_a_mark_and_the_asp_can_once(db, world):
    ramesh = contact_at(db, world, world.bijrol)
    mark = election_marks.mark_contact(principal(world.sho), ramesh, ElectionRole.CANDIDATE)
    with pytest.raises(election_marks.MarkError, match="Already marked"):
        election_marks.mark_contact(principal(world.sho), ramesh, ElectionRole.POLLING_AGENT)
    with pytest.raises(NotAllowed):
        election_marks.unmark(principal(world.sho), mark)
    election_marks.unmark(principal(world.asp), mark)
    with pytest.raises(AlreadyDecided):
        election_marks.unmark(principal(world.sp_office), mark)
    db.session.commit()
    assert mark.ended_by_id == world.asp.id
    statement = election_marks.neutral_contacts(principal(world.sho), world.election)
    assert ramesh.id in {c.id for c in db.session.scalars(statement)}
    assert election_marks.UNMARKED in actions(db)


def test_no_mark_without_an_election_in_the_district(db, world, make_officer):
    sardhana_constable = make_officer("constable", world.kaili.station)
    contact = roster.enrol(
        principal(sardhana_constable),
        world.kaili,
        roster.ContactDetails(
            name="Mohan Lal", mobile="9876543219", category="teacher", consent_on=date(2026, 1, 1)
        ),
    )
    with pytest.raises(election_marks.MarkError, match="No election"):
        election_marks.mark_contact(principal(sardhana_constable), contact, "candidate")


def test_the_mark_shows_on_the_roster_and_is_set_and_ended_from_the_contact_page(db, world, client):
    ramesh = contact_at(db, world, world.bijrol)
    world.login(world.sho)
    page = client.get(f"/roster/contacts/{ramesh.id}")
    assert "Mark as taking part in the election" in page.text
    response = client.post(
        f"/elections/contacts/{ramesh.id}/mark", data={"role": "counting_agent", "note": ""}
    )
    assert response.status_code == 302
    assert "Counting agent" in client.get(f"/roster/places/{world.bijrol.id}").text
    mark = db.session.scalar(select(ContactElectionMark))
    assert client.post(f"/elections/marks/{mark.id}/end", data={}).status_code == 403
    world.login(world.asp)
    assert client.post(f"/elections/marks/{mark.id}/end", data={}).status_code == 302
    db.session.expire_all()
    assert mark.ended_at is not None


def test_two_officers_marking_or_ending_at_once_leave_one_mark(app, db, world):
    from tests.concurrency import principal_in_thread, run_together

    ramesh = contact_at(db, world, world.bijrol)
    contact_id, election_id = ramesh.id, world.election.id
    sho, constable, asp, sp = (
        o.id for o in (world.sho, world.constable, world.asp, world.sp_office)
    )
    db.session.commit()  # release SQLite's write lock before the threads race

    def mark(officer_id, role):
        def work():
            contact = db.session.get(Contact, contact_id)
            return election_marks.mark_contact(principal_in_thread(officer_id), contact, role).id

        return work

    results = run_together(
        app,
        [mark(sho, ElectionRole.CANDIDATE), mark(constable, "polling_agent")],
    )
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(isinstance(r, election_marks.MarkError) for r in results) == 1, results
    db.session.expire_all()
    (mark_row,) = db.session.scalars(
        select(ContactElectionMark).where(ContactElectionMark.election_id == election_id)
    ).all()
    mark_id = mark_row.id
    db.session.commit()

    def end(officer_id):
        def work():
            found = db.session.get(ContactElectionMark, mark_id)
            return election_marks.unmark(principal_in_thread(officer_id), found).id

        return work

    results = run_together(app, [end(asp), end(sp)])
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, AlreadyDecided) for r in results) == 1


def test_the_roster_asks_the_same_number_of_statements_for_one_or_many_marked_contacts(
    db, world, client
):
    from sqlalchemy import event

    few = [contact_at(db, world, world.bijrol, mobile="9876500001", name="Asha Devi")]
    many = [
        contact_at(db, world, world.bamnauli, mobile=f"98765000{n:02d}", name=f"Citizen {n}")
        for n in range(10, 16)
    ]
    for contact in few + many:
        election_marks.mark_contact(principal(world.sho), contact, ElectionRole.POLLING_AGENT)
    grade(world, world.bijrol)
    grade(world, world.bamnauli)
    db.session.commit()
    world.login(world.sp_office)

    def statements(place):
        db.session.expire_all()
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = client.get(f"/roster/places/{place.id}")
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert page.status_code == 200 and "Polling agent" in page.text
        assert "Grade for the election" in page.text
        return len(seen)

    assert statements(world.bijrol) == statements(world.bamnauli)
