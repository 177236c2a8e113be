"""Station group lists: formula-safe CSV and XLSX, valid vCard 3.0, a required reason with one
audit event, active and visible contacts only, and scope."""

import csv
import io
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from cplan.models.audit import AuditEvent
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.pipelines import roster_export, tables

DANGEROUS = ['=HYPERLINK("http://evil.example","x")', "+CMD|' /C calc'!A0", "-1+1", "@SUM(A1:A2)"]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer, login_as):
    baghpat = make_district("Baghpat", code="124")
    baraut = make_station(baghpat, "Baraut")
    khekada = make_station(baghpat, "Khekada")
    village = make_place("Bijwara", station=baraut, lgd_code="1001", name_hi="बिजवाड़ा")
    other = make_place("Pali", station=khekada, lgd_code="2001")
    serial = iter(range(100))

    def contact(
        name,
        place=village,
        status=ContactStatus.ACTIVE,
        confidential=False,
        name_other="",
        alt=None,
    ):
        item = Contact(
            place=place,
            unit_path=place.unit_path,
            name=name,
            name_script=Script.LATIN,
            name_other=name_other,
            mobile=f"+9198765432{next(serial):02d}",
            mobile_alt=alt,
            category=ContactCategory.TEACHER,
            status=status,
            confidential=confidential,
        )
        db.session.add(item)
        db.session.flush()
        return item

    world = SimpleNamespace(
        baghpat=baghpat,
        baraut=baraut,
        khekada=khekada,
        village=village,
        other=other,
        contact=contact,
        sho=make_officer("station_officer", baraut),
        asp=make_officer("asp", baghpat),
        constable=make_officer("constable", baraut),
    )
    world.login = login_as
    return world


def export(client, **fields):
    data = {
        "station": "",
        "place_code": "",
        "file_format": "csv",
        "reason": "whatsapp_group",
        "note": "Station WhatsApp group for panchayat elections",
    }
    data.update(fields)
    return client.post("/roster-files/export", data=data)


def test_dangerous_names_come_out_inert_in_csv_and_xlsx(client, world, db):
    for name in DANGEROUS:
        world.contact(name, name_other=name)
    db.session.commit()
    world.login(world.sho)
    response = export(client, station=world.baraut.id, file_format="csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + name for name in DANGEROUS}
    for row in rows[1:]:
        assert all(not cell.startswith(tables.FORMULA_STARTS) for cell in row)
        assert row[4].startswith("'+91")  # numbers stay text, not 9.19877E+11

    response = export(client, station=world.baraut.id, file_format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert {cell.value for cell in cells if cell.column == 3} == set(DANGEROUS)
    assert all(cell.data_type == "s" for cell in cells if cell.value)


def test_the_csv_rule_prefixes_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert tables.inert(start + "x") == "'" + start + "x"
    assert tables.inert("Ram") == "Ram"


def parse_vcards(text: str) -> list[dict[str, list[str]]]:
    """Unfold lines (RFC 2425) and group properties by card."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "").split("\r\n")[:-1]
    cards, current = [], None
    for line in unfolded:
        if line == "BEGIN:VCARD":
            assert current is None
            current = {}
        elif line == "END:VCARD":
            cards.append(current)
            current = None
        else:
            name, value = line.split(":", 1)
            current.setdefault(name, []).append(value)
    assert current is None
    return cards


def test_the_vcard_file_is_valid_vcard_3_with_one_card_per_contact(client, world, db):
    world.contact("Sharma, Ram; Kishore", name_other="शर्मा राम किशोर")
    world.contact("Asha Rani", name_other="आशा रानी", alt="+919812345678")
    world.contact("मोहम्मद इरफ़ान खान बहुत लंबा नाम वाला व्यक्ति जिसका नाम पचहत्तर से लंबा है")
    db.session.commit()
    world.login(world.sho)
    response = export(client, station=world.baraut.id, file_format="vcf")
    assert response.status_code == 200 and response.mimetype == "text/vcard"
    text = response.data.decode("utf-8")
    assert all(len(line.encode("utf-8")) <= 75 for line in text.split("\r\n"))
    cards = parse_vcards(text)
    assert len(cards) == 3
    for card in cards:
        assert card["VERSION"] == ["3.0"] and card["FN"] and card["N"]
        assert all(tel.startswith("+91") for tel in card["TEL;TYPE=CELL"])
        assert "बिजवाड़ा" not in card["NOTE"][0] and "Bijwara" in card["NOTE"][0]
    by_fn = {card["FN"][0]: card for card in cards}
    escaped = "Sharma\\, Ram\\; Kishore (शर्मा राम किशोर)"
    assert escaped in by_fn and by_fn[escaped]["N"] == ["Kishore;Sharma\\, Ram\\;;;;"]
    assert len(by_fn["Asha Rani (आशा रानी)"]["TEL;TYPE=CELL"]) == 2


def test_the_hindi_reader_gets_devanagari_names_first(client, world, db):
    world.contact("Asha Rani", name_other="आशा रानी")
    db.session.commit()
    world.login(world.sho)
    contacts = roster_export.active_contacts(world.login(world.sho), station=world.baraut)
    cards = parse_vcards(roster_export.to_vcard(contacts, "hi").decode("utf-8"))
    assert cards[0]["FN"] == ["आशा रानी (Asha Rani)"] and "बिजवाड़ा" in cards[0]["NOTE"][0]


def test_an_export_requires_a_reason_and_writes_one_audit_event_with_the_count(client, world, db):
    world.contact("Ram Kishore")
    world.contact("Asha Rani")
    world.contact("Pending Person", status=ContactStatus.PENDING)
    world.contact("Gone Person", status=ContactStatus.INACTIVE)
    db.session.commit()
    world.login(world.sho)
    for fields in ({"reason": ""}, {"note": ""}, {"note": "ok"}):
        response = export(client, station=world.baraut.id, **fields)
        assert response.status_code == 400
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.exported")) is None
    )

    response = export(client, station=world.baraut.id, note="Group for 9876543210 please")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 3  # header + the two active contacts
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.exported")
    ).all()
    assert len(events) == 1
    detail = events[0].detail
    assert '"rows":2' in detail and '"format":"csv"' in detail and '"scope":"station"' in detail
    assert "9876543210" not in detail and "Ram" not in detail


def test_confidential_contacts_are_left_out_unless_the_post_may_see_them(client, world, db):
    world.contact("Open Person")
    world.contact("Secret Source", confidential=True)
    db.session.commit()
    world.login(world.sho)
    body = export(client, station=world.baraut.id).data.decode("utf-8-sig")
    assert "Open Person" in body and "Secret Source" not in body
    world.login(world.asp)
    body = export(client, station=world.baraut.id).data.decode("utf-8-sig")
    assert "Open Person" in body and "Secret Source" in body


def test_one_place_can_be_exported_and_its_page_link_preselects_it(client, world, db):
    world.contact("Ram Kishore")
    world.contact("Pali Person", place=world.other)
    db.session.commit()
    world.login(world.asp)
    page = client.get(f"/roster-files/export?place_id={world.village.id}").get_data(as_text=True)
    assert 'value="1001"' in page
    body = export(client, station=world.baraut.id, place_code="1001").data.decode("utf-8-sig")
    assert "Ram Kishore" in body and "Pali Person" not in body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.exported"))
    assert '"scope":"place"' in event.detail and '"rows":1' in event.detail


def test_stations_and_places_outside_the_scope_are_not_found(client, world, db):
    world.contact("Pali Person", place=world.other)
    db.session.commit()
    world.login(world.sho)  # SHO Baraut
    assert export(client, station=world.khekada.id).status_code == 400  # not a choice offered
    assert client.get(f"/roster-files/export?place_id={world.other.id}").status_code == 404
    assert export(client, station=world.baraut.id, place_code="2001").status_code == 400
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.exported")) is None
    )


def test_posts_without_the_export_permission_are_refused(client, world):
    world.login(world.constable)
    assert client.get("/roster-files/export").status_code == 403
