"""Search across the post's scope: places and contacts by name in either script, by number and
by LGD code, through the search-token index; scope, confidentiality, masking, paging, plans."""

import pytest
from sqlalchemy import select, text

from cplan.data import PACKAGED_DATA_DIR
from cplan.models import Place
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.models.search import SearchToken
from cplan.pipelines import geo_import
from cplan.services import search
from cplan.services.transliteration import normalise_query


@pytest.fixture
def make_contact(db):
    """A contact row (indexed for search) in ``place``; active unless told otherwise."""

    def make(place, name, mobile, name_other="", status=ContactStatus.ACTIVE, **fields):
        script = (
            Script.DEVANAGARI if any("\u0900" <= ch <= "\u097f" for ch in name) else Script.LATIN
        )
        contact = Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=name,
            name_script=script,
            name_other=name_other,
            mobile=mobile,
            category=ContactCategory.TEACHER,
            status=status,
            **fields,
        )
        db.session.add(contact)
        db.session.flush()
        search.index_names(search.CONTACT, contact.id, contact.unit_path, name, name_other)
        return contact

    return make


@pytest.fixture
def world(make_district, make_station, make_place, make_contact, db):
    """Baghpat (Baraut and Khekada stations) and Meerut (Sardhana), with places and contacts."""
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    baraut = make_station(baghpat, "Baraut")
    khekada = make_station(baghpat, "Khekada")
    meerut = make_district("Meerut", code="131")
    sardhana = make_station(meerut, "Sardhana")
    town = make_place("BARAUT", station=baraut, kind="town", name_hi="बड़ौत", lgd_code="800123")
    bijrol = make_place("BIJROL", station=baraut, name_hi="बिजरौल", lgd_code="119300")
    khekra = make_place("KHEKRA", station=khekada, kind="town", name_hi="खेकड़ा")
    dabthala = make_place("DABTHALA", station=sardhana, lgd_code="120001")
    rows = {
        "baghpat": baghpat,
        "baraut": baraut,
        "khekada": khekada,
        "meerut": meerut,
        "sardhana": sardhana,
        "town": town,
        "bijrol": bijrol,
        "khekra": khekra,
        "dabthala": dabthala,
        "ramkishor": make_contact(bijrol, "Ramkishor", "+919876543210", "रामकिशोर"),
        "sharma": make_contact(
            town, "Ram Kishore Sharma", "+919812345678", mobile_alt="+917011122233"
        ),
        "hindi": make_contact(town, "सुरेश चंद", "+918800011122", "Suresh Chand"),
        "khekra_man": make_contact(khekra, "Mahesh Tyagi", "+919900011122"),
        "secret": make_contact(bijrol, "Ramesh Gupta", "+919700011122", confidential=True),
        "meerut_man": make_contact(dabthala, "Ram Kishore Meerut", "+919600011122"),
    }
    db.session.commit()
    return rows


ROLE_AT = {
    "state": "control_room",
    "district": "asp",
    "circle": "circle_officer",
    "station": "constable",
}


@pytest.fixture
def sign_in(make_officer, login_as):
    def sign(unit, role=None):
        return login_as(make_officer(role or ROLE_AT[unit.kind.value], unit))

    return sign


def results(client, query, **params):
    """(place names, contact names) on the search page for ``query``."""
    response = client.get("/search", query_string={"q": query, **params})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    places = _names_in(page, "found-places")
    contacts = _names_in(page, "found-contacts")
    return places, contacts


def _names_in(page, section):
    import re

    if f'id="{section}"' not in page:
        return []
    part = page.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", name).strip()
        for name in re.findall(r'class="name" href="[^"]*"[^>]*>(.*?)</a>', part)
    ]


# ---- names in either script ------------------------------------------------------------------


@pytest.mark.parametrize("query", ["बड़ौत", "Baraut", "Badaut", "baraut", "BARA"])
def test_a_place_is_found_by_any_spelling_in_either_script(client, world, sign_in, query):
    sign_in(world["baghpat"])
    assert "BARAUT" in results(client, query)[0]


def test_a_hindi_query_finds_a_contact_written_in_roman(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "राम किशोर") == ([], ["Ram Kishore Sharma", "Ramkishor"])


def test_a_roman_query_finds_a_contact_written_in_hindi(client, world, sign_in):
    sign_in(world["baraut"])
    # Shown in the reader's script (English here), with the name as written beside it.
    assert results(client, "Suresh")[1] == ["Suresh Chand"]
    assert results(client, "suresh chand")[1] == ["Suresh Chand"]
    assert "सुरेश चंद" in client.get("/search?q=suresh").get_data(as_text=True)


@pytest.mark.parametrize("query", ["Ram Kishore", "Ramkishor", "ramkishore", "Ram Kishor"])
def test_ram_kishore_and_ramkishor_find_each_other(client, world, sign_in, query):
    sign_in(world["baraut"])
    assert results(client, query)[1] == ["Ram Kishore Sharma", "Ramkishor"]


def test_a_word_in_the_middle_of_a_name_is_found(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "Kishore")[1] == ["Ram Kishore Sharma"]
    assert results(client, "Sharma")[1] == ["Ram Kishore Sharma"]


def test_the_middle_of_a_word_is_not_a_match(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "ishore") == ([], [])


def test_places_come_before_contacts_and_link_to_their_pages(
    client, world, sign_in, make_contact, db
):
    make_contact(world["town"], "Baraut Wale Baba", "+919511122233")
    db.session.commit()
    sign_in(world["baraut"])
    page = client.get("/search?q=baraut").get_data(as_text=True)
    assert page.index('id="found-places"') < page.index('id="found-contacts"')
    assert f'href="/geo/places/{world["town"].id}"' in page
    contact = db.session.scalar(select(Contact).where(Contact.name == "Baraut Wale Baba"))
    assert f'href="/roster/contacts/{contact.id}"' in page
    assert f'href="/roster/places/{world["town"].id}"' in page


# ---- numbers and codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "9876543210",
        "98765 43210",
        "098765-43210",
        "+91 9876543210",
        "919876543210",
        "+91-98765-43210",
        "९८७६५४३२१०",
    ],
)
def test_a_contact_is_found_by_its_number_in_every_accepted_format(client, world, sign_in, query):
    sign_in(world["baraut"])
    assert results(client, query)[1] == ["Ramkishor"]


def test_a_contact_is_found_by_its_alternate_number(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "70111 22233")[1] == ["Ram Kishore Sharma"]


def test_part_of_a_number_finds_nothing(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "98765")[1] == []


@pytest.mark.parametrize(
    "query, found",
    [
        ("98765432", ["Ramkishor"]),
        ("98765 4321", ["Ramkishor"]),
        ("+91 98765 432", ["Ramkishor"]),
        ("098765432", ["Ramkishor"]),
        ("७०१११२२२", ["Ram Kishore Sharma"]),  # the alternate number
        ("98123456", ["Ram Kishore Sharma"]),
        ("98765433", []),
        ("99999999", []),
    ],
)
def test_eight_or_nine_digits_find_the_numbers_beginning_with_them(
    client, world, sign_in, query, found
):
    sign_in(world["baraut"])
    assert results(client, query)[1] == found


@pytest.mark.parametrize("query", ["+91 98765", "98765-43", "९८७६५४३", "+91 9876543", "(98765) 43"])
def test_fewer_than_eight_digits_of_a_number_are_refused(client, world, sign_in, db, query):
    from cplan.models.audit import AuditEvent

    sign_in(world["baghpat"])
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    assert "Type at least 8 digits of the mobile number." in page
    assert 'id="found-contacts"' not in page
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "search.number_lookup"))
        is None
    )


def lookups(db):
    from cplan.models.audit import AuditEvent

    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "search.number_lookup")
        .order_by(AuditEvent.id)
    ).all()


@pytest.mark.parametrize("unit", ["baraut", "baghpat"])
def test_every_number_look_up_is_audited_with_the_number_masked(client, world, sign_in, db, unit):
    """Issue 14, finding 8: an ASP searching a phone number saw whose it was and nothing
    recorded it. Every look-up by number, from any post, now leaves an event."""
    sign_in(world[unit])
    assert results(client, "98765 43210")[1] == ["Ramkishor"]
    assert results(client, "98765432")[1] == ["Ramkishor"]
    results(client, "9500011122")  # nobody's number: the look-up is recorded all the same
    exact, start, missed = lookups(db)
    assert exact.detail_data == {
        "query": "+91 ******3210",
        "match": "exact",
        "contacts": 1,
        "contact_ids": [world["ramkishor"].id],
        "full_numbers": unit == "baraut",
    }
    assert (start.detail_data["query"], start.detail_data["match"]) == ("+91 ****5432…", "start")
    assert (missed.detail_data["query"], missed.detail_data["contacts"]) == ("+91 ******1122", 0)
    for event in (exact, start, missed):
        assert "9876543210" not in event.detail and "98765432" not in event.detail


def test_a_number_look_up_that_finds_a_hidden_contact_is_recorded_and_shows_nothing(
    client, world, sign_in, db
):
    sign_in(world["baraut"])
    assert results(client, "9700011122") == ([], [])  # the confidential contact's number
    (event,) = lookups(db)
    assert event.detail_data["contacts"] == 0 and event.detail_data["contact_ids"] == []


def test_a_name_search_is_no_number_look_up(client, world, sign_in, db):
    sign_in(world["baghpat"])
    results(client, "Ramkishor")
    results(client, "119300")  # an LGD code: a place, never a contact
    assert lookups(db) == []


def test_a_place_is_found_by_its_lgd_code_exactly(client, world, sign_in):
    sign_in(world["baghpat"])
    assert results(client, "119300")[0] == ["BIJROL"]
    assert results(client, "11930")[0] == []
    assert results(client, "११९३००")[0] == []  # Devanagari digits are no LGD code


# ---- scope, confidentiality, masking ---------------------------------------------------------


def test_a_station_post_finds_nothing_of_another_station_or_district(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "Khekra") == ([], [])
    assert results(client, "Mahesh") == ([], [])
    assert results(client, "9900011122") == ([], [])
    assert results(client, "120001") == ([], [])
    assert results(client, "Ram Kishore")[1] == ["Ram Kishore Sharma", "Ramkishor"]  # not Meerut's


def test_a_district_post_finds_nothing_of_another_district(client, world, sign_in):
    sign_in(world["baghpat"])
    assert "Ram Kishore Meerut" not in results(client, "Ram Kishore")[1]
    assert results(client, "DABTHALA") == ([], [])


def test_confidential_contacts_are_hidden_from_station_posts(client, world, sign_in):
    sign_in(world["baraut"])
    assert results(client, "Ramesh") == ([], [])
    assert results(client, "9700011122") == ([], [])


def test_confidential_contacts_are_found_by_the_asp(client, world, sign_in):
    sign_in(world["baghpat"])
    assert results(client, "Ramesh")[1] == ["Ramesh Gupta"]


def test_station_posts_see_full_numbers_and_the_view_is_audited(client, world, sign_in, db):
    from cplan.models.audit import AuditEvent

    sign_in(world["baraut"])
    page = client.get("/search?q=Ramkishor").get_data(as_text=True)
    assert 'href="tel:+919876543210"' in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.search_viewed"))
    assert event is not None and "9876543210" not in str(vars(event))


def test_posts_above_the_station_see_numbers_masked(client, world, sign_in):
    sign_in(world["baghpat"])
    page = client.get("/search?q=Ramkishor").get_data(as_text=True)
    assert "+91 ******3210" in page and "9876543210" not in page


def test_a_number_search_by_a_masked_post_does_not_echo_other_numbers(client, world, sign_in):
    sign_in(world["baghpat"])
    page = client.get("/search?q=70111 22233").get_data(as_text=True)
    assert "+919812345678" not in page and "******5678" in page


# ---- odd input and paging --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["r", "र", " a ", "%", "_", "%%", "__", "-", ".", "Ra", "रा", "R%m", "+"]
)
def test_a_too_short_query_explains_itself(client, world, sign_in, query):
    sign_in(world["baghpat"])
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    assert (
        "Type at least three letters of a name, at least 8 digits of a mobile number, "
        "or a complete LGD code."
    ) in page
    assert 'id="found-places"' not in page and 'id="found-contacts"' not in page


@pytest.mark.parametrize("query", ["Ram%", "Ram_", "Ra%m", "%Ram%", "Ram.*", "(Ram)", "Ram\\"])
def test_wildcards_and_regex_characters_in_a_query_match_nothing_extra(
    client, world, sign_in, query
):
    sign_in(world["baraut"])
    # Punctuation is not part of a name key: the query means "Ram", never "anything".
    assert results(client, query)[1] == ["Ram Kishore Sharma", "Ramkishor"]


@pytest.mark.parametrize("query", ["%%%%", "____", "%_%_"])
def test_a_query_of_wildcards_lists_nothing(client, world, sign_in, query):
    sign_in(world["baraut"])
    assert results(client, query) == ([], [])


def test_the_index_range_scan_treats_percent_and_underscore_as_plain_characters(app, world, db):
    # Today's keys drop % and _; prove the range scan itself with keys that keep them.
    for key in ("rm%", "rm_"):
        db.session.add(
            SearchToken(
                kind="contact",
                record_id=world["sharma"].id,
                key=key,
                unit_path=world["baraut"].path,
            )
        )
    db.session.flush()
    found = db.session.scalars(search.ids_for_key("contact", "rm%", world["baghpat"])).all()
    assert found == [world["sharma"].id]
    assert db.session.scalars(search.ids_for_key("contact", "%", world["baghpat"])).all() == []
    assert db.session.scalars(search.ids_for_key("contact", "_", world["baghpat"])).all() == []


@pytest.fixture
def many(world, make_place, make_contact, db):
    """130 places and 130 contacts in Baraut whose names start with Kheri."""
    for number in range(130):
        place = make_place(f"KHERI {number:03d}", station=world["baraut"])
        make_contact(place, f"Kheri Lal {number:03d}", f"+9190000{number:05d}")
    db.session.commit()


def test_results_are_fifty_a_page_by_default_places_first(client, world, sign_in, many):
    sign_in(world["baraut"])
    places, contacts = results(client, "kheri")
    assert len(places) == 50 and contacts == [] and places[0] == "KHERI 000"
    places, contacts = results(client, "kheri", page=3)
    assert places == [f"KHERI {n:03d}" for n in range(100, 130)]
    assert contacts == [f"Kheri Lal {n:03d}" for n in range(20)]


def test_a_page_never_holds_more_than_a_hundred(client, world, sign_in, many):
    sign_in(world["baraut"])
    places, contacts = results(client, "kheri", per_page=1000)
    assert len(places) == 100 and contacts == []
    places, contacts = results(client, "kheri", per_page=1000, page=2)
    assert len(places) == 30 and len(contacts) == 70
    assert "Showing 101–200 of 260" in client.get("/search?q=kheri&per_page=1000&page=2").get_data(
        as_text=True
    )


def test_the_search_service_caps_pages_at_a_hundred(app, world, many):
    from cplan.services import roster

    class Reader:  # the visibility rule needs only the unit and the permission check
        unit = world["baraut"]

        def can(self, permission):
            return False

    found = search.find(
        "kheri", world["baraut"], roster.visible_condition(Reader()), per_page=10_000
    )
    assert len(found.items) == 100 and found.total == 260 and found.pages == 3


def test_constables_may_search_but_anonymous_visitors_may_not(client, world, sign_in):
    assert client.get("/search?q=baraut").status_code in (302, 401)
    sign_in(world["baraut"], "constable")
    assert client.get("/search?q=baraut").status_code == 200


# ---- the index -------------------------------------------------------------------------------


def test_every_added_place_is_indexed_by_each_of_its_names(app, world, db):
    keys = set(
        db.session.scalars(
            select(SearchToken.key).where(
                SearchToken.kind == "place", SearchToken.record_id == world["town"].id
            )
        )
    )
    assert normalise_query("Baraut") in keys and normalise_query("बड़ौत") in keys


def test_a_reindex_with_nothing_changed_writes_nothing(app, world, db):
    places = db.session.scalars(select(Place)).all()
    before = db.session.execute(select(SearchToken.id, SearchToken.key)).all()
    assert search.reindex_places(places) == 0
    assert db.session.execute(select(SearchToken.id, SearchToken.key)).all() == before


def test_a_rename_through_reindex_replaces_the_old_keys(app, world, db):
    town = world["town"]
    town.name_en, town.name_hi = "BARAUT CITY", ""
    assert search.reindex_places([town]) > 0
    keys = set(
        db.session.scalars(
            select(SearchToken.key).where(
                SearchToken.kind == "place", SearchToken.record_id == town.id
            )
        )
    )
    assert keys == search.word_start_keys("BARAUT CITY")


DATA = PACKAGED_DATA_DIR


def token_rows(db):
    return set(
        db.session.execute(
            select(
                SearchToken.id,
                SearchToken.kind,
                SearchToken.record_id,
                SearchToken.key,
                SearchToken.unit_path,
            )
        ).all()
    )


def test_the_geo_import_indexes_every_place_and_a_rerun_leaves_the_tokens_unchanged(app, db):
    geo_import.import_districts(DATA / "up_districts.csv")
    geo_import.import_subdistricts(DATA / "up_subdistricts.csv")
    district = geo_import.find_district("124")
    steps = [
        lambda: geo_import.import_places(DATA / "baghpat_villages.csv", "124"),
        lambda: geo_import.import_stations(DATA / "baghpat_police_stations.csv", "124"),
        lambda: geo_import.attach_places_to_nearest_station(district),
    ]
    for step in steps:
        step()
    db.session.commit()
    tokens = token_rows(db)
    places = db.session.scalars(select(Place)).all()
    assert len(places) > 100
    # Every place is indexed, under its current unit path (attached places moved with them).
    assert {row[2] for row in tokens if row[1] == "place"} == {place.id for place in places}
    path_of = {place.id: place.unit_path for place in places}
    assert all(row[4] == path_of[row[2]] for row in tokens if row[1] == "place")
    for step in steps:
        step()
    db.session.commit()
    assert token_rows(db) == tokens


def test_the_token_query_uses_the_kind_key_path_index(app, world, db):
    # A realistically sized index (20,000 tokens of many keys, kinds and stations), analysed,
    # so each planner chooses as it would in production.
    import random

    from sqlalchemy import insert

    letters = "bcdgjklmnprstuvi"
    rng = random.Random(4)
    paths = [world["baraut"].path, world["khekada"].path, world["sardhana"].path]
    db.session.execute(
        insert(SearchToken),
        [
            {
                "kind": ("place", "contact")[n % 2],
                "record_id": 10_000 + n,
                "key": "".join(rng.choice(letters) for _ in range(rng.randint(3, 12))),
                "unit_path": paths[n % 3],
            }
            for n in range(20_000)
        ],
    )
    db.session.execute(text("ANALYZE search_tokens"))
    statement = search.ids_for_key("place", "brut", world["baghpat"])
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN" if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    plan = "\n".join(str(row[-1]) for row in db.session.execute(text(f"{explain} {compiled}")))
    assert "ix_search_tokens_kind_key_path" in plan, plan


def test_the_reindex_command_restores_a_lost_index_and_is_idempotent(
    db, runner, make_district, make_station, make_place
):
    from sqlalchemy import delete, func, select

    from cplan.models import SearchToken

    district = make_district("Baghpat", code="124")
    make_place("BIJROL", station=make_station(district, "Baraut"), lgd_code="119300")
    db.session.commit()
    before = db.session.scalar(select(func.count(SearchToken.id)))
    db.session.execute(delete(SearchToken))
    db.session.commit()
    result = runner.invoke(args=["cplan", "reindex"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(SearchToken.id))) == before > 0
    result = runner.invoke(args=["cplan", "reindex"])
    assert "0 place tokens and 0 contact tokens" in result.output
