"""Issue 14, finding 2: no page or export names a contact its reader may not see.

Two stations, A and B, share one circle; an incident spans a village of each. The ASP calls a
confidential source of A about it and records a tip from the same source; B's station officer
calls an ordinary contact of B. Then every page and export that lists timeline entries or
contacts is opened as each post, and the response bytes are searched for the names (both
scripts) and the numbers' digits of those the post may not see.
"""

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cplan.models import AuditEvent, Contact, ContactCategory, ContactStatus, Script, TimelineEntry
from cplan.services import incidents, roster
from cplan.services.principal import Principal
from cplan.services.roster import Visibility

REPORTED = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


@pytest.fixture
def world(db, make_district, make_unit, make_station, make_place, make_officer, state):
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    circle = make_unit("circle", "Circle Baraut", baghpat)
    station_a = make_station(baghpat, "Baraut", circle=circle)
    station_b = make_station(baghpat, "Kotwali", circle=circle)
    village_a = make_place("BIJROL", station=station_a, name_hi="बिजरौल", lgd_code="119300")
    village_b = make_place("SISANA", station=station_b, name_hi="सिसाना", lgd_code="119302")

    def contact(place, name, name_other, mobile, **fields):
        made = Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=name,
            name_script=Script.LATIN,
            name_other=name_other,
            category=ContactCategory.TRADER,
            status=ContactStatus.ACTIVE,
            mobile=mobile,
            **fields,
        )
        db.session.add(made)
        db.session.flush()
        roster.index_contact(made)
        return made

    people = {
        "baghpat": baghpat,
        "station_a": station_a,
        "station_b": station_b,
        "village_a": village_a,
        "village_b": village_b,
        "source": contact(
            village_a, "Gupteshwar Mukhbir", "गुप्तेश्वर मुखबिर", "+917011122334", confidential=True
        ),
        "ordinary_a": contact(village_a, "Ramesh Chand", "रमेश चंद", "+917055566778"),
        "ordinary_b": contact(village_b, "Bholanath Kisan", "भोलानाथ किसान", "+918022233445"),
        "constable_a": make_officer("constable", station_a),
        "sho_b": make_officer("station_officer", station_b),
        "co": make_officer("circle_officer", circle),
        "asp": make_officer("asp", baghpat),
        "sp_office": make_officer("sp_office", baghpat),
        "control_room": make_officer("control_room", state),
    }
    asp, sho_b = principal(people["asp"]), principal(people["sho_b"])
    shared = incidents.create_incident(
        asp,
        [village_a, village_b],
        "rumour",
        "high",
        REPORTED - timedelta(hours=1),
        REPORTED,
        "up112_call",
        "Rumour of a clash at the canal",
    )
    incidents.log_call(
        asp, shared.id, people["source"].id, "confirmed", "Saw a crowd near the canal"
    )
    incidents.log_call(sho_b, shared.id, people["ordinary_b"].id, "denied", "All calm in Sisana")
    # Open, not confidential: the station works it, and must not learn whose tip it was.
    tip = incidents.record_tip(asp, people["source"].id, "Liquor stored in a tubewell room")
    db.session.commit()
    people.update(shared=shared, tip=tip)
    return people


SEES_ALL = ("asp", "sp_office", "control_room")
# Who may not know whom: the names and numbers that must never reach each post.
HIDDEN = {
    "constable_a": ("source", "ordinary_b"),
    "sho_b": ("source",),
    "co": ("source",),
    "asp": (),
    "sp_office": (),
    "control_room": (),
}


def secrets_of(contact):
    digits = contact.mobile[3:]
    return [
        contact.name,
        contact.name_other,
        digits,
        f"{digits[:5]} {digits[5:]}",
        f'href="/roster/contacts/{contact.id}"',
    ]


def readable(response) -> str:
    """The response as text; a spreadsheet is unpacked so its cells can be searched too."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return data.decode("utf-8", "replace")


def pages(world, db):
    """Every page and export that lists timeline entries or contacts (GET), for the fixture's
    records."""
    shared, tip = world["shared"], world["tip"]
    source, ordinary_b = world["source"], world["ordinary_b"]
    urls = [
        "/incidents/",
        "/incidents/review",
        "/incidents/export.csv",
        "/coverage/duplicates",
        "/enrolments/",
        "/enrolments/proposals",
        "/enrolments/mine",
        f"/enrolments/bulk?pick={source.id}:1",
        f"/enrolments/bulk?pick={ordinary_b.id}:1",
        f"/roster/places/{world['village_a'].id}",
        f"/roster/places/{world['village_b'].id}",
        "/audit/",
    ]
    for incident in (shared, tip):
        urls += [
            f"/incidents/{incident.id}",
            f"/incidents/{incident.id}/report",
            f"/incidents/{incident.id}/calls",
        ]
        for entry_id in db.session.scalars(
            select(TimelineEntry.id).where(TimelineEntry.incident_id == incident.id)
        ):
            urls.append(f"/incidents/{incident.id}/entries/{entry_id}/correct")
    for contact in (source, ordinary_b):
        urls += [
            f"/roster/contacts/{contact.id}",
            f"/enrolments/contacts/{contact.id}/history",
            f"/incidents/tips/{contact.id}",
            # Searching by a part of the name: the whole name must not come back.
            f"/search?q={contact.name.split()[0]}",
            f"/search?q={contact.name_other.split()[0]}",
        ]
    for event_id in db.session.scalars(select(AuditEvent.id)):
        urls.append(f"/audit/{event_id}")
    for contact in (source, ordinary_b):  # the JSON API answers about a contact by id
        urls.append(
            ("JSON", f"/api/enrolments/{contact.id}/decision", {"action": "approve", "version": 1})
        )
    for station in (world["station_a"], world["station_b"]):
        for file_format in ("csv", "xlsx", "vcf"):
            urls.append(
                (
                    "POST",
                    "/transfer/export",
                    {
                        "station": str(station.id),
                        "file_format": file_format,
                        "reason": "verification",
                        "note": "Monthly check",
                    },
                )
            )
    return urls


@pytest.mark.parametrize(
    "who, language",
    [(who, "en") for who in HIDDEN] + [(who, "hi") for who, hidden in HIDDEN.items() if hidden],
)
def test_no_page_or_export_names_a_contact_its_reader_may_not_see(
    client, db, login_as, world, who, language
):
    login_as(world[who])
    client.post(f"/language/{language}")
    hidden = [secret for name in HIDDEN[who] for secret in secrets_of(world[name])]
    opened = 0
    for url in pages(world, db):
        if isinstance(url, tuple):
            method, path, data = url
            response = (
                client.post(path, json=data) if method == "JSON" else client.post(path, data=data)
            )
            url = f"{method} {path} {data}"
        else:
            response = client.get(url)
        assert response.status_code < 500, url
        opened += response.status_code == 200
        text = readable(response)
        for secret in hidden:
            assert secret not in text, (who, url, secret)
    assert opened >= 8  # the walk did open pages, not only refusals


@pytest.mark.parametrize("who", list(HIDDEN))
def test_a_number_search_never_finds_a_contact_its_reader_may_not_see(
    client, db, login_as, world, who
):
    login_as(world[who])
    for name in HIDDEN[who]:
        contact = world[name]
        page = client.get(f"/search?q={contact.mobile}").get_data(as_text=True)
        assert contact.name not in page and contact.name_other not in page
        assert f'href="/roster/contacts/{contact.id}"' not in page


@pytest.mark.parametrize(
    "who, source, ordinary_b",
    [
        ("constable_a", "a confidential source", "a contact of another station"),
        ("sho_b", "a contact of another station", "Bholanath Kisan"),
        ("co", "a confidential source", "Bholanath Kisan"),
        ("asp", "Gupteshwar Mukhbir", "Bholanath Kisan"),
        ("sp_office", "Gupteshwar Mukhbir", "Bholanath Kisan"),
        ("control_room", "Gupteshwar Mukhbir", "Bholanath Kisan"),
    ],
)
def test_the_timeline_says_who_was_called_as_far_as_the_reader_may_know(
    client, db, login_as, world, who, source, ordinary_b
):
    login_as(world[who])
    for url in (f"/incidents/{world['shared'].id}", f"/incidents/{world['shared'].id}/report"):
        page = client.get(url).get_data(as_text=True)
        assert f"{source} – Confirmed" in page, url
        assert f"{ordinary_b} – Denied" in page, url
        assert "Saw a crowd near the canal" in page  # what was said stays on the timeline


def test_the_tip_of_a_confidential_source_names_no_one_to_the_station(client, db, login_as, world):
    login_as(world["constable_a"])
    page = client.get(f"/incidents/{world['tip'].id}").get_data(as_text=True)
    assert "tip from a confidential source" in page
    login_as(world["asp"])
    assert "tip from Gupteshwar Mukhbir" in client.get(f"/incidents/{world['tip'].id}").get_data(
        as_text=True
    )


def test_the_placeholders_speak_hindi(client, db, login_as, world):
    login_as(world["constable_a"])
    client.post("/language/hi")
    page = client.get(f"/incidents/{world['shared'].id}").get_data(as_text=True)
    assert "एक गोपनीय स्रोत" in page and "अन्य थाने के संपर्क व्यक्ति" in page
    assert "गुप्तेश्वर" not in page and "भोलानाथ" not in page


def test_the_rule_for_one_contact_is_the_rule_of_every_query(db, world):
    """``contact_visibility`` (a loaded contact) and ``visible_condition`` (SQL) agree for every
    post and contact, and say why a contact is withheld."""
    contacts = [world[name] for name in ("source", "ordinary_a", "ordinary_b")]
    expected = {
        ("constable_a", "source"): Visibility.CONFIDENTIAL,
        ("constable_a", "ordinary_b"): Visibility.OTHER_STATION,
        (
            "sho_b",
            "source",
        ): Visibility.OTHER_STATION,  # outside its scope first: that says nothing more
        ("sho_b", "ordinary_a"): Visibility.OTHER_STATION,
        ("co", "source"): Visibility.CONFIDENTIAL,
    }
    for who in HIDDEN:
        reader = principal(world[who])
        in_sql = set(db.session.scalars(select(Contact.id).where(roster.visible_condition(reader))))
        for name, contact in zip(("source", "ordinary_a", "ordinary_b"), contacts, strict=True):
            visibility = roster.contact_visibility(reader, contact)
            assert visibility == expected.get((who, name), Visibility.VISIBLE), (who, name)
            assert (visibility == Visibility.VISIBLE) == (contact.id in in_sql), (who, name)
