"""The real two-step sign-in, driven through the pages: CUG + code, then PNO + password."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import SignInSession
from cplan.models.base import utcnow
from tests.conftest import TEST_PASSWORD, lock_subject


def outbox():
    from cplan.services.sms import get_outbox

    return get_outbox()


def latest_code(number):
    messages = [m for m in outbox() if m.to == number]
    assert messages, f"no SMS to {number}"
    return re.search(r"\b([0-9]{6})\b", messages[-1].text).group(1)


@pytest.fixture
def sho(make_district, make_station, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    return make_officer("station_officer", station)


def start(client, cug):
    return client.post("/auth/sign-in", data={"cug": cug})


def lock_the_number(client, cug, addresses=10):
    """What a stranger with many addresses does: 5 wrong codes from each (50 in all)."""
    from cplan.services import lockouts

    for index in range(addresses):
        stranger = client.application.test_client()
        environ = {"REMOTE_ADDR": f"198.51.100.{index + 1}"}
        stranger.post("/auth/sign-in", data={"cug": cug}, environ_base=environ)
        for _ in range(lockouts.CLIENT_CODES.limit):
            stranger.post("/auth/code", data={"code": "000000"}, environ_base=environ)


def test_an_officer_signs_in_with_cug_code_and_password(client, db, sho):
    db.session.commit()
    response = start(client, sho.test_post.cug_number.replace("+91", "0"))
    assert response.status_code == 302 and response.location.endswith("/auth/code")
    response = client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    assert response.location.endswith("/auth/officer")
    response = client.post(
        "/auth/officer", data={"pno": sho.pno.lower(), "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert home.headers["Cache-Control"] == "no-store"


def test_the_session_cookie_holds_no_personal_data(client, db, sho):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    with client.session_transaction() as session:
        stored = repr(dict(session))
    assert sho.pno not in stored
    assert sho.test_post.cug_number[-10:] not in stored
    assert set(session) <= {"_user_id", "_fresh", "_id", "lang", "csrf_token"}


def test_a_wrong_password_does_not_sign_in_and_says_nothing_specific(client, db, sho):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": "wrong password!"})
    assert response.status_code == 200
    assert b"That did not work" in response.data
    assert client.get("/").status_code == 302


def test_an_officer_not_assigned_to_the_post_cannot_use_it(client, db, sho, make_officer):
    other = make_officer("station_officer", sho.test_post.unit)  # holds another post
    db.session.commit()
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    response = client.post("/auth/officer", data={"pno": other.pno, "password": TEST_PASSWORD})
    assert b"That did not work" in response.data
    assert client.get("/").status_code == 302


def test_the_officer_step_needs_the_code_step_first(client, db, sho):
    db.session.commit()
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    assert response.status_code == 302 and "/auth/sign-in" in response.location
    assert client.get("/").status_code == 302


def test_unknown_registered_locked_and_deactivated_cugs_look_the_same(client, db, sho, make_post):
    from cplan.services import otp

    retired = make_post("constable", sho.test_post.unit, active=False)
    locked = make_post("constable", sho.test_post.unit)
    client_locked = make_post("constable", sho.test_post.unit)
    db.session.commit()
    lock_subject(otp.lockouts.number_key(locked.cug_number), otp.lockouts.NUMBER_CODES)
    fresh = client.application.test_client()  # this browser's own address is locked out of it
    fresh.post("/auth/sign-in", data={"cug": client_locked.cug_number})
    for _ in range(otp.lockouts.CLIENT_CODES.limit):
        fresh.post("/auth/code", data={"code": "000000"})
    db.session.commit()
    outbox().clear()
    numbers = [
        sho.test_post.cug_number,
        "+919999912345",
        retired.cug_number,
        locked.cug_number,
        client_locked.cug_number,
    ]
    snapshots = []
    for number in numbers:
        fresh = client.application.test_client()
        first = fresh.post("/auth/sign-in", data={"cug": number})
        page = fresh.get("/auth/code")
        cookie_names = sorted(c.key for c in fresh._cookies.values())
        # The per-session CSRF token is random for everyone; nothing else may differ.
        body = re.sub(rb'name="csrf_token" value="[^"]*"', b"", page.data)
        snapshots.append((first.status_code, first.location, page.status_code, body, cookie_names))
    assert all(s == snapshots[0] for s in snapshots), snapshots
    sent_to = {m.to for m in outbox()}
    assert sent_to == {sho.test_post.cug_number}


def test_sign_out_revokes_the_session_on_the_server(client, db, sho):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    with client.session_transaction() as session:
        stolen_cookie_value = session["_user_id"]
    client.post("/auth/sign-out")
    assert client.get("/").status_code == 302
    # Replaying the old token does not bring the session back.
    with client.session_transaction() as session:
        session["_user_id"] = stolen_cookie_value
    assert client.get("/").status_code == 302
    revoked = db.session.scalars(select(SignInSession)).one()
    assert revoked.revoked_reason == "signed_out"


def test_a_deactivated_officer_is_signed_out_at_once(client, db, sho, login_as):
    login_as(sho)
    assert client.get("/").status_code == 200
    sho.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_an_idle_session_expires_after_thirty_minutes(client, db, sho, login_as):
    from datetime import timedelta

    principal = login_as(sho)
    principal.session.last_seen_at -= timedelta(minutes=31)
    db.session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("role", "unit", "minutes", "signed_in"),
    [
        ("constable", "station", 16, True),
        ("circle_officer", "circle", 16, True),
        ("control_room", "state", 16, True),
        ("constable", "station", 31, False),
        ("station_officer", "station", 16, False),
        ("asp", "district", 16, False),
        ("sp_office", "district", 16, False),
        ("state_admin", "state", 16, False),
        ("sp_office", "district", 14, True),
    ],
)
def test_posts_that_approve_export_or_administer_are_signed_out_after_fifteen_idle_minutes(
    client, db, login_as, make_officer, make_district, make_station, role, unit, minutes, signed_in
):
    from datetime import timedelta

    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    units = {
        "station": station,
        "circle": station.parent,
        "district": district,
        "state": district.parent,
    }
    principal = login_as(make_officer(role, units[unit]))
    principal.session.last_seen_at -= timedelta(minutes=minutes)
    db.session.commit()
    assert (client.get("/").status_code == 200) is signed_in


def test_reading_pages_keeps_a_session_alive(client, db, sho, login_as):
    """The activity stamp is committed even by pages that write nothing else: an officer who
    only reads the feed for a quarter of an hour is not signed out."""
    from datetime import timedelta

    principal = login_as(sho)
    principal.session.last_seen_at -= timedelta(minutes=12)
    db.session.commit()
    session_id = principal.session.id
    assert client.get("/incidents/").status_code == 200
    db.session.rollback()  # what the end of a request does to anything it did not commit
    stamped = db.session.scalar(
        select(SignInSession.last_seen_at).where(SignInSession.id == session_id)
    )
    assert stamped > utcnow() - timedelta(minutes=1)


def test_a_session_ends_after_twelve_hours_even_when_active(client, db, sho, login_as):
    from datetime import timedelta

    principal = login_as(sho)
    principal.session.created_at -= timedelta(hours=12, minutes=1)
    db.session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_sign_in_never_redirects_off_site(client, db, sho, target):
    db.session.commit()
    client.get("/auth/sign-in", query_string={"next": target})
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    assert response.location in ("/", "http://localhost/")


def test_sign_in_returns_to_the_page_asked_for(client, db, sho):
    db.session.commit()
    client.get("/auth/sign-in", query_string={"next": "/geo/"})
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    assert response.location.endswith("/geo/")


def test_a_new_session_is_issued_at_sign_in(client, db, sho):
    db.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    start(client, sho.test_post.cug_number)
    client.post("/auth/code", data={"code": latest_code(sho.test_post.cug_number)})
    client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_an_officer_enrols_an_authenticator_app_and_signs_in_with_it(client, db, sho, login_as):
    from cplan.models import Officer
    from cplan.services import otp

    login_as(sho)
    page = client.get("/auth/authenticator")
    assert b'src="data:image/svg+xml;base64,' in page.data
    secret = db.session.get(Officer, sho.id).totp_secret
    assert secret and secret.encode() in page.data  # typed by hand where scanning fails
    response = client.post("/auth/authenticator", data={"code": otp.current_totp_code(secret)})
    assert response.status_code == 302
    assert db.session.get(Officer, sho.id).totp_confirmed
    client.post("/auth/sign-out")

    # Next sign-in: the app's code stands in for the SMS.
    outbox().clear()
    start(client, sho.test_post.cug_number)
    from datetime import timedelta

    from cplan.models.base import utcnow

    later_code = otp.current_totp_code(secret, now=utcnow() + timedelta(seconds=30))
    response = client.post("/auth/code", data={"code": later_code})
    assert response.location.endswith("/auth/officer")
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    assert client.get("/").status_code == 200


def test_an_authenticator_sealed_under_an_old_secret_key_is_set_up_again(
    app, client, db, sho, login_as
):
    from cplan.models import AuditEvent, Officer
    from cplan.services import otp

    sho.totp_secret, sho.totp_confirmed = otp.new_totp_secret(), True
    login_as(sho)
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-9876543210"
    login_as(sho)  # the new key signs the cookie too
    db.session.expire_all()
    page = client.get("/auth/authenticator")
    assert b'src="data:image/svg+xml;base64,' in page.data  # a new secret to scan
    officer = db.session.get(Officer, sho.id)
    assert not officer.totp_confirmed and officer.totp_secret
    assert db.session.scalar(
        select(AuditEvent.detail).where(AuditEvent.action == "auth.authenticator_reset")
    )


def test_a_wrong_authenticator_confirmation_code_enrols_nothing(client, db, sho, login_as):
    from cplan.models import Officer

    login_as(sho)
    client.get("/auth/authenticator")
    response = client.post("/auth/authenticator", data={"code": "000000"})
    assert b"That did not work" in response.data
    assert not db.session.get(Officer, sho.id).totp_confirmed


@pytest.mark.parametrize("code", ["१२३४५६", "１２３４５６", "12345", "9" * 5000, ""])
def test_odd_codes_get_the_generic_failure_not_an_error(client, db, sho, code):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    response = client.post("/auth/code", data={"code": code})
    assert response.status_code == 200
    assert b"That did not work" in response.data


def test_a_repeated_code_field_is_not_a_second_guess(client, db, sho):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    right = latest_code(sho.test_post.cug_number)
    from werkzeug.datastructures import MultiDict

    response = client.post("/auth/code", data=MultiDict([("code", "000000"), ("code", right)]))
    assert b"That did not work" in response.data


def test_a_locked_post_is_not_checked_at_the_officer_step_even_with_the_right_password(
    client, db, sho
):
    from cplan.services import lockouts

    cug = sho.test_post.cug_number
    start(client, cug)
    client.post("/auth/code", data={"code": latest_code(cug)})
    lock_subject(lockouts.post_key(sho.test_post.id), lockouts.POST_PASSWORDS)  # guesses elsewhere
    db.session.commit()
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/auth/sign-in")
    assert db.session.scalar(select(SignInSession)) is None


# ---- the code's language, and asking for a new code too soon ---------------------------------


def test_the_sign_in_sms_goes_in_the_language_chosen_on_the_sign_in_page(client, db, sho):
    db.session.commit()
    client.post("/language/hi")
    start(client, sho.test_post.cug_number)
    message = outbox()[-1]
    assert message.language == "hi" and "आपका C-Plan साइन-इन कोड" in message.text


def test_the_sign_in_sms_stays_english_on_an_english_sign_in_page(client, db, sho):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    assert outbox()[-1].language == "en" and "is your C-Plan sign-in code" in outbox()[-1].text


def test_a_new_code_asked_for_on_a_hindi_page_comes_in_hindi(client, db, sho, monkeypatch):
    from cplan.services import otp

    db.session.commit()
    now = {"at": utcnow()}
    monkeypatch.setattr(otp, "clock", lambda: now["at"])
    client.post("/language/hi")
    start(client, sho.test_post.cug_number)
    now["at"] += timedelta(seconds=61)
    client.post("/auth/code/resend")
    assert [m.language for m in outbox()] == ["hi", "hi"]


@pytest.fixture
def clock(monkeypatch):
    """The sign-in clock, set by the test: 04:30 UTC is 10:00 IST."""
    from cplan.services import otp

    now = {"at": datetime(2026, 3, 5, 4, 30, tzinfo=UTC)}
    monkeypatch.setattr(otp, "clock", lambda: now["at"])

    def move(seconds):
        now["at"] += timedelta(seconds=seconds)

    return move


def _code_page(browser):
    body = browser.get("/auth/code").data
    return re.sub(rb'name="csrf_token" value="[^"]*"', b"", body).decode()


def test_asking_again_too_soon_says_when_and_the_same_for_every_kind_of_number(
    client, db, sho, make_post, clock
):
    from cplan.services import lockouts

    retired = make_post("constable", sho.test_post.unit, active=False)
    locked = make_post("constable", sho.test_post.unit)
    db.session.commit()
    lock_subject(lockouts.number_key(locked.cug_number), lockouts.NUMBER_CODES)
    db.session.commit()
    numbers = [sho.test_post.cug_number, "+919999912345", retired.cug_number, locked.cug_number]
    pages = []
    for number in numbers:
        browser = client.application.test_client()
        browser.post("/auth/sign-in", data={"cug": number})
        clock(15)
        response = browser.post("/auth/code/resend")
        assert response.status_code == 302 and response.location.endswith("/auth/code")
        pages.append(_code_page(browser))
        clock(-15)
    assert "You can ask for a new code in 45 seconds." in pages[0]
    assert "a new code has been sent" not in pages[0]
    assert all(page == pages[0] for page in pages)
    assert [m.to for m in outbox()] == [sho.test_post.cug_number]  # no second code went out


def test_after_a_minute_a_new_code_is_sent(client, db, sho, clock):
    db.session.commit()
    start(client, sho.test_post.cug_number)
    clock(60)
    client.post("/auth/code/resend")
    assert "If the number is registered, a new code has been sent." in _code_page(client)
    assert len(outbox()) == 2


def test_after_three_codes_the_page_names_the_clock_time_in_the_readers_language(
    client, db, sho, clock
):
    db.session.commit()
    start(client, sho.test_post.cug_number)  # 10:00:00 IST
    for _ in range(2):
        clock(61)
        client.post("/auth/code/resend")
    clock(61)
    client.post("/auth/code/resend")  # the third code went at 10:02:02: the next at 10:17:02
    assert "You can ask for a new code at 10:18." in _code_page(client)
    client.post("/language/hi")
    client.post("/auth/code/resend")
    assert "आप सुबह 10:18 के बाद नया कोड माँग सकते हैं।" in _code_page(client)
    assert len(outbox()) == 3


# ---- issue 14: replayed cookies and strangers' lockouts ---------------------------------------


def test_replaying_the_cookie_of_a_passed_code_step_opens_no_second_session(client, db, sho):
    """Finding 1: the passed step lived in the signed cookie; replaying it opened 4 sessions."""
    cug = sho.test_post.cug_number
    start(client, cug)
    client.post("/auth/code", data={"code": latest_code(cug)})
    with client.session_transaction() as session:
        captured = dict(session)
    assert (
        client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD}).status_code
        == 302
    )
    for _ in range(3):
        replay = client.application.test_client()
        with replay.session_transaction() as session:
            session.update(captured)
        response = replay.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
        assert response.status_code == 302 and response.location.endswith("/auth/sign-in")
        assert replay.get("/").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 1


def test_a_replayed_cookie_buys_no_more_password_guesses_than_the_code_gave(client, db, sho):
    cug = sho.test_post.cug_number
    start(client, cug)
    client.post("/auth/code", data={"code": latest_code(cug)})
    with client.session_transaction() as session:
        captured = dict(session)
    answers = []
    for _ in range(6):  # the same cookie each time, as a colleague replaying it would
        with client.session_transaction() as session:
            session.clear()
            session.update(captured)
        answers.append(
            client.post("/auth/officer", data={"pno": sho.pno, "password": "a guess!!"}).status_code
        )
    assert answers == [200, 200, 302, 302, 302, 302]  # 3 guesses, then back to the CUG step


def test_a_browser_that_signed_in_before_gets_in_while_strangers_have_locked_the_number(
    client, db, sho
):
    """Finding 4: anyone who knew the CUG number could lock the post out, no code needed."""
    cug = sho.test_post.cug_number
    start(client, cug)
    client.post("/auth/code", data={"code": latest_code(cug)})
    response = client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    [device_cookie] = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("cplan_device=")
    ]
    assert "HttpOnly" in device_cookie
    assert "Max-Age=2592000" in device_cookie and "SameSite=Lax" in device_cookie  # 30 days
    client.post("/auth/sign-out")

    from cplan.services import otp

    lock_the_number(client, cug)
    db.session.commit()
    assert otp.is_locked(cug)
    assert [m.template_name for m in outbox() if m.to == cug][-1] == "sign_in_locked"
    # A browser that never signed in here gets the usual page and no code.
    stranger = client.application.test_client()
    sent = len(outbox())
    start(stranger, cug)
    assert len(outbox()) == sent
    # The officer's own browser still gets a code, and gets in.
    outbox().clear()
    start(client, cug)
    assert client.post("/auth/code", data={"code": latest_code(cug)}).location.endswith(
        "/auth/officer"
    )
    client.post("/auth/officer", data={"pno": sho.pno, "password": TEST_PASSWORD})
    assert client.get("/").status_code == 200
