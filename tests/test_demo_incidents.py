"""Demo incidents for Baghpat: every status, timelines that agree with the incidents, calls that
updated their contacts, scope and confidentiality as for real incidents, loaded once."""

from collections import Counter

from sqlalchemy import func, select

from cplan.devdata import demo
from cplan.models import Officer, Post
from cplan.models.incidents import (
    EntryKind,
    Incident,
    IncidentSerial,
    IncidentSource,
    IncidentStatus,
    TimelineEntry,
)
from cplan.services import audit, incidents
from cplan.services.principal import Principal


def principal_of(db, pno):
    officer = db.session.scalar(select(Officer).where(Officer.pno == pno))
    return Principal(officer=officer, post=officer.assignments[0].post, session=None)


def test_demo_incidents_cover_every_status_with_consistent_timelines(app, db):
    context = demo.load_demo()
    db.session.commit()
    made = db.session.scalars(select(Incident).order_by(Incident.id)).all()
    assert 30 <= len(made) <= 50
    assert set(Counter(incident.status for incident in made)) == set(IncidentStatus)
    assert len({incident.reference for incident in made}) == len(made)
    counter = db.session.scalar(select(func.max(IncidentSerial.last_serial)))
    assert counter == max(
        incident.serial for incident in made
    )  # real incidents continue the series

    for incident in made:
        entries = incidents.entries(incident)
        assert [entry.seq for entry in entries] == list(range(1, len(entries) + 1)), (
            incident.reference
        )
        assert incident.last_entry_seq == len(entries)
        assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)
        calls = [entry for entry in entries if entry.kind == EntryKind.CALL]
        assert incident.first_call_at == (calls[0].at if calls else None)
        changes = [entry for entry in entries if entry.kind == EntryKind.STATUS_CHANGE]
        assert (changes[-1].to_status if changes else IncidentStatus.NEW) == incident.status
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_status == before.to_status
            assert after.to_status in incidents.allowed_statuses(before.to_status)
        if incident.reviewed_at:
            assert entries[-1].kind == EntryKind.REVIEW
        for call in calls:  # only the active contacts of the incident's places
            assert call.contact.place_id in {link.place_id for link in incident.places}
    reopened = [
        i for i in made if any(e.from_status == IncidentStatus.CLOSED for e in incidents.entries(i))
    ]
    assert len(reopened) == 1 and reopened[0].reviewed_at is None
    called = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.kind == EntryKind.CALL)
    ).all()
    assert any(
        call.contact.last_verified_at and call.contact.last_verified_at >= call.at
        for call in called
    )
    assert any(call.contact.unreachable_count > 0 for call in called)
    assert any(incidents.response_times(incident).overdue for incident in made)
    assert any(incident.handling_by_officer_id for incident in made)

    # Scope as for real incidents: the SHO of Baraut sees Baraut's, not the confidential tip.
    sho = principal_of(db, "124000004")
    seen = db.session.scalars(incidents.feed_query(sho)).all()
    assert seen and all(
        any(sho.unit.contains_path(link.unit_path) for link in i.places) for i in seen
    )
    tip = next(incident for incident in made if incident.confidential)
    assert tip.source == IncidentSource.CONTACT_TIP and tip not in seen
    asp = principal_of(db, "124000002")
    assert tip in db.session.scalars(incidents.feed_query(asp)).all()
    supervisor = principal_of(db, "100000002")
    assert len(db.session.scalars(incidents.feed_query(supervisor)).all()) == len(
        made
    )  # statewide, tips too

    # The audit chain holds, and loading again adds nothing.
    assert audit.verify_chain().ok
    demo.load_demo(context.data_dir)
    db.session.commit()
    assert db.session.scalar(select(func.count(Incident.id))) == len(made)
    assert db.session.scalar(select(Post.id).limit(1)) is not None
