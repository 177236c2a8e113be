"""Administration of people: an SP office manages the posts and officers of its district.

Posts, officers and units of another district answer 404; roles without MANAGE_ACCOUNTS get 403
on every admin page; every change ends the sessions it makes invalid and writes its audit event.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import (
    Officer,
    Post,
    PostAssignment,
    Role,
    SignInCounter,
    SignInSession,
    utcnow,
)
from cplan.models.audit import AuditEvent
from cplan.services import accounts, otp, sessions
from cplan.services.sms import get_outbox
from cplan.web.i18n import LANGUAGE_SESSION_KEY

# ---- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def baghpat(make_district, make_station):
    district = make_district("Baghpat", code="124")
    return {"district": district, "station": make_station(district, "Baraut")}


@pytest.fixture
def meerut(db, make_district, make_station, make_officer):
    district = make_district("Meerut", code="140")
    station = make_station(district, "Sardhana")
    officer = make_officer("station_officer", station)
    db.session.commit()  # a refused change rolls back: fixtures must already be committed
    return {"district": district, "station": station, "post": officer.test_post, "officer": officer}


@pytest.fixture
def sp_office(make_officer, baghpat):
    return make_officer("sp_office", baghpat["district"], name="SP Office Baghpat")


@pytest.fixture
def admin(client, db, login_as, sp_office):
    """The test client, signed in as Baghpat's SP office."""
    login_as(sp_office)
    return client


@pytest.fixture
def sho(db, make_officer, baghpat):
    """An SHO of Baraut (Baghpat) with a password, holding the Baraut SHO post."""
    officer = make_officer("station_officer", baghpat["station"], name="Ram Kumar")
    db.session.commit()
    return officer


def signed_in_client(app, db, officer, post=None):
    """A second browser, signed in as ``officer`` through ``post`` (their own session cookie)."""
    browser = app.test_client()
    principal = sessions.start(officer, post or officer.test_post)
    db.session.commit()
    with browser.session_transaction() as session:
        session["_user_id"] = principal.token
        session["_fresh"] = True
    return browser


def offers(response, unit):
    """Whether the page has a select option for ``unit``."""
    return re.search(rf'<option[^>]*value="{unit.id}"', response.get_data(as_text=True)) is not None


def is_sent_to_sign_in(response):
    return response.status_code == 302 and "/auth/sign-in" in response.location


def audit_actions(db):
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def changes(db):
    """Audit events that record something done (a refusal's own ``access.refused`` trace aside)."""
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "access.refused")
    )


# ---- posts ---------------------------------------------------------------------------------


def test_an_sp_office_creates_a_post_at_a_station_of_its_district(admin, db, baghpat):
    start = admin.get("/admin/posts/new")
    assert start.status_code == 200
    step_two = admin.get("/admin/posts/new?role=constable")
    assert step_two.status_code == 200
    assert offers(step_two, baghpat["station"])

    response = admin.post(
        "/admin/posts/new?role=constable",
        data={
            "title_en": "Station CUG Baraut",
            "title_hi": "थाना बड़ौत",
            "unit": baghpat["station"].id,
            "cug": "098765-43210",
        },
    )

    post = db.session.scalar(select(Post).where(Post.title_en == "Station CUG Baraut"))
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/posts/{post.id}")
    assert post.cug_number == "+919876543210"
    assert post.unit_id == baghpat["station"].id
    assert audit_actions(db)[-1] == "admin.post_created"


def test_the_new_post_form_offers_only_units_the_role_allows(admin, baghpat):
    page = admin.get("/admin/posts/new?role=asp")
    assert offers(page, baghpat["district"])
    assert not offers(page, baghpat["station"])  # a station is no place for an ASP post


def test_a_district_sp_office_cannot_create_a_post_at_another_districts_station(admin, db, meerut):
    posts_before = count(db, Post)
    response = admin.post(
        "/admin/posts/new?role=constable",
        data={
            "title_en": "Intruder",
            "unit": meerut["station"].id,
            "cug": "9876543210",
        },
    )
    assert response.status_code == 200
    assert b"Not a valid choice" in response.data
    assert count(db, Post) == posts_before


def lists_post(response, post):
    """Whether a list page links to ``post`` (the header also names the signed-in post)."""
    return f'href="/admin/posts/{post.id}"' in response.get_data(as_text=True)


def test_the_post_list_shows_masked_cug_numbers_and_filters_by_role(admin, db, sp_office, sho):
    response = admin.get("/admin/posts?role=station_officer")
    page, number = response.get_data(as_text=True), sho.test_post.cug_number
    assert lists_post(response, sho.test_post) and not lists_post(response, sp_office.test_post)
    assert number not in page and number[-10:] not in page
    assert "******" + number[-4:] in page
    assert not lists_post(admin.get("/admin/posts?role=constable"), sho.test_post)


def test_the_post_page_speaks_hindi_to_a_hindi_reader(admin, db, sho):
    with admin.session_transaction() as session:
        session[LANGUAGE_SESSION_KEY] = "hi"
    page = admin.get(f"/admin/posts/{sho.test_post.id}").get_data(as_text=True)
    assert 'lang="hi"' in page
    assert "थाना प्रभारी" in page  # the role's label
    assert "सीयूजी नंबर बदलें" in page  # the change-CUG form


def test_the_post_list_finds_posts_by_unit_name(admin, db, sho):
    assert lists_post(admin.get("/admin/posts?q=baraut"), sho.test_post)
    assert not lists_post(admin.get("/admin/posts?q=khekada"), sho.test_post)


def test_a_duplicate_cug_among_active_posts_is_refused_and_nothing_changes(admin, db, baghpat, sho):
    taken = sho.test_post.cug_number
    posts_before, events_before = count(db, Post), count(db, AuditEvent)

    response = admin.post(
        "/admin/posts/new?role=constable",
        data={
            "title_en": "Second Baraut CUG",
            "unit": baghpat["station"].id,
            "cug": taken,
        },
    )

    assert response.status_code == 200
    assert b"already belongs to another active post" in response.data
    assert count(db, Post) == posts_before
    assert count(db, AuditEvent) == events_before


def test_changing_a_cug_to_a_number_in_use_is_refused_and_nothing_changes(
    admin, db, make_post, baghpat, sho
):
    other = make_post("constable", baghpat["station"])
    db.session.commit()
    original, events_before = other.cug_number, count(db, AuditEvent)

    response = admin.post(f"/admin/posts/{other.id}/cug", data={"cug": sho.test_post.cug_number})

    assert response.status_code == 200
    assert b"already belongs to another active post" in response.data
    db.session.expire_all()
    assert db.session.get(Post, other.id).cug_number == original
    assert count(db, AuditEvent) == events_before
    assert get_outbox() == []


def test_changing_a_cug_ends_the_posts_sessions_and_tells_the_old_number(app, admin, db, sho):
    post = sho.test_post
    old_number = post.cug_number
    browser = signed_in_client(app, db, sho)
    assert browser.get("/").status_code == 200

    response = admin.post(f"/admin/posts/{post.id}/cug", data={"cug": "+91 70000 12345"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).cug_number == "+917000012345"
    assert is_sent_to_sign_in(browser.get("/"))
    assert [message.to for message in get_outbox()] == [old_number]
    assert get_outbox()[0].template_name == "cug_changed"
    # The notice went out after the change was committed, and its delivery is on record too.
    assert {"admin.post_cug_changed", "sms.notice_sent"} <= set(audit_actions(db))


def test_deactivating_a_post_ends_its_sessions_and_reactivating_restores_it(app, admin, db, sho):
    post = sho.test_post
    browser = signed_in_client(app, db, sho)

    assert admin.post(f"/admin/posts/{post.id}/deactivate").status_code == 302
    assert is_sent_to_sign_in(browser.get("/"))
    assert admin.post(f"/admin/posts/{post.id}/reactivate").status_code == 302

    db.session.expire_all()
    assert db.session.get(Post, post.id).active is True
    assert audit_actions(db)[-2:] == ["admin.post_deactivated", "admin.post_activated"]


def test_unlocking_a_cug_lifts_the_lock_and_is_audited(admin, db, sho):
    number = sho.test_post.cug_number
    db.session.add(
        SignInCounter(
            key=f"cug:{number}",
            failures=0,
            lock_count=1,
            locked_until=utcnow() + timedelta(minutes=15),
        )
    )
    db.session.commit()
    assert b"Unlock the CUG number" in admin.get(f"/admin/posts/{sho.test_post.id}").data

    response = admin.post(f"/admin/posts/{sho.test_post.id}/unlock")

    assert response.status_code == 302
    assert otp.is_locked(number) is False
    assert audit_actions(db)[-1] == "auth.cug_unlocked"


# ---- assigning officers to posts -----------------------------------------------------------


def test_an_sp_office_assigns_an_officer_to_a_post_by_pno(admin, db, baghpat, sho, make_post):
    night_post = make_post("station_officer", baghpat["station"], title_en="SHO Baraut (night)")
    db.session.commit()

    response = admin.post(f"/admin/posts/{night_post.id}/assign", data={"pno": sho.pno.lower()})

    assert response.status_code == 302
    assert accounts.current_assignment(sho, night_post) is not None
    assert audit_actions(db)[-1] == "admin.officer_assigned"
    page = admin.get(f"/admin/posts/{night_post.id}").get_data(as_text=True)
    assert sho.name in page


def test_an_officer_of_another_district_cannot_be_assigned_by_pno(admin, db, sho, meerut):
    assignments_before = count(db, PostAssignment)
    response = admin.post(
        f"/admin/posts/{sho.test_post.id}/assign", data={"pno": meerut["officer"].pno}
    )
    assert response.status_code == 200
    assert b"No officer with that PNO" in response.data
    assert count(db, PostAssignment) == assignments_before


def test_unassigning_ends_the_officers_session_on_that_post(app, admin, db, sho):
    post = sho.test_post
    browser = signed_in_client(app, db, sho)
    assert browser.get("/").status_code == 200

    response = admin.post(f"/admin/posts/{post.id}/officers/{sho.id}/unassign")

    assert response.status_code == 302
    assert accounts.current_assignment(sho, post) is None
    assert is_sent_to_sign_in(browser.get("/"))
    assert audit_actions(db)[-1] == "admin.officer_unassigned"
    page = admin.get(f"/admin/posts/{post.id}").get_data(as_text=True)
    assert "held this post before" in page and sho.name in page


def test_unassigning_an_officer_who_does_not_hold_the_post_is_refused(
    admin, db, sho, make_post, baghpat
):
    other = make_post("constable", baghpat["station"])
    db.session.commit()
    events_before = count(db, AuditEvent)
    response = admin.post(f"/admin/posts/{other.id}/officers/{sho.id}/unassign")
    assert response.status_code == 200
    assert b"does not hold this post" in response.data
    assert count(db, AuditEvent) == events_before


# ---- officers ------------------------------------------------------------------------------


def test_an_sp_office_registers_an_officer_managed_by_its_district(admin, db, baghpat):
    form = admin.get("/admin/officers/new")
    assert offers(form, baghpat["district"]) and not offers(form, baghpat["district"].parent)

    response = admin.post(
        "/admin/officers/new",
        data={
            "pno": "pno123456",
            "name": "Sita Devi",
            "rank": "Sub-Inspector",
            "unit": baghpat["district"].id,
        },
    )

    officer = db.session.scalar(select(Officer).where(Officer.pno == "PNO123456"))
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/officers/{officer.id}")
    assert officer.unit_id == baghpat["district"].id and officer.password_hash is None
    assert audit_actions(db)[-1] == "admin.officer_created"


def test_a_duplicate_pno_is_refused_with_a_message(admin, db, baghpat, sho):
    officers_before = count(db, Officer)
    response = admin.post(
        "/admin/officers/new",
        data={
            "pno": sho.pno,
            "name": "Someone Else",
            "unit": baghpat["district"].id,
        },
    )
    assert response.status_code == 200
    assert b"already exists" in response.data
    assert count(db, Officer) == officers_before


def test_the_officer_list_finds_officers_by_pno_or_name(admin, db, sho):
    link = f'href="/admin/officers/{sho.id}"'
    assert link in admin.get(f"/admin/officers?q={sho.pno}").get_data(as_text=True)
    assert link in admin.get("/admin/officers?q=ram").get_data(as_text=True)
    assert link not in admin.get("/admin/officers?q=sita").get_data(as_text=True)


def test_the_officer_page_says_whether_a_password_is_set_but_never_shows_the_hash(admin, db, sho):
    page = admin.get(f"/admin/officers/{sho.id}").get_data(as_text=True)
    assert sho.test_post.title_en in page
    assert sho.password_hash not in page
    assert "pbkdf2" not in page


def test_deactivating_an_officer_ends_their_sessions(app, admin, db, sho):
    browser = signed_in_client(app, db, sho)
    assert browser.get("/").status_code == 200

    response = admin.post(f"/admin/officers/{sho.id}/deactivate")

    assert response.status_code == 302
    assert is_sent_to_sign_in(browser.get("/"))
    open_sessions = db.session.scalar(
        select(func.count())
        .select_from(SignInSession)
        .where(SignInSession.officer_id == sho.id, SignInSession.revoked_at.is_(None))
    )
    assert open_sessions == 0
    assert audit_actions(db)[-1] == "admin.officer_deactivated"
    assert admin.post(f"/admin/officers/{sho.id}/reactivate").status_code == 302
    assert audit_actions(db)[-1] == "admin.officer_activated"


def test_a_setup_code_is_shown_once_and_lets_the_officer_set_a_password(
    app, admin, db, baghpat, sho
):
    admin.post(
        "/admin/officers/new",
        data={"pno": "NEW00001", "name": "Asha Singh", "unit": baghpat["district"].id},
    )
    officer = db.session.scalar(select(Officer).where(Officer.pno == "NEW00001"))
    admin.post(f"/admin/posts/{sho.test_post.id}/assign", data={"pno": "NEW00001"})

    response = admin.post(f"/admin/officers/{officer.id}/setup-code")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b", page).group(1)
    assert "in person" in page
    with admin.session_transaction() as session:
        assert code not in repr(dict(session))  # never flashed into the cookie
    assert code not in admin.get(f"/admin/officers/{officer.id}").get_data(as_text=True)
    assert audit_actions(db)[-1] == "admin.setup_code_issued"
    assert code not in "".join(db.session.scalars(select(AuditEvent.detail)))

    officer_browser = app.test_client()
    new_password = "a long new password 7"
    set_up = officer_browser.post(
        "/auth/setup",
        data={
            "pno": "new00001",
            "code": code,
            "password": new_password,
            "confirm": new_password,
        },
    )
    assert is_sent_to_sign_in(set_up)
    assert accounts.authenticate_officer(sho.test_post, "NEW00001", new_password) is not None


def test_resetting_a_password_ends_the_officers_sessions(app, admin, db, sho):
    browser = signed_in_client(app, db, sho)

    response = admin.post(f"/admin/officers/{sho.id}/setup-code")

    assert response.status_code == 200
    assert is_sent_to_sign_in(browser.get("/"))
    db.session.expire_all()
    assert db.session.get(Officer, sho.id).password_hash is None
    assert audit_actions(db)[-1] == "admin.password_reset"


# ---- jurisdiction: another district's records are 404 --------------------------------------

OTHER_DISTRICT_REQUESTS = [
    ("GET", "/admin/posts/{post}"),
    ("POST", "/admin/posts/{post}/cug"),
    ("POST", "/admin/posts/{post}/deactivate"),
    ("POST", "/admin/posts/{post}/reactivate"),
    ("POST", "/admin/posts/{post}/unlock"),
    ("POST", "/admin/posts/{post}/assign"),
    ("POST", "/admin/posts/{post}/officers/{officer}/unassign"),
    ("GET", "/admin/officers/{officer}"),
    ("POST", "/admin/officers/{officer}/setup-code"),
    ("POST", "/admin/officers/{officer}/deactivate"),
    ("POST", "/admin/officers/{officer}/reactivate"),
    ("GET", "/admin/posts?unit={station}"),
    ("GET", "/admin/posts?unit={district}"),
    ("GET", "/admin/posts/new?role=constable&within={district}"),
]


@pytest.mark.parametrize(("method", "url"), OTHER_DISTRICT_REQUESTS)
@pytest.mark.parametrize(("district", "expected"), [("own", {200, 302}), ("other", {404})])
def test_a_district_sp_office_reaches_only_its_own_districts_records(
    admin, db, baghpat, sho, meerut, method, url, district, expected
):
    records = {
        "own": {
            "post": sho.test_post.id,
            "officer": sho.id,
            "station": baghpat["station"].id,
            "district": baghpat["district"].id,
        },
        "other": {
            "post": meerut["post"].id,
            "officer": meerut["officer"].id,
            "station": meerut["station"].id,
            "district": meerut["district"].id,
        },
    }[district]
    events_before = changes(db)
    data = {"cug": "9000012345", "pno": sho.pno}

    response = admin.open(
        url.format(**records), method=method, data=data if method == "POST" else None
    )

    assert response.status_code in expected
    if district == "other":
        assert changes(db) == events_before  # nothing happened


def test_a_state_administrator_manages_every_district(
    client, db, login_as, make_officer, state, meerut
):
    state_admin = make_officer("state_admin", state)
    login_as(state_admin)
    assert client.get(f"/admin/posts/{meerut['post'].id}").status_code == 200
    assert client.get(f"/admin/officers/{meerut['officer'].id}").status_code == 200
    form = client.get("/admin/officers/new")
    assert offers(form, meerut["district"]) and offers(form, state)
    response = client.post(
        "/admin/officers/new", data={"pno": "HQ000001", "name": "HQ Clerk", "unit": state.id}
    )
    assert response.status_code == 302


def test_a_state_administrator_narrows_the_new_post_units_to_one_district(
    client, db, login_as, make_officer, state, baghpat, meerut
):
    login_as(make_officer("state_admin", state))
    start = client.get("/admin/posts/new")
    assert offers(start, baghpat["district"]) and offers(start, meerut["district"])
    everywhere = client.get("/admin/posts/new?role=constable")
    assert offers(everywhere, baghpat["station"]) and offers(everywhere, meerut["station"])
    narrowed = client.get(f"/admin/posts/new?role=constable&within={meerut['district'].id}")
    assert offers(narrowed, meerut["station"]) and not offers(narrowed, baghpat["station"])
    control_room = client.get("/admin/posts/new?role=control_room")
    assert offers(control_room, state) and not offers(control_room, baghpat["district"])


# ---- roles without MANAGE_ACCOUNTS ---------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "unit_name"),
    [
        ("constable", "station"),
        ("station_officer", "station"),
        ("circle_officer", "circle"),
        ("asp", "district"),
        ("control_room", "state"),
    ],
)
def test_roles_without_account_management_get_403_on_every_admin_page(
    app, client, db, login_as, make_officer, baghpat, sho, state, role, unit_name
):
    units = {
        "station": baghpat["station"],
        "circle": baghpat["station"].parent,
        "district": baghpat["district"],
        "state": state,
    }
    login_as(make_officer(role, units[unit_name]))
    events_before = changes(db)
    admin_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]
    assert len(admin_rules) >= 15
    for rule in admin_rules:
        url = rule.rule.replace("<int:post_id>", str(sho.test_post.id)).replace(
            "<int:officer_id>", str(sho.id)
        )
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={"cug": "9000012345", "pno": sho.pno})
        assert response.status_code == 403, (role, url)
    assert changes(db) == events_before


def test_an_administrator_cannot_lock_themselves_out(
    client, db, make_district, make_officer, login_as
):
    from cplan.models import Officer, Post
    from cplan.services import accounts

    district = make_district("Baghpat", code="124")
    sp = make_officer("sp_office", district)
    principal = login_as(sp)
    for action in (
        lambda: accounts.set_officer_active(principal, sp, False),
        lambda: accounts.set_post_active(principal, sp.test_post, False),
        lambda: accounts.unassign(principal, sp, sp.test_post),
        lambda: accounts.change_cug(principal, sp.test_post, "9876500000"),
    ):
        with pytest.raises(accounts.AccountError):
            action()
    db.session.rollback()
    assert db.session.get(Officer, sp.id).active
    assert db.session.get(Post, sp.test_post.id).active
    assert client.get("/admin/posts").status_code == 200


# ---- texts that reach an SMS (issue 14, finding 9) -------------------------------------------

UNSAFE_TITLES = [
    "SHO\nBaraut",
    "SHO Baraut {#var#}",
    "SHO {#",
    "SHO\tBaraut",
    "SHO\u202eBaraut",
    "SHO\x85Baraut",
]


@pytest.mark.parametrize("title", UNSAFE_TITLES)
def test_a_post_title_that_would_break_an_sms_is_refused_and_nothing_is_created(
    admin, db, baghpat, title
):
    posts_before = count(db, Post)
    response = admin.post(
        "/admin/posts/new?role=constable",
        data={
            "title_en": title,
            "title_hi": "थाना बड़ौत",
            "unit": baghpat["station"].id,
            "cug": "9876543210",
        },
    )
    assert response.status_code == 200
    assert "may not contain line breaks, control characters or “{#”" in response.get_data(
        as_text=True
    )
    assert count(db, Post) == posts_before


def test_the_rule_is_in_the_service_so_every_caller_gets_it_and_hindi_titles_pass(
    db, baghpat, sp_office, login_as
):
    principal = login_as(sp_office)
    with pytest.raises(accounts.AccountError):
        accounts.create_post(
            principal,
            title_en="SHO Baraut",
            title_hi="थानाध्यक्ष\nबड़ौत",
            role=Role.CONSTABLE,
            unit=baghpat["station"],
            cug="9876543210",
        )
    with pytest.raises(accounts.AccountError):
        accounts.create_officer(
            principal, pno="PNO555555", name="Ram {#var#}", rank="", unit=baghpat["district"]
        )
    # The zero-width joiner belongs to Devanagari spelling ("क्‍ष"): allowed.
    post = accounts.create_post(
        principal,
        title_en="SHO Baraut",
        title_hi="थानाध्यक्ष बड़ौत क्\u200dष",
        role=Role.CONSTABLE,
        unit=baghpat["station"],
        cug="9876543210",
    )
    assert post.id is not None


def test_an_officer_name_that_would_break_an_sms_is_refused(admin, db, baghpat):
    officers_before = count(db, Officer)
    response = admin.post(
        "/admin/officers/new",
        data={"pno": "PNO777777", "name": "Sita\r\nDevi", "unit": baghpat["district"].id},
    )
    assert "may not contain line breaks" in response.get_data(as_text=True)
    assert count(db, Officer) == officers_before


def test_a_cug_change_of_a_post_saved_with_a_bad_title_before_the_rule_still_works(
    admin, db, make_post, baghpat
):
    post = make_post(
        "constable", baghpat["station"], title_en="SHO\nBaraut {#var#} and a very long title"
    )
    db.session.commit()
    response = admin.post(f"/admin/posts/{post.id}/cug", data={"cug": "+91 70000 12345"})
    assert response.status_code == 302  # was a 500: the SMS template refused the title
    assert get_outbox()[0].text.startswith(
        "C-Plan: the CUG number of post SHO Baraut #var#} and a very l was"
    )
