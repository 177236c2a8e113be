"""WhatsApp groups of a station: kept and audited, reconciled with the approved roster from a
chat export (Android and iPhone, English and Hindi, dd/mm and mm/dd), a vCard file, a CSV or
pasted numbers, and the roster split into groups of at most 1,024 by village.

The files under tests/data/whatsapp hold synthetic names and numbers only. The roster below has
five approved contacts (+91 90000 00001 to 05; the fifth also answers on 09), a pending one
(06) and a confidential one (07).
"""

import io
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from cplan.models import (
    AuditEvent,
    Contact,
    ContactCategory,
    ContactStatus,
    GroupReconciliation,
    Script,
    WhatsAppGroup,
)
from cplan.models.accounts import DailyExportCount
from cplan.services import whatsapp_groups as groups
from cplan.services.errors import NotAllowed, NotInScope
from cplan.services.principal import Principal

DATA = Path(__file__).parent / "data" / "whatsapp"


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def add_contact(db, place, number, name, **fields):
    contact = Contact(
        place_id=place.id,
        unit_path=place.unit_path,
        name=name,
        name_script=Script.LATIN,
        category=ContactCategory.TEACHER,
        status=fields.pop("status", ContactStatus.ACTIVE),
        mobile=f"+9190000000{number:02d}",
        **fields,
    )
    db.session.add(contact)
    db.session.flush()
    return contact


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer, make_post):
    baghpat = make_district("Baghpat", code="124")
    meerut = make_district("Meerut", code="135")
    baraut = make_station(baghpat, "Baraut", code="BRT")
    khekra = make_station(baghpat, "Khekra")
    bijrol = make_place("BIJROL", station=baraut, lgd_code="119300")
    bamnauli = make_place("BAMNAULI", station=baraut, lgd_code="119301")
    contacts = {
        1: add_contact(db, bijrol, 1, "Asha Verma"),
        2: add_contact(db, bijrol, 2, "Balbir Singh"),
        3: add_contact(db, bijrol, 3, "Chanda Devi"),
        4: add_contact(db, bamnauli, 4, "Dinesh Tyagi"),
        5: add_contact(db, bamnauli, 5, "Ekta Rani", mobile_alt="+919000000009"),
        6: add_contact(db, bamnauli, 6, "Pending Person", status=ContactStatus.PENDING),
        7: add_contact(db, bamnauli, 7, "Secret Source", confidential=True),
    }
    so = make_officer("station_officer", baraut)
    world = {
        "baraut": baraut,
        "khekra": khekra,
        "bijrol": bijrol,
        "bamnauli": bamnauli,
        "contacts": contacts,
        "so": so,
        "constable": make_officer("constable", baraut),
        "khekra_so": make_officer("station_officer", khekra),
        "sp": make_officer("sp_office", baghpat),
        "meerut_sp": make_officer("sp_office", meerut),
    }
    world["group"] = groups.create_group(
        principal(so),
        baraut,
        name="Baraut Shanti Samiti",
        purpose="Village heads of Bijrol and Bamnauli",
        admin_post_id=so.test_post.id,
    )
    db.session.commit()
    return world


def names(contacts):
    return {contact.name for contact in contacts}


def upload(client, group, filename, content, paste=""):
    data = {"paste": paste}
    if filename is not None:
        data["file"] = (io.BytesIO(content), filename)
    return client.post(
        f"/whatsapp-groups/{group.id}/reconcile", data=data, content_type="multipart/form-data"
    )


def saved(db):
    return db.session.scalar(select(func.count(GroupReconciliation.id)))


# What each file says, reconciled with the roster above: (missing contacts, numbers of members
# not on the roster, names that could not be matched, the date order read).
CASES = {
    "chat_android_en_dmy.txt": (
        {2, 4, 5},
        [["+919111111101"], ["+44 7700 900123"]],
        ["Ramesh Kumar", "Chhotu"],
        "dmy",
    ),
    "chat_iphone_en_mdy.txt": ({2, 3, 4}, [], ["Chhotu"], "mdy"),
    "chat_android_hi_dmy.txt": ({2, 3, 4}, [["+919111111103"]], ["रमेश कुमार"], "dmy"),
    "chat_iphone_hi_mdy.txt": ({1, 2, 4, 5}, [], ["छोटू"], "mdy"),
    "group_contacts.vcf": (
        {2, 4, 5},
        [["+919111111105"], ["+44 7700 900123"]],
        ["Chhotu"],
        "",
    ),
    "members.csv": ({2, 3, 4, 5}, [["+919111111106"]], ["Nameonly"], ""),
}


@pytest.mark.parametrize("filename", sorted(CASES))
def test_an_upload_shows_who_is_missing_who_is_not_on_the_roster_and_who_has_only_a_name(
    client, db, login_as, world, filename
):
    missing, not_on_roster, unmatched, order = CASES[filename]
    login_as(world["so"])
    response = upload(client, world["group"], filename, (DATA / filename).read_bytes())
    assert response.status_code == 302, response.get_data(as_text=True)
    record = db.session.scalar(select(GroupReconciliation))
    assert set(record.missing_ids) == {world["contacts"][n].id for n in missing}
    assert [entry["numbers"] for entry in record.not_on_roster] == not_on_roster
    assert record.unmatched == unmatched
    assert record.date_order == order
    assert record.roster_count == 5  # the pending and the confidential contact are not counted
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for number in missing:
        assert world["contacts"][number].name in page
    for number in {1, 2, 3, 4, 5} - missing:
        assert world["contacts"][number].name not in page
    for name in unmatched:
        assert name in page
    viewed = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "whatsapp.reconciliation_viewed")
    )
    assert viewed.detail_data == {"shown": len(missing), "full_numbers": len(missing)}
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "whatsapp.group_reconciled")
    )
    assert event.detail_data["missing"] == len(missing)
    assert "9000000" not in event.detail  # counts only, never numbers


def test_a_chat_export_replays_who_was_added_who_joined_and_who_left(db, world):
    from cplan.pipelines.whatsapp_members import read_upload

    chat = read_upload("chat.txt", (DATA / "chat_android_en_dmy.txt").read_bytes())
    numbers = {number for member in chat.members for number in member.numbers}
    # 02 was added then removed, 91111 11102 left; "You" (the admin) is nobody on the list.
    assert numbers == {"+919000000001", "+919000000003", "+919111111101"}
    assert (chat.chat_from, chat.chat_to) == ("2024-03-13", "2024-03-17")
    hindi = read_upload("chat.txt", (DATA / "chat_iphone_hi_mdy.txt").read_bytes())
    assert {n for m in hindi.members for n in m.numbers} == {"+919000000003"}  # 04 was removed
    assert (hindi.chat_from, hindi.chat_to) == ("2024-12-25", "2024-12-28")


def test_a_vcard_file_gives_each_card_its_decoded_name_and_all_its_numbers(app):
    from cplan.pipelines.whatsapp_members import read_upload

    cards = read_upload("group.vcf", (DATA / "group_contacts.vcf").read_bytes()).members
    assert [(card.name, card.numbers, card.foreign) for card in cards] == [
        ("रमेश कुमार", ("+919000000001",), ()),  # quoted-printable over two lines; no landline
        ("Sunita Devi (Pradhan, Bijrol)", ("+919000000003", "+919111111104"), ()),  # folded
        ("Mohd. Arif", ("+919111111105",), ()),  # vCard 4.0 tel: URI
        ("Chhotu", (), ()),
        ("Foreign Friend", (), ("+44 7700 900123",)),
    ]


def test_devanagari_digits_and_24_hour_times_are_read(app):
    from cplan.pipelines.whatsapp_members import read_text

    chat = read_text(
        "२५/१२/२०२४, २१:०५ - आपने +९१ ९०००० ०००११ को जोड़ा\n"
        "26/12/2024, 07:15 - +91 90000 00011: नमस्ते\n"
    )
    assert chat.source == "chat" and chat.date_order == "dmy"
    assert [member.numbers for member in chat.members] == [("+919000000011",)]
    assert (chat.chat_from, chat.chat_to) == ("2024-12-25", "2024-12-26")


def test_pasted_numbers_are_normalised_and_a_pending_contact_is_not_on_the_roster(
    client, db, login_as, world
):
    login_as(world["so"])
    paste = "9000000002\n+91 90000 00004, 09111111107\nSuresh 90000-00006\n"
    response = upload(client, world["group"], None, b"", paste=paste)
    assert response.status_code == 302
    record = db.session.scalar(select(GroupReconciliation))
    assert record.source == "list"
    assert set(record.missing_ids) == {world["contacts"][n].id for n in (1, 3, 5)}
    assert sorted(e["numbers"][0] for e in record.not_on_roster) == [
        "+919000000006",
        "+919111111107",
    ]


def test_a_contact_who_opted_out_is_never_proposed_for_the_group(db, world):
    from cplan.models.base import utcnow

    world["contacts"][2].opted_out_at = utcnow()
    so = principal(world["so"])
    members = groups.MemberList("list", [groups.Member(numbers=("+919000000002",))])
    record = groups.reconcile(so, world["group"], members)
    assert record.matched_count == 1 and record.not_on_roster == []  # in the group: on the roster
    members = groups.MemberList("list", [groups.Member(numbers=("+919000000001",))])
    record = groups.reconcile(so, world["group"], members)
    assert world["contacts"][2].id not in record.missing_ids and record.missing_count == 3
    plan = groups.split_roster(so, world["baraut"])
    assert plan.total == 4


def test_a_member_on_a_contacts_alternate_number_is_on_the_roster(db, world):
    members = groups.MemberList("list", [groups.Member(numbers=("+919000000009",))])
    record = groups.reconcile(principal(world["so"]), world["group"], members)
    assert world["contacts"][5].id not in record.missing_ids and record.matched_count == 1


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("broken.vcf", (DATA / "broken.vcf").read_bytes(), "damaged near card 1"),
        ("chat.txt", b"\x89PNG\r\n\x1a\n" + bytes(200), "looks like an image"),
        ("notes.txt", b"Meeting at the thana tomorrow.\nBring tea.\n", "No mobile number"),
        ("members.docx", b"PK\x03\x04 word", "its contacts (.vcf) or a list (.csv)"),
        ("latin1.txt", "Ramesh 9000000001 caf\xe9".encode("latin-1"), "not UTF-8"),
        ("contacts.vcf", b"FN:Nobody\r\nTEL:9000000001\r\n", "damaged"),
    ],
)
def test_a_bad_file_is_refused_with_a_message_and_nothing_is_saved(
    client, db, login_as, world, filename, content, message
):
    login_as(world["so"])
    response = upload(client, world["group"], filename, content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert saved(db) == 0
    assert not db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "whatsapp.group_reconciled")
    )


def test_nothing_uploaded_or_pasted_is_refused(client, db, login_as, world):
    login_as(world["so"])
    response = upload(client, world["group"], None, b"", paste="  ")
    assert response.status_code == 400
    assert "Choose a file or paste the numbers." in response.get_data(as_text=True)
    assert saved(db) == 0


def test_a_file_over_the_limit_is_refused(client, db, login_as, world, monkeypatch):
    from cplan.pipelines import whatsapp_members

    monkeypatch.setattr(whatsapp_members, "MAX_ENTRIES", 3)
    login_as(world["so"])
    lines = "\n".join(f"91111111{n:02d}" for n in range(10)).encode()
    response = upload(client, world["group"], "list.txt", lines)
    assert response.status_code == 400 and "more than 3 entries" in response.get_data(as_text=True)
    assert saved(db) == 0


# ---- keeping the groups -------------------------------------------------------------------


def test_a_station_post_adds_edits_and_retires_a_group_and_each_step_is_audited(
    client, db, login_as, world
):
    login_as(world["constable"])
    admin = world["constable"].test_post
    response = client.post(
        f"/whatsapp-groups/new?station={world['baraut'].id}",
        data={"name": "Baraut Vyapari Group", "admin_post": admin.id, "purpose": "Traders"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    group = db.session.scalar(select(WhatsAppGroup).where(WhatsAppGroup.name.like("%Vyapari%")))
    response = client.post(
        f"/whatsapp-groups/{group.id}/edit",
        data={"name": "Baraut Traders", "admin_post": admin.id, "purpose": "Traders"},
    )
    assert response.status_code == 302
    assert client.post(f"/whatsapp-groups/{group.id}/retire").status_code == 302
    db.session.expire_all()
    assert group.name == "Baraut Traders" and group.retired
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_type == "whatsapp_groups", AuditEvent.target_id == group.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "whatsapp.group_created",
        "whatsapp.group_edited",
        "whatsapp.group_retired",
    ]
    response = upload(client, group, "list.txt", b"9000000001\n")
    assert response.status_code == 400 and "retired" in response.get_data(as_text=True)
    assert saved(db) == 0


def test_a_second_group_of_the_same_name_or_an_admin_of_another_station_is_refused(db, world):
    so = principal(world["so"])
    with pytest.raises(groups.GroupError) as refused:
        groups.create_group(
            so, world["baraut"], name="baraut shanti samiti", purpose="", admin_post_id=so.post.id
        )
    assert refused.value.field == "name"
    with pytest.raises(groups.GroupError) as refused:
        groups.create_group(
            so,
            world["baraut"],
            name="Another",
            purpose="",
            admin_post_id=world["khekra_so"].test_post.id,
        )
    assert refused.value.field == "admin_post"
    assert db.session.scalar(select(func.count(WhatsAppGroup.id))) == 1


def test_a_post_without_the_permission_cannot_add_a_group(db, world, make_officer, state):
    control_room = make_officer("control_room", state)
    with pytest.raises(NotAllowed):
        groups.create_group(
            principal(control_room),
            world["baraut"],
            name="X",
            purpose="",
            admin_post_id=world["so"].test_post.id,
        )


@pytest.mark.parametrize("who", ["khekra_so", "meerut_sp"])
def test_another_stations_or_districts_post_finds_no_group(client, db, login_as, world, who):
    group = world["group"]
    record = groups.reconcile(
        principal(world["so"]),
        group,
        groups.MemberList("list", [groups.Member(numbers=("+919000000001",))]),
    )
    db.session.commit()
    login_as(world[who])
    assert client.get(f"/whatsapp-groups/{group.id}").status_code == 404
    assert client.get(f"/whatsapp-groups/{group.id}/edit").status_code == 404
    assert client.post(f"/whatsapp-groups/{group.id}/retire").status_code == 404
    assert upload(client, group, "list.txt", b"9000000001").status_code == 404
    assert client.get(f"/whatsapp-groups/reconciliations/{record.id}").status_code == 404
    assert (
        client.post(f"/whatsapp-groups/reconciliations/{record.id}/missing.vcf").status_code == 404
    )
    assert client.get(f"/whatsapp-groups/split?station={world['baraut'].id}").status_code == 404
    assert "Baraut Shanti Samiti" not in client.get("/whatsapp-groups/").get_data(as_text=True)
    assert saved(db) == 1
    with pytest.raises(NotInScope):
        groups.get_group(principal(world[who]), group.id)


def test_the_district_sees_and_reconciles_its_stations_groups(client, db, login_as, world):
    login_as(world["sp"])
    assert "Baraut Shanti Samiti" in client.get("/whatsapp-groups/").get_data(as_text=True)
    response = upload(client, world["group"], "list.txt", b"9000000001\n9000000007\n")
    assert response.status_code == 302
    record = db.session.scalar(select(GroupReconciliation))
    # The SP office sees confidential contacts: 07 is on its roster, and counted.
    assert record.roster_count == 6 and record.not_on_roster == []


# ---- the vCard of the missing contacts --------------------------------------------------------


def test_the_missing_contacts_download_as_a_vcard_counted_as_an_export(client, db, login_as, world):
    login_as(world["so"])
    upload(client, world["group"], "members.csv", (DATA / "members.csv").read_bytes())
    record = db.session.scalar(select(GroupReconciliation))
    response = client.post(f"/whatsapp-groups/reconciliations/{record.id}/missing.vcf")
    assert response.status_code == 200
    assert response.mimetype == "text/vcard"
    card = response.get_data(as_text=True)
    assert card.count("BEGIN:VCARD") == 4
    assert "TEL;TYPE=CELL:+919000000002" in card and "+919000000001" not in card
    assert "Balbir Singh" in card and "Asha Verma" not in card
    assert db.session.scalar(select(DailyExportCount.exports)) == 1
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "whatsapp.contacts_exported")
    )
    assert event.detail_data == {"what": "missing", "rows": 4, "format": "vcf"}


def test_the_vcard_asks_for_the_password_again_after_ten_minutes(client, db, login_as, world):
    from tests.test_fresh_sign_in import sign_in_long_ago

    record = groups.reconcile(
        principal(world["so"]),
        world["group"],
        groups.MemberList("list", [groups.Member(numbers=("+919000000001",))]),
    )
    db.session.commit()
    sign_in_long_ago(db, login_as, world["so"], confirmed_minutes_ago=11)
    response = client.post(f"/whatsapp-groups/reconciliations/{record.id}/missing.vcf")
    assert response.status_code == 302 and "/auth/confirm" in response.location
    assert f"next=/whatsapp-groups/reconciliations/{record.id}&" in response.location
    assert db.session.scalar(select(func.count(DailyExportCount.officer_id))) == 0


def test_a_constable_cannot_download_the_vcard(client, db, login_as, world):
    record = groups.reconcile(
        principal(world["so"]),
        world["group"],
        groups.MemberList("list", [groups.Member(numbers=("+919000000001",))]),
    )
    db.session.commit()
    login_as(world["constable"])
    page = client.get(f"/whatsapp-groups/reconciliations/{record.id}").get_data(as_text=True)
    assert "Balbir Singh" in page and "missing.vcf" not in page
    assert (
        client.post(f"/whatsapp-groups/reconciliations/{record.id}/missing.vcf").status_code == 403
    )


# ---- the split ------------------------------------------------------------------------------


def test_villages_stay_whole_where_they_fit_and_a_big_one_is_shared(db, world, make_place):
    tikri = make_place("TIKRI", station=world["baraut"], lgd_code="119302")
    add_contact(db, tikri, 8, "Farida Khan")
    so = principal(world["so"])
    plan = groups.split_roster(so, world["baraut"], cap=3)
    # Bijrol 3, Bamnauli 2, Tikri 1: largest first, each into the first group it fits.
    assert [[(s.place.name_en, s.contacts) for s in g.villages] for g in plan.groups] == [
        [("BIJROL", 3)],
        [("BAMNAULI", 2), ("TIKRI", 1)],
    ]
    plan = groups.split_roster(so, world["baraut"], cap=2)
    assert [[(s.place.name_en, s.part, s.contacts) for s in g.villages] for g in plan.groups] == [
        [("BIJROL", 1, 2)],
        [("BAMNAULI", 0, 2)],
        [("BIJROL", 2, 1), ("TIKRI", 0, 1)],
    ]
    assert plan.villages_split == 1 and plan.total == 6
    assert all(group.size <= 2 for group in plan.groups)


def test_a_big_station_is_split_into_groups_of_at_most_1024(
    client, db, login_as, world, make_place
):
    sizes = {"KIRTHAL": 600, "SISANA": 500, "HILWARI": 300, "ANGADPUR": 100}
    number = 100_000
    for index, (village, size) in enumerate(sizes.items()):
        place = make_place(village, station=world["baraut"], lgd_code=f"1194{index:02d}")
        rows = []
        for _ in range(size):
            number += 1
            rows.append(
                dict(
                    place_id=place.id,
                    unit_path=place.unit_path,
                    name=f"Member {number}",
                    name_script=Script.LATIN,
                    category=ContactCategory.TEACHER,
                    status=ContactStatus.ACTIVE,
                    mobile=f"+917{number:09d}",
                )
            )
        db.session.execute(insert(Contact), rows)
    db.session.commit()
    login_as(world["so"])
    page = client.get(f"/whatsapp-groups/split?station={world['baraut'].id}")
    assert page.status_code == 200
    plan = groups.split_roster(principal(world["so"]), world["baraut"])
    assert plan.total == 1505
    # Largest first into the first group with room: Sisana (500) does not fit beside Kirthal.
    assert [[s.place.name_en for s in g.villages] for g in plan.groups] == [
        ["ANGADPUR", "BAMNAULI", "BIJROL", "HILWARI", "KIRTHAL"],
        ["SISANA"],
    ]
    assert [g.size for g in plan.groups] == [1005, 500]
    assert all(not share.part for g in plan.groups for share in g.villages)
    csv_text = client.get(f"/whatsapp-groups/split.csv?station={world['baraut'].id}").get_data(
        as_text=True
    )
    header = csv_text.lstrip("\ufeff").splitlines()[0]
    assert header == "group,place_lgd_code,place,part,contacts,group_total"
    assert "1,119400,KIRTHAL,,600,1005" in csv_text and "+91" not in csv_text
    response = client.post(f"/whatsapp-groups/split/2.vcf?station={world['baraut'].id}")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("BEGIN:VCARD") == 500


# ---- both languages ---------------------------------------------------------------------------


def test_the_pages_speak_hindi(client, db, login_as, world):
    login_as(world["so"])
    client.post("/language/hi", data={"next": "/"})
    upload(client, world["group"], "chat.txt", (DATA / "chat_android_hi_dmy.txt").read_bytes())
    record = db.session.scalar(select(GroupReconciliation))
    pages = [
        "/whatsapp-groups/",
        f"/whatsapp-groups/{world['group'].id}",
        f"/whatsapp-groups/reconciliations/{record.id}",
        f"/whatsapp-groups/split?station={world['baraut'].id}",
        f"/whatsapp-groups/new?station={world['baraut'].id}",
    ]
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert 'lang="hi"' in page, path
        assert "व्हाट्सऐप" in page or "समूह" in page, path
    page = client.get(f"/whatsapp-groups/reconciliations/{record.id}").get_data(as_text=True)
    assert "समूह में नहीं" in page and "रमेश कुमार" in page
