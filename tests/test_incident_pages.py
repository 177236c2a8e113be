"""The incident pages: a station officer reports and works an incident on the call sheet, a UP-112
supervisor finds, claims and reviews it; scope (404), the feed's filters, and Hindi pages."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import (
    AuditEvent,
    Contact,
    ContactCategory,
    ContactStatus,
    Incident,
    IncidentStatus,
    Script,
)
from cplan.services import incidents
from cplan.services.principal import Principal

REPORTED = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)


@pytest.fixture
def world(make_district, make_station, make_place, make_officer, state):
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    meerut = make_district("Meerut", code="135")
    baraut = make_station(baghpat, "Baraut")
    kotwali = make_station(baghpat, "Kotwali")
    sardhana = make_station(meerut, "Sardhana")
    return {
        "baghpat": baghpat,
        "meerut": meerut,
        "bijrol": make_place("BIJROL", station=baraut, name_hi="बिजरौल", lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=baraut, lgd_code="119301"),
        "sisana": make_place("SISANA", station=kotwali, lgd_code="119302"),
        "sardhana_village": make_place("SARDHANA", station=sardhana, lgd_code="120001"),
        "baraut_so": make_officer("station_officer", baraut),
        "baraut_constable": make_officer("constable", baraut),
        "kotwali_constable": make_officer("constable", kotwali),
        "sardhana_constable": make_officer("constable", sardhana),
        "asp": make_officer("asp", baghpat),
        "supervisor": make_officer("control_room", state, name="Supervisor Sharma"),
    }


@pytest.fixture
def make_contact(db):
    counter = {"n": 0}

    def make(place, name=None):
        counter["n"] += 1
        contact = Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=name or f"Citizen {counter['n']}",
            name_script=Script.LATIN,
            category=ContactCategory.TEACHER,
            status=ContactStatus.ACTIVE,
            mobile=f"+9198765{counter['n']:05d}",
        )
        db.session.add(contact)
        db.session.flush()
        return contact

    return make


def new_incident(db, world, who="baraut_so", places=("bijrol",), **overrides):
    officer = world[who]
    values = dict(
        kind="rumour",
        severity="high",
        occurred_at=REPORTED - timedelta(hours=1),
        reported_at=REPORTED,
        source="up112_call",
        summary="Rumour of a clash at the pond",
    )
    values.update(overrides)
    incident = incidents.create_incident(
        Principal(officer=officer, post=officer.test_post, session=None),
        [world[name] for name in places],
        **values,
    )
    db.session.commit()
    return incident


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def count_events(db, action):
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_a_station_officer_reports_works_and_closes_an_incident_and_a_supervisor_reviews_it(
    client, db, login_as, world, make_contact
):
    contacts = [
        make_contact(world["bijrol"]),
        make_contact(world["bijrol"]),
        make_contact(world["bamnauli"]),
    ]
    db.session.commit()
    login_as(world["baraut_so"])

    form = page_of(client, "/incidents/new")
    assert "BIJROL" in form and "BAMNAULI" in form  # the station's places to choose from
    response = client.post(
        "/incidents/new",
        data={
            "places": [str(world["bijrol"].id), str(world["bamnauli"].id)],
            "kind": "rumour",
            "severity": "high",
            "occurred_at": "2026-11-20T09:30",
            "reported_at": "2026-11-20T10:00",
            "source": "up112_call",
            "up112_number": "UP112X42",
            "summary": "Rumour of a clash at the pond",
        },
    )
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident))
    assert response.location.endswith(f"/incidents/{incident.id}")
    assert incident.reported_at == datetime(2026, 11, 20, 4, 30, tzinfo=UTC)  # typed in IST
    assert {p.place_id for p in incident.places} == {world["bijrol"].id, world["bamnauli"].id}
    assert incident.reference in page_of(client, f"/incidents/{incident.id}")

    sheet = page_of(client, f"/incidents/{incident.id}/calls")
    assert f'href="tel:{contacts[0].mobile}"' in sheet
    assert count_events(db, "incident.call_sheet_viewed") == 1

    assert (
        client.post(
            f"/incidents/{incident.id}/status", data={"status": "verifying", "version": "1"}
        ).status_code
        == 302
    )
    for contact in contacts:
        response = client.post(
            f"/incidents/{incident.id}/calls",
            data={"contact_id": str(contact.id), "outcome": "denied", "said": "All calm here"},
        )
        assert response.status_code == 302 and "/calls" in response.location
    sheet = page_of(client, f"/incidents/{incident.id}/calls")
    assert "Denied" in sheet
    page = page_of(client, f"/incidents/{incident.id}")
    assert "All calm here" in page and "Found false" in page  # timeline and suggested verdict
    db.session.refresh(contacts[0])
    assert contacts[0].last_verified_at is not None

    db.session.refresh(incident)
    assert (
        client.post(
            f"/incidents/{incident.id}/status",
            data={"status": "found_false", "version": str(incident.version)},
        ).status_code
        == 302
    )
    db.session.refresh(incident)
    client.post(
        f"/incidents/{incident.id}/status",
        data={"status": "closed", "version": str(incident.version)},
    )
    db.session.refresh(incident)
    assert incident.status == IncidentStatus.CLOSED

    login_as(world["supervisor"])
    feed = page_of(client, "/incidents/")
    assert incident.reference in feed
    assert client.post(f"/incidents/{incident.id}/claim").status_code == 302
    assert "Being handled by Supervisor Sharma" in page_of(client, "/incidents/")
    assert incident.reference in page_of(client, "/incidents/review")
    client.post(f"/incidents/{incident.id}/review", data={"comment": "Handled well"})
    db.session.refresh(incident)
    assert incident.reviewed_at is not None
    assert incident.reference not in page_of(client, "/incidents/review")
    assert "Handled well" in page_of(client, f"/incidents/{incident.id}")


def test_a_stale_status_form_says_someone_changed_it_first(client, db, login_as, world):
    incident = new_incident(db, world)
    login_as(world["baraut_so"])
    client.post(f"/incidents/{incident.id}/status", data={"status": "verifying", "version": "1"})
    response = client.post(
        f"/incidents/{incident.id}/status",
        data={"status": "verifying", "version": "1"},
        follow_redirects=True,
    )
    assert "Someone changed this incident first" in response.get_data(as_text=True)


def test_a_supervisor_sees_masked_numbers_on_the_call_sheet(
    client, db, login_as, world, make_contact
):
    contact = make_contact(world["bijrol"])
    incident = new_incident(db, world)
    login_as(world["supervisor"])
    sheet = page_of(client, f"/incidents/{incident.id}/calls")
    assert "tel:" not in sheet and contact.mobile not in sheet
    assert f"/roster/places/{world['bijrol'].id}" in sheet


def test_after_revealing_a_village_the_supervisor_can_call_its_contacts_from_the_sheet(
    client, db, login_as, world, make_contact
):
    revealed = make_contact(world["bijrol"])
    masked = make_contact(world["bamnauli"])
    incident = new_incident(db, world, places=("bijrol", "bamnauli"))
    login_as(world["supervisor"])
    response = client.post(
        f"/roster/places/{world['bijrol'].id}/reveal", data={"reason": "rumour", "note": ""}
    )
    assert response.status_code == 302
    sheet = page_of(client, f"/incidents/{incident.id}/calls")
    assert f'href="tel:{revealed.mobile}"' in sheet
    assert masked.mobile not in sheet and f"/roster/places/{world['bamnauli'].id}" in sheet
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "incident.call_sheet_viewed")
    ).one()
    assert event.detail_data["full_numbers"] == 1


def test_another_stations_constable_gets_404(client, db, login_as, world):
    incident = new_incident(db, world)
    login_as(world["sardhana_constable"])
    for url in (f"/incidents/{incident.id}", f"/incidents/{incident.id}/calls"):
        assert client.get(url).status_code == 404
    assert client.post(f"/incidents/{incident.id}/claim").status_code == 404
    assert incident.reference not in page_of(client, "/incidents/")


def test_constables_see_only_their_stations_incidents(client, db, login_as, world):
    baraut = new_incident(db, world, summary="At Bijrol")
    both = new_incident(db, world, who="asp", places=("bamnauli", "sisana"), summary="At both")
    login_as(world["kotwali_constable"])
    feed = page_of(client, "/incidents/")
    assert both.reference in feed and baraut.reference not in feed
    assert client.get(f"/incidents/{baraut.id}").status_code == 404
    assert client.get(f"/incidents/{both.id}").status_code == 200


def test_the_feed_filters_by_district_kind_status_severity_and_time(client, db, login_as, world):
    rumour = new_incident(
        db,
        world,
        reported_at=datetime.now(UTC) - timedelta(hours=2),
        occurred_at=datetime.now(UTC) - timedelta(hours=3),
    )
    crime = new_incident(db, world, kind="crime", severity="low")
    meerut = new_incident(db, world, who="sardhana_constable", places=("sardhana_village",))
    login_as(world["supervisor"])

    def refs(query):
        page = page_of(client, "/incidents/?" + query)
        return {i.reference for i in (rumour, crime, meerut) if i.reference in page}

    assert refs("") == {rumour.reference, crime.reference, meerut.reference}
    assert refs(f"district={world['meerut'].id}") == {meerut.reference}
    assert refs("kind=crime") == {crime.reference}
    assert refs("severity=low") == {crime.reference}
    assert refs("status=new") == {rumour.reference, crime.reference, meerut.reference}
    assert refs("status=closed") == set()
    assert refs("window=24h") == {rumour.reference}
    assert refs("kind=nonsense&page=x") == {rumour.reference, crime.reference, meerut.reference}


def test_an_overdue_incident_is_highlighted(client, db, login_as, world):
    new_incident(db, world)  # reported long ago, never called
    login_as(world["baraut_so"])
    assert "row-overdue" in page_of(client, "/incidents/")


def test_a_constable_cannot_open_the_review_queue(client, db, login_as, world):
    login_as(world["baraut_constable"])
    assert client.get("/incidents/review").status_code == 403


def test_every_incident_page_renders_in_hindi(client, db, login_as, world, make_contact):
    make_contact(world["bijrol"])
    incident = new_incident(db, world)
    login_as(world["supervisor"])
    client.post("/language/hi", data={"next": "/"})
    for url in (
        "/incidents/",
        "/incidents/review",
        "/incidents/new?q=BIJ",
        f"/incidents/{incident.id}",
        f"/incidents/{incident.id}/calls",
        f"/incidents/{incident.id}/report",
    ):
        page = page_of(client, url)
        assert 'lang="hi"' in page, url
    assert "अफ़वाह" in page_of(client, f"/incidents/{incident.id}")


# ---- exports, the printed report, escalation, corrections and tips ---------------------------


def csv_rows(response):
    import csv
    import io

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_feed_downloads_as_csv_with_the_same_filters_safe_cells_and_an_audit_event(
    client, db, login_as, world
):
    formula = new_incident(db, world, summary='=HYPERLINK("http://x")', kind="crime")
    rumour = new_incident(db, world)
    new_incident(db, world, who="sardhana_constable", places=("sardhana_village",), kind="crime")
    login_as(world["asp"])  # Baghpat only

    rows = csv_rows(client.get("/incidents/export.csv?kind=crime"))
    header, body = rows[0], rows[1:]
    assert header[0] == "Reference" and "Summary" in header
    assert [row[0] for row in body] == [formula.reference]  # the filter, and not Meerut's incident
    summary = body[0][header.index("Summary")]
    assert summary.startswith("'=")  # a spreadsheet shows it as text
    assert (
        body[0][header.index("Reported (IST)")] == "20 Nov 2026 10:00"
    )  # day first, any spreadsheet
    assert body[0][header.index("Places")] == "BIJROL"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "incident.feed_exported")
    ).one()
    assert event.detail_data == {"rows": 1, "filters": {"kind": "crime"}}
    assert rumour.reference not in {row[0] for row in body}


def test_a_feed_too_large_for_one_file_is_refused_with_the_count(
    client, db, login_as, world, monkeypatch
):
    from cplan.pipelines import incident_export

    monkeypatch.setattr(incident_export, "EXPORT_LIMIT", 1)
    new_incident(db, world)
    new_incident(db, world)
    login_as(world["asp"])
    response = client.get("/incidents/export.csv", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "2 incidents match" in response.get_data(as_text=True)
    assert count_events(db, "incident.feed_exported") == 0


def test_the_csv_speaks_hindi_for_a_hindi_reader(client, db, login_as, world):
    new_incident(db, world)
    login_as(world["asp"])
    client.post("/language/hi", data={"next": "/"})
    header, row = csv_rows(client.get("/incidents/export.csv"))[:2]
    assert "अफ़वाह" in row
    assert header[0] != "Reference"


@pytest.mark.parametrize(
    ("language", "reported", "csv_reported"),
    [
        ("en", "20 Nov 2026, 10:00", "20 Nov 2026 10:00"),
        ("hi", "20 नवंबर 2026, सुबह 10:00", "20 Nov 2026 10:00"),
    ],
)
def test_the_printed_report_and_the_csv_put_the_day_first_in_either_language(
    client, db, login_as, world, language, reported, csv_reported
):
    incident = new_incident(db, world)  # reported 04:30 UTC, 10:00 IST
    login_as(world["asp"])
    client.post("/language/" + language, data={"next": "/"})
    page = page_of(client, f"/incidents/{incident.id}/report")
    assert reported in page
    assert not re.search(r"\d (am|pm|AM|PM)\b", page)
    header, row = csv_rows(client.get("/incidents/export.csv"))[:2]
    assert csv_reported in row


def test_the_printable_report_holds_the_timeline_and_is_recorded(
    client, db, login_as, world, make_contact
):
    contact = make_contact(world["bijrol"], name="Ramesh Tyagi")
    incident = new_incident(db, world)
    login_as(world["baraut_so"])
    client.post(f"/incidents/{incident.id}/status", data={"status": "verifying", "version": "1"})
    client.post(
        f"/incidents/{incident.id}/calls",
        data={"contact_id": str(contact.id), "outcome": "confirmed", "said": "Crowd near the pond"},
    )
    page = page_of(client, f"/incidents/{incident.id}/report")
    assert "Ramesh Tyagi" in page and "Crowd near the pond" in page and incident.reference in page
    assert "<form" not in page.split("<main", 1)[1]  # nothing to press on paper
    assert count_events(db, "incident.report_opened") == 1
    login_as(world["sardhana_constable"])
    assert client.get(f"/incidents/{incident.id}/report").status_code == 404


def test_a_station_officer_escalates_to_the_district_and_not_below_or_sideways(
    client, db, login_as, world
):
    incident = new_incident(db, world)
    login_as(world["baraut_so"])
    page = page_of(client, f"/incidents/{incident.id}")
    assert f'value="{world["baghpat"].id}"' in page and f'value="{world["meerut"].id}"' not in page
    response = client.post(
        f"/incidents/{incident.id}/escalate",
        data={"unit": str(world["meerut"].id), "note": "Need the other district"},
    )
    assert response.status_code == 302
    assert incidents.entries(incident) == []
    client.post(
        f"/incidents/{incident.id}/escalate",
        data={"unit": str(world["baghpat"].id), "note": "Crowd growing"},
    )
    entry = incidents.entries(incident)[-1]
    assert entry.kind.value == "escalation" and entry.escalated_to_unit_id == world["baghpat"].id
    assert "Crowd growing" in page_of(client, f"/incidents/{incident.id}")
    assert count_events(db, "incident.escalated") == 1


def test_the_state_control_room_has_no_one_above_to_escalate_to(client, db, login_as, world):
    incident = new_incident(db, world)
    login_as(world["supervisor"])
    assert 'id="escalation-heading"' not in page_of(client, f"/incidents/{incident.id}")


def test_a_correction_is_a_new_entry_naming_the_old_one(client, db, login_as, world):
    incident = new_incident(db, world)
    login_as(world["baraut_so"])
    client.post(f"/incidents/{incident.id}/notes", data={"text": "Crowd of 500"})
    wrong = incidents.entries(incident)[0]
    form = page_of(client, f"/incidents/{incident.id}/entries/{wrong.id}/correct")
    assert "Crowd of 500" in form
    response = client.post(
        f"/incidents/{incident.id}/entries/{wrong.id}/correct", data={"text": "Crowd of 50"}
    )
    assert response.status_code == 302
    first, correction = incidents.entries(incident)
    assert first.text == "Crowd of 500"  # as written
    assert correction.kind.value == "correction" and correction.corrects_entry_id == first.id
    assert "corrects entry 1" in page_of(client, f"/incidents/{incident.id}")
    empty = client.post(f"/incidents/{incident.id}/entries/{wrong.id}/correct", data={"text": " "})
    assert empty.status_code == 400 and len(incidents.entries(incident)) == 2


def test_an_entry_of_another_incident_cannot_be_corrected_through_this_one(
    client, db, login_as, world
):
    one, other = new_incident(db, world), new_incident(db, world)
    login_as(world["baraut_so"])
    client.post(f"/incidents/{other.id}/notes", data={"text": "Other"})
    entry = incidents.entries(other)[0]
    assert client.get(f"/incidents/{one.id}/entries/{entry.id}/correct").status_code == 404


def test_a_tip_from_a_contact_opens_an_incident_naming_them(
    client, db, login_as, world, make_contact
):
    contact = make_contact(world["bijrol"], name="Suresh Kumar")
    db.session.commit()
    login_as(world["baraut_so"])
    assert "Record a tip" in page_of(client, f"/roster/contacts/{contact.id}")
    response = client.post(
        f"/incidents/tips/{contact.id}",
        data={
            "summary": "Illegal liquor sold behind the school",
            "kind": "crime",
            "severity": "medium",
        },
    )
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert response.location.endswith(f"/incidents/{incident.id}")
    assert incident.source.value == "contact_tip" and not incident.confidential
    assert "tip from Suresh Kumar" in page_of(client, f"/incidents/{incident.id}")


def test_a_confidential_tip_is_hidden_from_the_station_and_seen_by_the_asp(
    client, db, login_as, world, make_contact
):
    contact = make_contact(world["bijrol"])
    db.session.commit()
    login_as(world["baraut_constable"])
    response = client.post(
        f"/incidents/tips/{contact.id}",
        data={
            "summary": "Names the gang's supplier",
            "kind": "crime",
            "severity": "high",
            "confidential": "y",
        },
        follow_redirects=True,
    )
    assert "It is confidential" in response.get_data(as_text=True)
    incident = db.session.scalars(select(Incident)).one()
    assert incident.confidential
    assert client.get(f"/incidents/{incident.id}").status_code == 404
    assert incident.reference not in page_of(client, "/incidents/")
    login_as(world["asp"])
    assert "Names the gang" in page_of(client, f"/incidents/{incident.id}")


def test_a_tip_for_a_contact_outside_the_station_is_404(client, db, login_as, world, make_contact):
    contact = make_contact(world["sardhana_village"])
    db.session.commit()
    login_as(world["baraut_so"])
    assert client.get(f"/incidents/tips/{contact.id}").status_code == 404
    assert (
        client.post(
            f"/incidents/tips/{contact.id}",
            data={"summary": "x", "kind": "crime", "severity": "low"},
        ).status_code
        == 404
    )
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0
