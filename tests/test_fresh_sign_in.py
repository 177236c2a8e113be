"""Fresh sign-in before sensitive actions (issue 14, finding 7).

"With a 2-hour-old session a station exported its 811 contacts with full numbers seven times,
and the SP office changed a post's CUG number." Now those actions need the officer's password
typed within the last 10 minutes of the session ("Confirm it is you"); wrong passwords are
counted and the third ends the session.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from cplan.models import (
    AuditEvent,
    Contact,
    ContactCategory,
    ContactStatus,
    OutboundMessage,
    Post,
    SignInSession,
)
from cplan.models.base import utcnow
from cplan.models.roster import Script
from cplan.services import reauth
from cplan.services.principal import Principal
from tests.concurrency import run_together
from tests.conftest import TEST_PASSWORD

NEW_NUMBER = "+917000012345"


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    village = make_place("Bijwara", station=station, lgd_code="1001")
    contact = Contact(
        place=village,
        unit_path=village.unit_path,
        name="Ram Kishore",
        name_script=Script.LATIN,
        mobile="+919876543210",
        category=ContactCategory.TEACHER,
        status=ContactStatus.ACTIVE,
    )
    db.session.add(contact)
    world = {
        "district": district,
        "station": station,
        "village": village,
        "contact": contact,
        "sho": make_officer("station_officer", station, name="Ram Kumar"),
        "asp": make_officer("asp", district),
        "sp": make_officer("sp_office", district, name="SP Office Baghpat"),
        "constable": make_officer("constable", station),
    }
    db.session.commit()
    return world


def sign_in_long_ago(db, login_as, officer, hours=2, confirmed_minutes_ago=None):
    """Sign ``officer`` in with a session opened ``hours`` ago and still in use (not idle)."""
    principal = login_as(officer)
    session = db.session.get(SignInSession, principal.session.id)
    session.created_at = utcnow() - timedelta(hours=hours)
    minutes = hours * 60 if confirmed_minutes_ago is None else confirmed_minutes_ago
    session.password_confirmed_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()
    return principal


def confirm_target(response):
    """Where the page sent the officer: ``/auth/confirm`` with its ``next`` and ``repeat``."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response.location)
    assert parts.path == "/auth/confirm"
    query = parse_qs(parts.query)
    return query["next"][0], query.get("repeat", [""])[0]


def count(db, statement):
    db.session.rollback()
    return db.session.scalar(statement)


def events(db, action=None):
    statement = select(func.count(AuditEvent.id))
    if action:
        statement = statement.where(AuditEvent.action == action)
    return count(db, statement)


EXPORT = {
    "station": "",
    "place_code": "",
    "file_format": "csv",
    "reason": "whatsapp_group",
    "note": "Station WhatsApp group for panchayat elections",
}


# ---- the attacks of the red team, now refused -------------------------------------------------


def test_a_two_hour_old_session_cannot_export_full_numbers_until_the_password_is_typed(
    client, db, world, login_as
):
    sign_in_long_ago(db, login_as, world["sho"])

    assert confirm_target(client.get("/roster-files/export")) == ("/roster-files/export", "")
    refused = client.post("/roster-files/export", data={**EXPORT, "station": world["station"].id})
    assert confirm_target(refused) == (
        "/roster-files/export",
        "1",
    )  # back to the form, never replayed
    assert "+919876543210" not in refused.get_data(as_text=True)
    assert events(db, "roster.exported") == 0

    page = client.get("/auth/confirm?next=/roster-files/export").get_data(as_text=True)
    assert "Confirm it is you" in page and world["sho"].pno in page
    back = client.post("/auth/confirm?next=/roster-files/export", data={"password": TEST_PASSWORD})
    assert back.status_code == 302 and back.location.endswith("/roster-files/export")
    download = client.post("/roster-files/export", data={**EXPORT, "station": world["station"].id})
    assert download.status_code == 200 and "+919876543210" in download.get_data(as_text=True)
    assert events(db, "auth.password_confirm") == 1 and events(db, "roster.exported") == 1


def test_a_stale_session_cannot_change_a_cug_number_and_the_form_is_sent_again_after_confirming(
    client, db, world, login_as
):
    post = world["sho"].test_post
    old_number = post.cug_number
    sign_in_long_ago(db, login_as, world["sp"])

    refused = client.post(f"/admin/posts/{post.id}/cug", data={"cug": NEW_NUMBER})

    assert confirm_target(refused) == (f"/admin/posts/{post.id}", "1")
    assert count(db, select(Post.cug_number).where(Post.id == post.id)) == old_number
    assert count(db, select(func.count(OutboundMessage.id))) == 0  # nobody was told anything
    confirmed = client.post(
        f"/auth/confirm?next=/admin/posts/{post.id}&repeat=1",
        data={"password": TEST_PASSWORD},
        follow_redirects=True,
    )
    assert "Nothing has been changed yet" in confirmed.get_data(as_text=True)
    assert count(db, select(Post.cug_number).where(Post.id == post.id)) == old_number
    assert client.post(f"/admin/posts/{post.id}/cug", data={"cug": NEW_NUMBER}).status_code == 302
    assert count(db, select(Post.cug_number).where(Post.id == post.id)) == NEW_NUMBER


def _cases(world):
    post, officer, contact, village = (
        world["sho"].test_post,
        world["constable"],
        world["contact"],
        world["village"],
    )
    constable_post = officer.test_post
    return {
        "cug": (
            "sp",
            "post",
            f"/admin/posts/{post.id}/cug",
            {"cug": NEW_NUMBER},
            f"/admin/posts/{post.id}",
        ),
        "new post": (
            "sp",
            "get",
            "/admin/posts/new?role=constable",
            None,
            "/admin/posts/new?role=constable",
        ),
        "deactivate post": (
            "sp",
            "post",
            f"/admin/posts/{post.id}/deactivate",
            {},
            f"/admin/posts/{post.id}",
        ),
        "assign": (
            "sp",
            "post",
            f"/admin/posts/{post.id}/assign",
            {"pno": officer.pno},
            f"/admin/posts/{post.id}",
        ),
        "unassign": (
            "sp",
            "post",
            f"/admin/posts/{constable_post.id}/officers/{officer.id}/unassign",
            {},
            f"/admin/posts/{constable_post.id}",
        ),
        "new officer": ("sp", "get", "/admin/officers/new", None, "/admin/officers/new"),
        "setup code": (
            "sp",
            "post",
            f"/admin/officers/{officer.id}/setup-code",
            {},
            f"/admin/officers/{officer.id}",
        ),
        "deactivate officer": (
            "sp",
            "post",
            f"/admin/officers/{officer.id}/deactivate",
            {},
            f"/admin/officers/{officer.id}",
        ),
        "confidential": (
            "asp",
            "post",
            f"/roster/contacts/{contact.id}/confidential",
            {"confidential": "1"},
            f"/roster/contacts/{contact.id}",
        ),
        "erase form": (
            "asp",
            "get",
            f"/enrolments/contacts/{contact.id}/erase",
            None,
            f"/enrolments/contacts/{contact.id}/erase",
        ),
        "erase": (
            "asp",
            "post",
            f"/enrolments/contacts/{contact.id}/erase",
            {"note": "Asked at the station on 2 March", "confirm": "y"},
            f"/enrolments/contacts/{contact.id}/erase",
        ),
        "export": (
            "sho",
            "get",
            f"/roster-files/export?place_id={village.id}",
            None,
            f"/roster-files/export?place_id={village.id}",
        ),
    }


CASES = [
    "cug",
    "new post",
    "deactivate post",
    "assign",
    "unassign",
    "new officer",
    "setup code",
    "deactivate officer",
    "confidential",
    "erase form",
    "erase",
    "export",
]


@pytest.mark.parametrize("case", CASES)
def test_every_sensitive_action_asks_a_stale_session_for_the_password_and_changes_nothing(
    client, db, world, login_as, case
):
    who, method, path, data, expected_next = _cases(world)[case]
    sign_in_long_ago(db, login_as, world[who])
    before = events(db)

    response = client.post(path, data=data) if method == "post" else client.get(path)

    next_url, repeat = confirm_target(response)
    assert next_url == expected_next and repeat == ("1" if method == "post" else "")
    assert events(db) == before  # every change writes an audit event: none was written


@pytest.mark.parametrize("case", CASES)
def test_the_same_actions_need_no_password_just_after_signing_in(client, db, world, login_as, case):
    who, method, path, data, _next = _cases(world)[case]
    login_as(world[who])
    response = client.post(path, data=data) if method == "post" else client.get(path)
    assert not (response.status_code == 302 and "/auth/confirm" in response.location)


def test_exactly_the_sensitive_views_ask_for_a_fresh_sign_in(app):
    fresh = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "fresh_sign_in", False)
    }
    assert fresh == {
        "transfer.export",
        "whatsapp.missing_vcard",
        "whatsapp.split_vcard",
        "roster.set_confidential",
        "enrolment.erase",
        "admin.new_post",
        "admin.post_cug",
        "admin.deactivate_post",
        "admin.reactivate_post",
        "admin.unlock_cug",
        "admin.assign",
        "admin.unassign",
        "admin.new_officer",
        "admin.setup_code",
        "admin.deactivate_officer",
        "admin.reactivate_officer",
    }


def test_the_incident_csv_carries_no_numbers_and_needs_no_fresh_sign_in(
    client, db, world, login_as
):
    sign_in_long_ago(db, login_as, world["sp"])
    response = client.get("/incidents/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"


@pytest.mark.parametrize("minutes_ago, fresh", [(9, True), (11, False)])
def test_a_confirmation_lasts_ten_minutes(client, db, world, login_as, minutes_ago, fresh):
    sign_in_long_ago(db, login_as, world["sho"], confirmed_minutes_ago=minutes_ago)
    response = client.get("/roster-files/export")
    assert (response.status_code == 200) is fresh


def test_the_window_is_configurable(app, client, db, world, login_as):
    app.config["FRESH_SIGN_IN_MINUTES"] = 1
    sign_in_long_ago(db, login_as, world["sho"], confirmed_minutes_ago=2)
    assert confirm_target(client.get("/roster-files/export"))[0] == "/roster-files/export"


# ---- wrong passwords ----------------------------------------------------------------------------


def test_three_wrong_passwords_sign_the_officer_out_and_each_is_audited(
    client, db, world, login_as
):
    principal = sign_in_long_ago(db, login_as, world["sp"])

    for left in (2, 1):
        page = client.post("/auth/confirm?next=/admin/posts", data={"password": "not my password"})
        assert page.status_code == 200
        assert f"Attempts left before you are signed out: {left}." in page.get_data(as_text=True)
    last = client.post("/auth/confirm?next=/admin/posts", data={"password": "still not it"})

    assert last.status_code == 302 and last.location.endswith("/auth/sign-in")
    session = count(db, select(SignInSession).where(SignInSession.id == principal.session.id))
    assert (
        session.revoked_at is not None and session.revoked_reason == "password_confirmation_failed"
    )
    failures = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "auth.password_confirm")
        .order_by(AuditEvent.id)
    ).all()
    assert [event.outcome.value for event in failures] == ["failure"] * 3
    assert failures[-1].detail_data == {"failures": 3, "signed_out": True}
    assert all(event.officer_pno == world["sp"].pno for event in failures)
    home = client.get("/admin/posts")
    assert home.status_code == 302 and "/auth/sign-in" in home.location


def test_a_right_password_clears_the_wrong_ones(client, db, world, login_as):
    principal = sign_in_long_ago(db, login_as, world["sp"])
    client.post("/auth/confirm", data={"password": "typo in it"})
    client.post("/auth/confirm", data={"password": TEST_PASSWORD})
    session = count(db, select(SignInSession).where(SignInSession.id == principal.session.id))
    assert session.password_failures == 0 and utcnow() - session.password_confirmed_at < timedelta(
        minutes=1
    )


def test_the_password_of_another_officer_on_the_same_post_does_not_confirm(
    client, db, world, login_as, make_officer
):
    """A station handset is shared: the officer signed in must type their own password."""
    colleague = make_officer("station_officer", world["station"], post=world["sho"].test_post)
    colleague.password_hash = generate_password_hash(
        "colleague's own password 9", method="pbkdf2:sha256:1000"
    )
    db.session.commit()
    sign_in_long_ago(db, login_as, world["sho"])

    page = client.post("/auth/confirm", data={"password": "colleague's own password 9"})

    assert "That is not your password." in page.get_data(as_text=True)
    assert confirm_target(client.get("/roster-files/export"))[0] == "/roster-files/export"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_the_confirm_page_only_sends_back_to_this_site(client, db, world, login_as, next_url):
    sign_in_long_ago(db, login_as, world["sho"])
    response = client.post(
        "/auth/confirm", query_string={"next": next_url}, data={"password": TEST_PASSWORD}
    )
    assert response.status_code == 302 and response.location == "/"


def test_wrong_passwords_sent_at_once_are_checked_at_most_three_times(app, db, world, login_as):
    """Counted before the check, on the session row: six guesses in parallel get three checks."""
    session_id = login_as(world["sp"]).session.id
    officer_id, post_id = world["sp"].id, world["sp"].test_post.id

    def guess():
        from cplan.extensions import db as thread_db
        from cplan.models import Officer

        session = thread_db.session.get(SignInSession, session_id)
        principal = Principal(
            officer=thread_db.session.get(Officer, officer_id),
            post=thread_db.session.get(Post, post_id),
            session=session,
        )
        return reauth.confirm_password(principal, "guessing wildly")

    db.session.rollback()  # the test's own reads hold no lock while the threads race
    outcomes = run_together(app, [guess] * 6)

    assert sorted(str(outcome) for outcome in outcomes) == ["signed_out"] * 4 + ["wrong"] * 2
    session = count(db, select(SignInSession).where(SignInSession.id == session_id))
    assert session.password_failures == 3 and session.revoked_at is not None
