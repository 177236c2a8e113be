"""One-time codes on CUG numbers: every rule of the sign-in issue, on SQLite and PostgreSQL.

Time never passes by sleeping: each call gets ``now=`` explicitly, starting from a fixed ``T0``.
"""

import hashlib
import hmac
import logging
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import CugThrottle, OtpChallenge, PostAssignment, SignInCounter
from cplan.models.audit import AuditEvent
from cplan.services import lockouts, otp
from cplan.services.otp import ChallengeTicket
from cplan.services.sms import get_outbox
from tests.conftest import TEST_PASSWORD, lock_subject

CUG = "+919876543210"
OTHER_CUG = "+919812345678"
UNKNOWN_CUG = "+919999912345"
MASKED = "+91******3210"
# A step boundary of the 30-second authenticator clock, so offsets below are easy to follow.
T0 = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)


def at(seconds=0, minutes=0, hours=0):
    return T0 + timedelta(seconds=seconds, minutes=minutes, hours=hours)


@pytest.fixture
def station(make_district, make_station):
    return make_station(make_district("Baghpat", code="124"), "Baraut")


@pytest.fixture
def post(make_post, station):
    return make_post("station_officer", station, title_en="SHO Baraut", cug=CUG)


@pytest.fixture
def other_post(make_post, station):
    return make_post("constable", station, title_en="Beat Baraut 1", cug=OTHER_CUG)


@pytest.fixture
def app_officer(make_officer, post):
    """An officer holding ``post`` with a confirmed authenticator app."""
    officer = make_officer("station_officer", post.unit, post=post)
    officer.totp_secret = otp.new_totp_secret()
    officer.totp_confirmed = True
    return officer


def codes_sent(number=CUG):
    return [
        re.match(r"([0-9]{6}) ", message.text).group(1)
        for message in get_outbox()
        if message.to == number and message.template_name == "otp"
    ]


def last_code(number=CUG):
    codes = codes_sent(number)
    assert codes, f"no code sent to {number}"
    return codes[-1]


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def fail_times(ticket, count, start=1):
    for second in range(start, start + count):
        assert not otp.verify(ticket.public_id, "000000", now=at(second)).ok


def audit_events(db, action=None):
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def throttle(db, number=CUG):
    return db.session.get(CugThrottle, number, populate_existing=True)


def counter(db, key):
    return db.session.get(SignInCounter, key, populate_existing=True)


def client_of(ip=None, number=CUG):
    return lockouts.client_key(number, lockouts.address_client(ip))


def client_locked(ip=None, *, now, number=CUG):
    return lockouts.is_locked(client_of(ip, number), now)


def lock_the_number(number=CUG, *, now=T0, addresses=10):
    """What a stranger with many addresses does: 5 wrong codes from each of 10 (50 in all)."""
    ticket = otp.start_challenge(number, "192.0.2.250", now=now)
    for index in range(addresses):
        for _ in range(lockouts.CLIENT_CODES.limit):
            assert not otp.verify(ticket.public_id, "000000", f"198.51.100.{index + 1}", now=now).ok
    return ticket


# ---- the code ---------------------------------------------------------------------------------


def test_a_code_of_six_ascii_digits_goes_by_sms_to_the_registered_cug(db, post):
    ticket = otp.start_challenge("098765-43210", "10.0.0.1", now=T0)
    [message] = get_outbox()
    assert message.to == CUG and message.template_name == "otp"
    assert re.fullmatch(r"[0-9]{6}", last_code())
    assert isinstance(ticket, ChallengeTicket) and len(ticket.public_id) == 43
    event = audit_events(db, "auth.otp_sent")[0]
    assert event.detail_data == {"cug": MASKED} and event.post_id == post.id


def test_the_code_goes_in_hindi_when_the_sign_in_page_is_in_hindi(db, post):
    otp.start_challenge(CUG, language="hi", now=T0)
    assert "आपका C-Plan साइन-इन कोड" in get_outbox()[0].text


@pytest.mark.parametrize(
    ("seconds", "accepted"), [(1, True), (299, True), (300, False), (3600, False)]
)
def test_a_code_is_valid_for_five_minutes(db, post, seconds, accepted):
    ticket = otp.start_challenge(CUG, now=T0)
    outcome = otp.verify(ticket.public_id, last_code(), now=at(seconds))
    assert outcome.ok is accepted
    assert (outcome.post == post) is accepted


def test_a_code_is_accepted_only_once(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    assert otp.verify(ticket.public_id, code, now=at(10)).ok
    assert not otp.verify(ticket.public_id, code, now=at(11)).ok


def test_a_code_works_only_for_the_challenge_and_number_it_was_sent_for(db, post, other_post):
    mine = otp.start_challenge(CUG, now=T0)
    my_code = last_code(CUG)
    theirs = otp.start_challenge(OTHER_CUG, now=T0)
    their_code = last_code(OTHER_CUG)
    assert not otp.verify(theirs.public_id, my_code, now=at(5)).ok
    assert not otp.verify(mine.public_id, their_code, now=at(6)).ok
    # A wrong try does not use a challenge up: each code still opens its own.
    assert otp.verify(mine.public_id, my_code, now=at(7)).post == post
    assert otp.verify(theirs.public_id, their_code, now=at(8)).post == other_post


def test_a_resend_makes_the_earlier_code_useless(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    first = last_code()
    assert otp.resend(ticket.public_id, now=at(61)) == ticket
    second = last_code()
    assert codes_sent() == [first, second]
    assert not otp.verify(ticket.public_id, first, now=at(62)).ok
    assert otp.verify(ticket.public_id, second, now=at(63)).ok


def test_a_resend_gives_the_new_code_a_full_five_minutes(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    otp.resend(ticket.public_id, now=at(minutes=4))
    assert otp.verify(ticket.public_id, last_code(), now=at(minutes=8)).ok


def test_a_new_sign_in_makes_the_earlier_challenges_code_useless(db, post):
    earlier = otp.start_challenge(CUG, now=T0)
    earlier_code = last_code()
    later = otp.start_challenge(CUG, now=at(61))
    assert not otp.verify(earlier.public_id, earlier_code, now=at(62)).ok
    assert db.session.scalar(
        select(OtpChallenge).filter_by(public_id=earlier.public_id)
    ).superseded_at == at(61)
    assert otp.verify(later.public_id, last_code(), now=at(63)).ok


def test_a_code_stops_working_when_the_post_is_deactivated_or_its_cug_changes(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    post.cug_number = OTHER_CUG
    db.session.flush()
    assert not otp.verify(ticket.public_id, code, now=at(5)).ok
    post.cug_number, post.active = CUG, False
    db.session.flush()
    assert not otp.verify(ticket.public_id, code, now=at(6)).ok


def test_the_database_holds_only_a_keyed_hash_of_the_code(app, db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    otp.verify(ticket.public_id, wrong(code), now=at(5))
    db.session.commit()
    challenge_rows = db.session.execute(select(OtpChallenge.__table__)).mappings().all()
    throttle_rows = db.session.execute(select(CugThrottle.__table__)).mappings().all()
    audit_rows = db.session.execute(select(AuditEvent.__table__)).mappings().all()
    for row in challenge_rows + throttle_rows + audit_rows:
        for column, value in row.items():
            assert code not in str(value), column
    for row in audit_rows:
        # The audit trail carries the masked number only.
        assert all("9876543210" not in str(value) for value in row.values())
    expected = hmac.new(
        app.config["SECRET_KEY"].encode(),
        f"cplan-otp|{ticket.public_id}|{CUG}|{code}".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert challenge_rows[0]["code_hash"] == expected


def test_no_log_line_shows_the_code_or_the_full_number(db, post, caplog):
    caplog.set_level(logging.DEBUG)
    ticket = otp.start_challenge(CUG, "10.0.0.1", now=T0)
    otp.verify(ticket.public_id, wrong(last_code()), now=at(5))
    otp.resend(ticket.public_id, now=at(61))
    code = last_code()
    assert otp.verify(ticket.public_id, code, now=at(62)).ok
    fail_times(otp.start_challenge(CUG, now=at(122)), 5, start=123)
    assert client_locked(now=at(130))
    for sent in codes_sent():
        assert sent not in caplog.text
    assert "9876543210" not in caplog.text


def test_only_the_developer_console_backend_shows_the_code_in_the_log(app, db, post, caplog):
    app.config["SMS_BACKEND"] = "console"
    caplog.set_level(logging.DEBUG)
    ticket = otp.start_challenge(CUG, now=T0)
    [line] = [record.getMessage() for record in caplog.records if "[sms]" in record.getMessage()]
    code = re.search(r"text=([0-9]{6}) ", line).group(1)
    assert line.startswith(f"[sms] to={CUG} template=otp text=")
    assert otp.verify(ticket.public_id, code, now=at(5)).ok
    assert [record for record in caplog.records if code in record.getMessage()] == [
        record for record in caplog.records if "[sms]" in record.getMessage()
    ]


# ---- send limits ------------------------------------------------------------------------------


def test_at_most_three_codes_go_to_a_number_in_fifteen_minutes(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    otp.resend(ticket.public_id, now=at(61))
    otp.start_challenge(CUG, now=at(122))
    assert len(codes_sent()) == 3
    for seconds in (183, 600, 122 + 15 * 60 - 1):
        otp.start_challenge(CUG, now=at(seconds))
    assert len(codes_sent()) == 3
    suppressed = audit_events(db, "auth.otp_suppressed")
    assert [event.detail_data["reason"] for event in suppressed] == ["limited"] * 3
    # Fifteen quiet minutes after the last code, a new burst may start.
    fresh = otp.start_challenge(CUG, now=at(122 + 15 * 60))
    assert len(codes_sent()) == 4
    assert otp.verify(fresh.public_id, last_code(), now=at(122 + 15 * 60 + 5)).ok


def test_a_second_code_waits_sixty_seconds_after_the_first(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    first = last_code()
    otp.resend(ticket.public_id, now=at(59))
    assert len(codes_sent()) == 1
    # A refused resend leaves the code already sent working.
    assert otp.verify(ticket.public_id, first, now=at(59)).ok
    otp.start_challenge(CUG, now=at(60))
    assert len(codes_sent()) == 2


def test_a_limited_start_does_not_cancel_the_code_already_sent(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    otp.start_challenge(CUG, now=at(10))  # too soon: no SMS, and no superseding
    assert otp.verify(ticket.public_id, code, now=at(11)).ok


def test_unregistered_numbers_are_counted_exactly_like_registered_ones(db, post):
    for seconds in (0, 30, 61, 122, 183):
        otp.start_challenge(CUG, now=at(seconds))
        otp.start_challenge(UNKNOWN_CUG, now=at(seconds))
    registered, unknown = throttle(db, CUG), throttle(db, UNKNOWN_CUG)
    columns = [
        "window_started_at",
        "sends_in_window",
        "last_sent_at",
        "failures",
        "locked_until",
        "lock_count",
    ]
    assert [getattr(unknown, name) for name in columns] == [
        getattr(registered, name) for name in columns
    ]
    assert codes_sent(UNKNOWN_CUG) == []


# ---- failures and locks -----------------------------------------------------------------------


def test_five_wrong_codes_lock_that_client_out_for_fifteen_minutes_and_the_right_code_then_fails(
    db, post
):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    fail_times(ticket, 4)
    assert not client_locked(now=at(4))
    assert not otp.verify(ticket.public_id, wrong(code), now=at(5)).ok
    assert client_locked(now=at(6))
    assert not otp.verify(ticket.public_id, code, now=at(10)).ok
    assert client_locked(now=at(5, minutes=15) - timedelta(microseconds=1))
    assert not client_locked(now=at(5, minutes=15))
    [locked] = audit_events(db, "auth.client_locked")
    assert locked.detail_data == {"cug": MASKED, "lock_count": 1, "minutes": 15, "reason": "otp"}
    assert not otp.is_locked(CUG, now=at(6))  # the number itself is not locked


def test_a_stranger_who_knows_the_number_cannot_lock_its_owner_out(db, post):
    """Issue 14, finding 4: five wrong codes used to lock the post for everyone."""
    stranger = otp.start_challenge(CUG, "203.0.113.7", now=T0)
    for second in range(1, 6):
        otp.verify(stranger.public_id, "000000", "203.0.113.7", now=at(second))
    assert client_locked("203.0.113.7", now=at(10))
    # The owner, from the station's address, still gets a code and it works.
    owner = otp.start_challenge(CUG, "10.20.30.40", now=at(61))
    assert len(codes_sent()) == 2
    assert otp.verify(owner.public_id, last_code(), "10.20.30.40", now=at(62)).ok
    # The stranger stays locked out, and gets no code meanwhile.
    otp.start_challenge(CUG, "203.0.113.7", now=at(minutes=5))
    assert len(codes_sent()) == 2


def test_one_subscribers_ipv6_addresses_count_as_one_client(db, post):
    ticket = otp.start_challenge(CUG, "2001:db8:1:2::1", now=T0)
    for host in range(1, 6):  # a /64 holds 2^64 addresses: rotating them must not help
        otp.verify(ticket.public_id, "000000", f"2001:db8:1:2::{host:x}", now=at(host))
    assert client_locked("2001:db8:1:2:ffff::9", now=at(10))
    assert not client_locked("2001:db8:1:3::1", now=at(10))


def test_fifty_wrong_codes_from_many_addresses_lock_the_number_and_tell_its_handset(db, post):
    lock_the_number(now=at(1))
    assert otp.is_locked(CUG, now=at(2))
    [locked] = audit_events(db, "auth.cug_locked")
    assert locked.detail_data == {"cug": MASKED, "lock_count": 1, "minutes": 15, "reason": "otp"}
    [notice] = [message for message in get_outbox() if message.template_name == "sign_in_locked"]
    assert notice.to == CUG and notice.language == "hi"
    assert "SHO Baraut" in notice.text and "10:15" in notice.text  # 04:45 UTC is 10:15 IST
    assert audit_events(db, "auth.lock_notice_sent")[0].outcome.value == "success"
    # A browser without the device cookie, from a fresh address, gets no code now.
    otp.start_challenge(CUG, "10.20.30.40", now=at(61))
    assert len(codes_sent()) == 1
    assert audit_events(db, "auth.otp_suppressed")[-1].detail_data["reason"] == "locked"


def test_a_browser_that_signed_in_to_the_post_before_still_signs_in_while_the_number_is_locked(
    db, post
):
    device = lockouts.trust_device(None, post.id, T0)
    lock_the_number(now=at(1))
    # Within a second of the stranger's code: the browser's own send limits let it have one.
    ticket = otp.start_challenge(CUG, "10.20.30.40", device_token=device, now=at(2))
    assert len(codes_sent()) == 2
    assert otp.verify(
        ticket.public_id, last_code(), "10.20.30.40", device_token=device, now=at(3)
    ).ok
    # Its own failures are counted apart from its address: five lock that browser out.
    ticket = otp.start_challenge(CUG, "10.20.30.40", device_token=device, now=at(200))
    for second in range(201, 206):
        otp.verify(ticket.public_id, "000000", "10.20.30.40", device_token=device, now=at(second))
    assert not otp.verify(
        ticket.public_id, last_code(), "10.20.30.40", device_token=device, now=at(206)
    ).ok


def test_a_device_cookie_is_trusted_only_for_its_post_and_for_thirty_days(db, post, other_post):
    device = lockouts.trust_device(None, other_post.id, T0)
    lock_subject(lockouts.number_key(CUG), lockouts.NUMBER_CODES, at(1))
    otp.start_challenge(CUG, device_token=device, now=at(61))  # trusted for the other post only
    assert len(codes_sent()) == 0
    assert lockouts.trust_device(device, post.id, T0) == device  # one cookie, trusted for both
    otp.start_challenge(CUG, device_token=device, now=at(122))
    assert len(codes_sent()) == 1
    assert lockouts.trusted_device(device, post.id, T0 + lockouts.DEVICE_TRUST) is None


def test_a_locked_client_gets_no_code_until_the_lock_ends(db, post):
    fail_times(otp.start_challenge(CUG, now=T0), 5)
    otp.start_challenge(CUG, now=at(minutes=10))
    assert len(codes_sent()) == 1
    assert audit_events(db, "auth.otp_suppressed")[-1].detail_data["reason"] == "locked"
    ticket = otp.start_challenge(CUG, now=at(minutes=16))
    assert len(codes_sent()) == 2
    assert otp.verify(ticket.public_id, last_code(), now=at(minutes=16, seconds=5)).ok


def test_locks_escalate_to_an_hour_four_hours_and_a_day(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    lengths, now = [], T0
    for _ in range(5):
        for _ in range(5):
            now += timedelta(seconds=1)
            otp.verify(ticket.public_id, "000000", now=now)
        locked_until = counter(db, client_of()).locked_until
        lengths.append(locked_until - now)
        now = locked_until
    assert lengths == [
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=24),
        timedelta(hours=24),
    ]
    assert counter(db, client_of()).failures == 0


def test_a_lock_long_after_the_last_one_starts_at_fifteen_minutes_again(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    fail_times(ticket, 5)
    first_end = counter(db, client_of()).locked_until
    later = first_end + timedelta(hours=25)
    for second in range(1, 6):
        otp.verify(ticket.public_id, "000000", now=later + timedelta(seconds=second))
    assert counter(db, client_of()).locked_until - (later + timedelta(seconds=5)) == timedelta(
        minutes=15
    )


def test_failures_older_than_a_day_no_longer_count(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    fail_times(ticket, 4)
    otp.verify(ticket.public_id, "000000", now=at(hours=24, seconds=5))
    assert counter(db, client_of()).failures == 1
    assert not client_locked(now=at(hours=24, seconds=6))


@pytest.mark.parametrize("restart", ["resend", "new sign-in"])
def test_neither_a_resend_nor_a_new_sign_in_resets_the_failure_count(db, post, restart):
    ticket = otp.start_challenge(CUG, now=T0)
    fail_times(ticket, 4)
    if restart == "resend":
        otp.resend(ticket.public_id, now=at(61))
    else:
        ticket = otp.start_challenge(CUG, now=at(61))
    assert len(codes_sent()) == 2
    assert not otp.verify(ticket.public_id, wrong(last_code()), now=at(62)).ok
    assert client_locked(now=at(63))


def test_a_right_code_clears_the_code_failures_of_the_client_and_the_number(db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    fail_times(ticket, 4)
    assert otp.verify(ticket.public_id, last_code(), now=at(10)).ok
    assert counter(db, client_of()).failures == 0
    assert counter(db, lockouts.number_key(CUG)).failures == 0


def test_the_sp_office_lifts_every_lock_of_a_post_at_once(db, post, make_officer, state):
    admin = make_officer("state_admin", state)
    holder = make_officer("station_officer", post.unit, post=post)
    for key, policy in (
        (lockouts.number_key(CUG), lockouts.NUMBER_CODES),
        (client_of("198.51.100.1"), lockouts.CLIENT_CODES),
        (lockouts.post_key(post.id), lockouts.POST_PASSWORDS),
        (lockouts.officer_key(holder.id), lockouts.OFFICER_PASSWORDS),
    ):
        lock_subject(key, policy, at(5))
    assert otp.is_locked(CUG, now=at(10)) and client_locked("198.51.100.1", now=at(10))
    assert otp.unlock(CUG, officer=admin, post=admin.test_post, ip="10.0.0.9", now=at(10)) is True
    assert not otp.is_locked(CUG, now=at(11))
    for key in (
        lockouts.number_key(CUG),
        client_of("198.51.100.1"),
        lockouts.post_key(post.id),
        lockouts.officer_key(holder.id),
    ):
        assert not lockouts.is_locked(key, at(11)), key
    [event] = audit_events(db, "auth.cug_unlocked")
    assert event.officer_pno == admin.pno and event.detail_data == {
        "cug": MASKED,
        "was_locked": True,
    }
    assert event.target_type == "posts" and event.target_id == post.id


# ---- what strangers see -------------------------------------------------------------------


@pytest.fixture
def kinds_of_number(db, post, make_post, station):
    retired = make_post("constable", station, cug="+917000000001", active=False)
    locked = make_post("constable", station, cug="+917000000002")
    lock_subject(lockouts.number_key(locked.cug_number), lockouts.NUMBER_CODES, at(1))
    return {
        "registered": CUG,
        "unknown": UNKNOWN_CUG,
        "deactivated": retired.cug_number,
        "locked": locked.cug_number,
    }


@pytest.mark.parametrize("kind", ["unknown", "deactivated", "locked"])
def test_unknown_deactivated_and_locked_numbers_get_a_ticket_like_a_registered_one_but_no_sms(
    db, kinds_of_number, kind
):
    registered = otp.start_challenge(kinds_of_number["registered"], now=at(10))
    ticket = otp.start_challenge(kinds_of_number[kind], now=at(10))
    assert type(ticket) is type(registered) and len(ticket.public_id) == len(registered.public_id)
    assert [message.to for message in get_outbox()] == [CUG]
    challenge = db.session.scalar(select(OtpChallenge).filter_by(public_id=ticket.public_id))
    assert challenge.cug_number == kinds_of_number[kind] and challenge.code_hash is None
    event = audit_events(db, "auth.otp_suppressed")[-1]
    assert event.detail_data["cug"].startswith("+91******") and event.post_id is None
    # No code could ever open it.
    assert not otp.verify(ticket.public_id, "123456", now=at(11)).ok


@pytest.mark.parametrize(
    "typed", ["९८७६५४३२१०", "９８７６５４３２１０", "98765", "9" * 1000, "", None, ["9876543210"]]
)
def test_malformed_numbers_get_a_ticket_and_no_sms_without_an_error(db, post, typed):
    ticket = otp.start_challenge(typed, now=T0)
    assert len(ticket.public_id) == 43
    assert get_outbox() == []
    assert audit_events(db, "auth.otp_suppressed")[-1].detail_data == {
        "cug": "",
        "reason": "malformed_number",
    }
    assert not otp.verify(ticket.public_id, "123456", now=at(1)).ok
    assert otp.resend(ticket.public_id, now=at(61)).public_id == ticket.public_id
    assert get_outbox() == []


CODE_VARIANTS = {
    "devanagari digits": lambda code: code.translate(str.maketrans("0123456789", "०१२३४५६७८९")),
    "full-width digits": lambda code: code.translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    ),
    "seven digits": lambda code: code + "7",
    "five digits": lambda code: code[:5],
    "a thousand characters": lambda code: code * 166 + "1234",
    "a trailing newline": lambda code: code + "\n",
    "spaces inside": lambda code: f"{code[:3]} {code[3:]}",
    "a repeated field": lambda code: [code, code],
    "a number": lambda code: int(code),
    "nothing": lambda code: None,
}


@pytest.mark.parametrize("variant", list(CODE_VARIANTS))
def test_a_code_in_any_other_form_fails_without_an_error(db, post, variant):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    assert otp.verify(ticket.public_id, CODE_VARIANTS[variant](code), now=at(1)).ok is False
    assert (
        counter(db, client_of()).failures == 1
        and counter(db, lockouts.number_key(CUG)).failures == 1
    )
    assert otp.verify(ticket.public_id, code, now=at(2)).ok


@pytest.mark.parametrize("public_id", ["", "x" * 1000, "nope", None, 42, "a" * 43])
def test_an_unknown_challenge_fails_without_an_error(db, post, public_id):
    assert otp.verify(public_id, "123456", now=T0).ok is False
    assert otp.resend(public_id, now=T0).public_id in ("", public_id)
    assert get_outbox() == []


# ---- two submissions at once ------------------------------------------------------------------


def _in_parallel(app, db, calls):
    """Run each call in its own thread, app context and session, released together."""
    db.session.commit()
    db.session.close()  # the test's own session must not hold SQLite's write lock meanwhile
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results[index] = call().ok
                db.session.commit()
        except Exception as error:  # reported below, with the thread's traceback
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


def test_one_code_submitted_twice_at_the_same_moment_succeeds_exactly_once(app, db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    results = _in_parallel(app, db, [lambda: otp.verify(ticket.public_id, code, now=at(5))] * 2)
    assert sorted(results) == [False, True]
    challenge = db.session.scalar(select(OtpChallenge).filter_by(public_id=ticket.public_id))
    assert challenge.consumed_at == at(5)
    assert counter(db, client_of()).failures == 1  # the second, refused
    assert len(audit_events(db, "auth.otp_verified")) == 1


def test_parallel_guesses_cannot_slip_past_the_failure_limit(app, db, post):
    ticket = otp.start_challenge(CUG, now=T0)
    code = last_code()
    fail_times(ticket, 4)
    guesses = [wrong(code), wrong(wrong(code)), wrong(wrong(wrong(code))), "000000"]
    results = _in_parallel(
        app,
        db,
        [lambda guess=guess: otp.verify(ticket.public_id, guess, now=at(10)) for guess in guesses],
    )
    assert results == [False] * 4
    reasons = [event.detail_data["reason"] for event in audit_events(db, "auth.otp_failed")][4:]
    # Only the fifth attempt was checked; once it locked the client, the rest were refused unseen.
    assert sorted(reasons) == ["locked", "locked", "locked", "wrong_code"]
    assert client_locked(now=at(11))


def test_one_authenticator_code_used_on_two_challenges_at_once_succeeds_exactly_once(
    app, db, post, app_officer
):
    first = otp.start_challenge(CUG, now=T0)
    second = otp.start_challenge(CUG, now=at(1))  # too soon for an SMS, but open for the app
    code = otp.current_totp_code(app_officer.totp_secret, now=at(2))
    results = _in_parallel(
        app,
        db,
        [
            lambda: otp.verify(first.public_id, code, now=at(3)),
            lambda: otp.verify(second.public_id, code, now=at(3)),
        ],
    )
    assert sorted(results) == [False, True]


# ---- authenticator apps -----------------------------------------------------------------------


def test_an_officers_authenticator_code_passes_the_handset_step(db, post, app_officer):
    ticket = otp.start_challenge(CUG, now=T0)
    code = otp.current_totp_code(app_officer.totp_secret, now=at(40))
    outcome = otp.verify(ticket.public_id, code, now=at(45))
    assert outcome.ok and outcome.post == post and outcome.totp_officer == app_officer
    challenge = db.session.scalar(select(OtpChallenge).filter_by(public_id=ticket.public_id))
    assert challenge.totp_officer_id == app_officer.id
    assert audit_events(db, "auth.otp_verified")[0].detail_data == {
        "cug": MASKED,
        "method": "authenticator",
    }


def test_an_authenticator_code_allows_thirty_seconds_of_clock_drift_either_way(
    db, post, app_officer
):
    for offset, seconds in ((-30, 10), (30, 130), (-60, 250)):
        ticket = otp.start_challenge(CUG, now=at(seconds - 5))
        code = otp.current_totp_code(app_officer.totp_secret, now=at(seconds + offset))
        assert otp.verify(ticket.public_id, code, now=at(seconds)).ok is (abs(offset) <= 30), offset


def test_an_authenticator_code_is_refused_when_replayed(db, post, app_officer):
    first = otp.start_challenge(CUG, now=T0)
    second = otp.start_challenge(CUG, now=at(1))
    code = otp.current_totp_code(app_officer.totp_secret, now=at(2))
    assert otp.verify(first.public_id, code, now=at(2)).ok
    assert not otp.verify(second.public_id, code, now=at(3)).ok
    # The app's next code is fine.
    assert otp.verify(
        second.public_id, otp.current_totp_code(app_officer.totp_secret, now=at(31)), now=at(31)
    ).ok


def test_only_a_confirmed_authenticator_of_an_officer_holding_the_post_counts(
    db, post, app_officer, make_officer
):
    ticket = otp.start_challenge(CUG, now=T0)
    secret = app_officer.totp_secret
    db.session.scalar(select(PostAssignment).filter_by(officer_id=app_officer.id)).ended_at = at(1)
    db.session.flush()
    assert not otp.verify(ticket.public_id, otp.current_totp_code(secret, now=at(2)), now=at(2)).ok
    unconfirmed = make_officer("station_officer", post.unit, post=post)
    unconfirmed.totp_secret = otp.new_totp_secret()
    db.session.flush()
    assert not otp.verify(
        ticket.public_id, otp.current_totp_code(unconfirmed.totp_secret, now=at(3)), now=at(3)
    ).ok
    outsider = make_officer("constable", post.unit)  # confirmed app, but holds another post
    outsider.totp_secret, outsider.totp_confirmed = otp.new_totp_secret(), True
    db.session.flush()
    assert not otp.verify(
        ticket.public_id, otp.current_totp_code(outsider.totp_secret, now=at(4)), now=at(4)
    ).ok


def test_an_authenticator_secret_is_sealed_in_the_database(app, db, post, app_officer):
    """A copy of the database (a backup, a replica) holds no secret that could mint codes."""
    from sqlalchemy import text

    secret = app_officer.totp_secret
    db.session.commit()
    stored = db.session.scalar(
        text("SELECT totp_secret FROM officers WHERE id = :id"), {"id": app_officer.id}
    )
    assert stored.startswith("sealed:v1:") and secret not in stored
    db.session.expire_all()
    ticket = otp.start_challenge(CUG, now=T0)
    assert otp.verify(ticket.public_id, otp.current_totp_code(secret, now=at(2)), now=at(2)).ok

    # Under another secret key the sealed value cannot be opened: no authenticator code works,
    # the code by SMS still does, and the officer sets the app up again.
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-9876543210"
    db.session.expire_all()
    assert db.session.get(type(app_officer), app_officer.id).totp_secret is None
    ticket = otp.start_challenge(CUG, now=at(100))
    assert not otp.verify(
        ticket.public_id, otp.current_totp_code(secret, now=at(101)), now=at(101)
    ).ok
    assert otp.verify(ticket.public_id, codes_sent()[-1], now=at(102)).ok


def test_a_locked_client_is_refused_the_authenticator_code_too(db, post, app_officer):
    ticket = otp.start_challenge(CUG, now=T0)
    fail_times(ticket, 5)
    assert not otp.verify(
        ticket.public_id, otp.current_totp_code(app_officer.totp_secret, now=at(10)), now=at(10)
    ).ok


def test_enrolling_an_authenticator_confirms_it_with_a_code_that_cannot_be_replayed(
    db, post, make_officer
):
    officer = make_officer("station_officer", post.unit, post=post)
    officer.totp_secret = otp.new_totp_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", officer.totp_secret)
    code = otp.current_totp_code(officer.totp_secret, now=T0)
    assert not otp.confirm_totp(officer, wrong(code), now=T0)
    assert not otp.confirm_totp(
        officer, code.translate(str.maketrans("0123456789", "०१२३४५६७८९")), now=T0
    )
    assert not officer.totp_confirmed
    assert otp.confirm_totp(officer, code, now=T0)
    assert officer.totp_confirmed
    ticket = otp.start_challenge(CUG, now=at(1))
    assert not otp.verify(ticket.public_id, code, now=at(2)).ok


def test_the_provisioning_uri_names_the_issuer_and_the_pno_only(db, post, make_officer):
    officer = make_officer("station_officer", post.unit, post=post, name="Ram Singh")
    uri = otp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", officer)
    assert uri.startswith("otpauth://totp/C-Plan%20UP%20Police:" + officer.pno + "?")
    assert "issuer=C-Plan%20UP%20Police" in uri and "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert "Ram" not in uri


def test_the_qr_code_is_a_standalone_svg_drawn_by_the_app(app):
    svg = otp.qr_svg(
        "otpauth://totp/C-Plan%20UP%20Police:PNO1?secret=JBSWY3DPEHPK3PXP&issuer=C-Plan%20UP%20Police"
    )
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and svg.endswith("</svg>")
    # Nothing to fetch from elsewhere, nothing the CSP would block.
    assert "href" not in svg and "<script" not in svg and "style=" not in svg
    assert "JBSWY3DPEHPK3PXP" not in svg


# ---- the gateway failing ----------------------------------------------------------------------


def test_a_failing_gateway_does_not_break_sign_in_and_is_audited(app, db, post):
    app.config.update(
        SMS_BACKEND="http",
        SMS_HTTP_URL="http://127.0.0.1:9/send",
        SMS_HTTP_TIMEOUT=2,
        SMS_DLT_ENTITY_ID="1201",
        SMS_SENDER_ID="UPPCPL",
        SMS_TEMPLATE_OTP_ID="1207",
    )
    ticket = otp.start_challenge(CUG, now=T0)
    assert len(ticket.public_id) == 43
    [event] = audit_events(db, "auth.otp_sent")
    assert event.outcome.value == "failure" and event.detail_data["cug"] == MASKED


# ---- the officer step -------------------------------------------------------------------------


@pytest.fixture
def officers(make_officer, post):
    """Two officers sharing the post's handset (a station's CUG phone)."""
    return make_officer("station_officer", post.unit, post=post), make_officer(
        "constable", post.unit, post=post
    )


def new_proof(now, ip="10.20.30.40"):
    """Pass the handset step at ``now`` (callers keep the SMS limits in mind: 60 s apart)."""
    ticket = otp.start_challenge(CUG, ip, now=now)
    outcome = otp.verify(ticket.public_id, last_code(), ip, now=now + timedelta(seconds=1))
    assert outcome.ok and outcome.proof
    return outcome.proof


def sessions_opened(db):
    from cplan.models import SignInSession

    return db.session.scalar(select(func.count()).select_from(SignInSession))


def test_a_handset_proof_opens_one_session_and_a_replayed_one_none(db, post, officers):
    """Issue 14, finding 1: the passed code step lived in the cookie and opened 4 sessions."""
    officer, _colleague = officers
    proof = new_proof(T0)
    first = otp.sign_in_officer(proof, officer.pno, TEST_PASSWORD, now=at(10))
    assert first.principal is not None and first.principal.officer == officer
    for second in (11, 12, 13):
        replay = otp.sign_in_officer(proof, officer.pno, TEST_PASSWORD, now=at(second))
        assert replay.principal is None and replay.restart
    assert sessions_opened(db) == 1
    assert [
        event.detail_data["reason"]
        for event in audit_events(db, "auth.sign_in")
        if event.outcome.value == "failure"
    ] == ["no_handset_proof"] * 3


def test_one_code_buys_at_most_three_password_attempts(db, post, officers):
    officer, _colleague = officers
    proof = new_proof(T0)
    for second in (10, 11):
        outcome = otp.sign_in_officer(proof, officer.pno, "wrong password!", now=at(second))
        assert outcome.principal is None and not outcome.restart  # a typo: try again
    third = otp.sign_in_officer(proof, officer.pno, "wrong password!", now=at(12))
    assert third.principal is None and third.restart
    assert otp.sign_in_officer(proof, officer.pno, TEST_PASSWORD, now=at(13)).principal is None
    assert otp.handset_post(proof, now=at(14)) is None


def test_a_handset_proof_lapses_after_five_minutes(db, post, officers):
    officer, _colleague = officers
    proof = new_proof(T0)
    assert otp.handset_post(proof, now=at(minutes=5)) == post
    assert (
        otp.sign_in_officer(
            proof, officer.pno, TEST_PASSWORD, now=at(minutes=5, seconds=2)
        ).principal
        is None
    )


def test_a_colleagues_own_sign_in_does_not_reset_the_count_of_guesses_at_an_officers_password(
    db, post, officers
):
    """Issue 14, finding 1: a colleague on a shared post guessed ~2,600 passwords per code, since
    each success of their own reset the number's failures."""
    officer, colleague = officers
    times = iter([T0, at(61), at(122), at(minutes=20), at(minutes=21, seconds=10), at(minutes=40)])
    proof = new_proof(next(times))
    for second in range(2, 5):  # three guesses at the officer's password
        otp.sign_in_officer(proof, officer.pno, f"guess {second}", now=at(second))
    proof = new_proof(next(times))
    otp.sign_in_officer(proof, officer.pno, "guess 5", now=at(63))  # the fourth
    assert (
        otp.sign_in_officer(proof, colleague.pno, TEST_PASSWORD, now=at(64)).principal is not None
    )
    assert counter(db, lockouts.officer_key(officer.id)).failures == 4
    assert counter(db, lockouts.post_key(post.id)).failures == 4
    proof = new_proof(next(times))
    otp.sign_in_officer(proof, officer.pno, "guess 6", now=at(124))  # the fifth locks the officer
    assert lockouts.is_locked(lockouts.officer_key(officer.id), at(125))
    assert [event.detail_data["reason"] for event in audit_events(db, "auth.officer_locked")] == [
        "officer_password"
    ]
    # Even the right password is not checked now, and costs the post nothing.
    outcome = otp.sign_in_officer(proof, officer.pno, TEST_PASSWORD, now=at(126))
    assert outcome.principal is None
    assert audit_events(db, "auth.sign_in")[-1].detail_data["reason"] == "officer_locked"
    # Others on the post are not locked out by it.
    assert (
        otp.sign_in_officer(proof, colleague.pno, TEST_PASSWORD, now=at(127)).principal is not None
    )
    proof = new_proof(next(times))
    assert otp.sign_in_officer(
        proof, officer.pno, TEST_PASSWORD, now=at(minutes=20, seconds=5)
    ).principal
    assert counter(db, lockouts.officer_key(officer.id)).failures == 0  # their own success


def test_ten_wrong_passwords_on_a_post_lock_its_officer_step_and_tell_its_handset(
    db, post, officers, make_officer
):
    officer, colleague = officers
    extra = [make_officer("constable", post.unit, post=post) for _ in range(2)]
    pnos = [
        officer.pno,
        colleague.pno,
        extra[0].pno,
        extra[1].pno,
        "NOSUCHPNO",
    ] * 2  # spread: no officer lock
    times = [T0, at(61), at(122), at(minutes=20)]
    for index, pno in enumerate(pnos):
        if index % 3 == 0:
            proof = new_proof(times[index // 3])
        otp.sign_in_officer(
            proof, pno, "wrong password!", now=times[index // 3] + timedelta(seconds=5 + index)
        )
    assert otp.is_locked(CUG, now=at(minutes=20, seconds=30))
    [event] = audit_events(db, "auth.post_locked")
    assert event.detail_data == {
        "cug": MASKED,
        "lock_count": 1,
        "minutes": 15,
        "reason": "officer_password",
    }
    assert [m.template_name for m in get_outbox()].count("sign_in_locked") == 1
    proof = new_proof(at(minutes=25))  # the code step still works; the officer step does not
    assert otp.sign_in_officer(
        proof, officer.pno, TEST_PASSWORD, now=at(minutes=25, seconds=5)
    ).restart


def test_a_code_from_an_authenticator_app_admits_only_its_officer(db, post, officers):
    officer, colleague = officers
    officer.totp_secret, officer.totp_confirmed = otp.new_totp_secret(), True
    ticket = otp.start_challenge(CUG, now=T0)
    proof = otp.verify(
        ticket.public_id, otp.current_totp_code(officer.totp_secret, now=at(2)), now=at(2)
    ).proof
    assert otp.sign_in_officer(proof, colleague.pno, TEST_PASSWORD, now=at(3)).principal is None
    assert (
        otp.sign_in_officer(proof, officer.pno, TEST_PASSWORD, now=at(4)).principal.officer
        == officer
    )


def test_one_proof_submitted_twice_at_the_same_moment_signs_in_once(app, db, post, officers):
    pno = officers[0].pno
    proof = new_proof(T0)

    class Attempt:
        def __init__(self):
            self.ok = (
                otp.sign_in_officer(proof, pno, TEST_PASSWORD, now=at(10)).principal is not None
            )

    assert sorted(_in_parallel(app, db, [Attempt] * 3)) == [False, False, True]
    assert sessions_opened(db) == 1


def test_parallel_officer_password_guesses_cannot_slip_past_the_post_limit(app, db, post, officers):
    """Each attempt is counted before the password is checked, so guesses queue on the post."""
    officer, _colleague = officers
    key = lockouts.post_key(post.id)
    for _ in range(lockouts.POST_PASSWORDS.limit - 2):
        lockouts.claim(key, at(5))
    proofs = [
        new_proof(T0),
        new_proof(at(61), ip="10.20.30.41"),
        new_proof(at(122), ip="10.20.30.42"),
    ]

    class Attempt:
        def __init__(self, proof):
            self.ok = not otp.sign_in_officer(
                proof, "NOSUCHPNO", "wrong password!", now=at(130)
            ).restart

    _in_parallel(app, db, [lambda proof=proof: Attempt(proof) for proof in proofs])
    reasons = [event.detail_data["reason"] for event in audit_events(db, "auth.sign_in")]
    assert sorted(reasons) == ["locked", "wrong_password", "wrong_password"]
    assert lockouts.is_locked(key, at(131))


def test_typing_the_pno_of_an_officer_of_another_post_cannot_lock_that_officer_out(
    db, post, make_officer
):
    elsewhere = make_officer("station_officer", post.unit)  # holds a post of their own
    for when in (T0, at(61)):
        proof = new_proof(when)
        for attempt in range(3):
            otp.sign_in_officer(
                proof, elsewhere.pno, "wrong password!", now=when + timedelta(seconds=5 + attempt)
            )
    assert counter(db, lockouts.officer_key(elsewhere.id)) is None
    assert counter(db, lockouts.post_key(post.id)).failures == 6  # the post that was guessed on


# ---- the send window after gateway faults and unlocks -----------------------------------------


def test_codes_the_gateway_did_not_take_do_not_use_up_the_numbers_codes(
    db, post, http_app, gateway
):
    """After an outage the officer gets a code at once, not after three failed sends' 15 minutes."""
    gateway.status = 500
    for minute in range(3):
        otp.start_challenge(CUG, "10.0.0.1", now=at(minutes=minute))
    assert len(gateway.received) == 3
    assert [event.outcome.value for event in audit_events(db, "auth.otp_sent")] == ["failure"] * 3
    assert throttle(db).sends_in_window == 0

    gateway.status = 200
    otp.start_challenge(CUG, "10.0.0.1", now=at(minutes=3))
    assert len(gateway.received) == 4
    assert audit_events(db, "auth.otp_sent")[-1].outcome.value == "success"


def test_codes_the_gateway_took_still_count(db, post, http_app, gateway):
    for minute in range(4):
        otp.start_challenge(CUG, "10.0.0.1", now=at(minutes=minute))
    assert len(gateway.received) == 3
    assert audit_events(db, "auth.otp_suppressed")[-1].detail_data["reason"] == "limited"


def test_an_unlock_gives_the_number_its_codes_back(db, post, make_officer, state):
    admin = make_officer("state_admin", state)
    for minute in range(4):
        otp.start_challenge(CUG, now=at(minutes=minute))
    assert len(codes_sent()) == 3  # the fourth within 15 minutes was held back
    otp.unlock(CUG, officer=admin, post=admin.test_post, now=at(minutes=4))
    otp.start_challenge(CUG, now=at(minutes=4, seconds=1))
    assert len(codes_sent()) == 4
