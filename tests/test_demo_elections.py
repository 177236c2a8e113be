"""The demo's next panchayat election: on in Baghpat, sensitive villages at all three levels
shown on the rosters, two marked contacts left out of the neutral list, loaded once."""

from sqlalchemy import func, select

from cplan.devdata import demo
from cplan.models.elections import ContactElectionMark, Election, SensitivePlace
from cplan.models.roster import Contact
from cplan.services import election_marks, elections, sensitive_places
from cplan.services.principal import Principal


def test_the_demo_has_an_election_on_with_graded_villages_and_marked_contacts(app, db):
    context = demo.load_demo()
    db.session.commit()
    (election,) = db.session.scalars(select(Election)).all()
    assert [phase.number for phase in election.phases] == [1, 2]
    phase = elections.active_phase(context.district.id)
    assert phase.election_id == election.id and phase.number == 1
    grades = db.session.scalars(select(SensitivePlace)).all()
    assert {grade.level.value for grade in grades} == {
        "sensitive",
        "hyper_sensitive",
        "hyper_sensitive_plus",
    }
    assert any(grade.booth for grade in grades)
    marks = db.session.scalars(select(ContactElectionMark)).all()
    assert {mark.role.value for mark in marks} == {"candidate", "polling_agent"}
    shown = sensitive_places.active_grades([grade.place for grade in grades])
    assert len(shown) == len({grade.place_id for grade in grades})
    marked = db.session.get(Contact, marks[0].contact_id)
    sho = demo_principal(db, "124000004")
    neutral = {c.id for c in db.session.scalars(election_marks.neutral_contacts(sho, election))}
    assert marked.id not in neutral and len(neutral) > 100

    demo.load_demo()  # loaded once
    assert db.session.scalar(select(func.count(SensitivePlace.id))) == len(grades)


def demo_principal(db, pno):
    from cplan.models import Officer

    officer = db.session.scalar(select(Officer).where(Officer.pno == pno))
    return Principal(officer=officer, post=officer.assignments[0].post, session=None)
