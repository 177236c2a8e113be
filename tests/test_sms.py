"""SMS: DLT templates render exactly their registered text, and each backend delivers as
promised."""

import logging
import re
import threading

import pytest

from cplan.config import DefaultConfig
from cplan.services import sms
from cplan.services.sms import (
    SmsError,
    TemplateError,
    get_outbox,
    render,
    segment_count,
    send_template,
)

NUMBER = "+919876543210"

OTP_EN = (
    "123456 is your C-Plan sign-in code. It is valid for 5 minutes. "
    "Do not share it with anyone. - UP Police"
)
OTP_HI = "123456 आपका C-Plan साइन-इन कोड है। यह 5 मिनट तक मान्य है। इसे किसी को न बताएं। - यूपी पुलिस"


# ---- templates --------------------------------------------------------------------------------


def test_the_otp_template_renders_exactly_the_registered_english_text():
    assert render("otp", "123456") == OTP_EN


def test_the_otp_template_renders_exactly_the_registered_hindi_text():
    assert render("otp", "123456", language="hi") == OTP_HI


def test_the_cug_changed_notice_fills_its_slots_in_order():
    assert render("cug_changed", "SHO Baraut", "05-03-2026") == (
        "C-Plan: the CUG number of post SHO Baraut was changed to a new number on 05-03-2026. "
        "If this is unexpected, inform your SP office at once. - UP Police"
    )


def test_the_officer_setup_notice_fills_its_slots_in_order():
    assert render("officer_setup", "Ram Singh", "PNO123456", "SHO Baraut", language="hi") == (
        "C-Plan: Ram Singh (PNO PNO123456) अब पद SHO Baraut पर साइन इन कर सकते हैं। "
        "अनपेक्षित हो तो तुरंत एसपी कार्यालय को सूचित करें। - यूपी पुलिस"
    )


@pytest.mark.parametrize("values", [(), ("123456", "654321")])
def test_a_template_refuses_the_wrong_number_of_values(values):
    with pytest.raises(TemplateError):
        render("otp", *values)


@pytest.mark.parametrize("value", ["{#var#}", "12{#3", "12\n34", "x\x00", "   ", "x" * 31])
def test_a_template_refuses_values_dlt_would_not_match(value):
    with pytest.raises(TemplateError):
        render("otp", value)


def test_an_unknown_template_or_language_is_refused():
    with pytest.raises(TemplateError):
        render("free_text", "hello")
    with pytest.raises(TemplateError):
        render("otp", "123456", language="ur")


@pytest.mark.parametrize("template", list(sms.TEMPLATES.values()), ids=list(sms.TEMPLATES))
def test_every_template_follows_the_dlt_rules_in_both_languages(template):
    assert set(template.texts) == set(sms.LANGUAGES) == set(template.id_keys)
    for language, text in template.texts.items():
        assert 1 <= text.count(sms.SLOT) <= sms.MAX_SLOTS
        assert text.count(sms.SLOT) == template.slot_count
        # Slots are never adjacent: something registered stands between any two.
        assert not re.search(r"\{#var#\}\s*\{#var#\}", text)
        assert "\n" not in text
        # Every DLT id has a setting, so it can be configured per environment.
        assert hasattr(DefaultConfig, template.id_keys[language])


def test_hindi_text_is_unicode_and_counted_in_segments_of_seventy():
    assert sms.needs_unicode(OTP_HI)
    assert not sms.needs_unicode(OTP_EN)
    assert segment_count("क" * 70) == 1
    assert segment_count("क" * 71) == 2  # a multipart message carries 67 per part
    assert segment_count("क" * 134) == 2
    assert segment_count("क" * 135) == 3
    assert segment_count(OTP_EN) == 1
    assert segment_count("a" * 160) == 1 and segment_count("a" * 161) == 2


# ---- console and memory backends ------------------------------------------------------------


def test_the_memory_backend_keeps_messages_in_the_outbox_and_logs_nothing(app, caplog):
    caplog.set_level(logging.DEBUG)
    message = send_template(NUMBER, "otp", "123456")
    assert get_outbox() == [message]
    assert message.text == OTP_EN and message.to == NUMBER and message.template_name == "otp"
    assert "123456" not in caplog.text and "9876543210" not in caplog.text


def test_the_console_backend_logs_one_stable_line_with_the_number_and_text(app, caplog):
    # Development only: the developer reads their own code here, so the full number is shown.
    app.config["SMS_BACKEND"] = "console"
    caplog.set_level(logging.INFO, logger=app.logger.name)
    send_template(NUMBER, "otp", "123456", language="hi")
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [f"[sms] to={NUMBER} template=otp text={OTP_HI}"]
    assert get_outbox() == []


def test_a_message_goes_only_to_an_indian_number_in_e164_form(app):
    for number in ["9876543210", "+9198765432101", "+449876543210", "+91९८७६५४३२१०"]:
        with pytest.raises(ValueError):
            send_template(number, "otp", "123456")
    assert get_outbox() == []


def test_an_unknown_backend_is_an_error(app):
    app.config["SMS_BACKEND"] = "carrier-pigeon"
    with pytest.raises(SmsError):
        send_template(NUMBER, "otp", "123456")


# ---- http backend, against a real local HTTP server (tests/conftest.py: gateway) ----------


def test_the_http_backend_posts_the_dlt_fields_to_the_gateway(http_app, gateway, caplog):
    caplog.set_level(logging.DEBUG)
    send_template(NUMBER, "otp", "123456")
    [request] = gateway.received
    assert request["path"] == "/send"
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    assert request["fields"] == {
        "username": ["cplan-user"],
        "password": ["gateway-password"],
        "sender": ["UPPCPL"],
        "to": ["919876543210"],
        "message": [OTP_EN],
        "dlt_entity_id": ["1201160000000012345"],
        "dlt_template_id": ["1207160000000000001"],
        "unicode": ["0"],
    }
    # The gateway backend logs only the masked number, never the text with its code.
    assert "123456" not in caplog.text and "9876543210" not in caplog.text
    assert "+91******3210" in caplog.text


def test_the_http_backend_flags_hindi_as_unicode_with_its_own_template_id(http_app, gateway):
    send_template(NUMBER, "otp", "123456", language="hi")
    fields = gateway.received[0]["fields"]
    assert fields["message"] == [OTP_HI]
    assert fields["unicode"] == ["1"]
    assert fields["dlt_template_id"] == ["1207160000000000002"]


def test_a_gateway_error_raises_sms_error_without_the_number(http_app, gateway):
    gateway.status = 500
    with pytest.raises(SmsError) as error:
        send_template(NUMBER, "otp", "123456")
    assert "500" in str(error.value)
    assert "9876543210" not in str(error.value) and "123456" not in str(error.value)


def test_an_unreachable_gateway_raises_sms_error(http_app, gateway):
    gateway.shutdown()
    gateway.server_close()
    with pytest.raises(SmsError):
        send_template(NUMBER, "otp", "123456")


def test_the_http_backend_refuses_to_send_without_its_dlt_settings(http_app, gateway):
    http_app.config["SMS_TEMPLATE_OTP_ID"] = None
    with pytest.raises(SmsError, match="SMS_TEMPLATE_OTP_ID"):
        send_template(NUMBER, "otp", "123456")
    assert gateway.received == []


def test_production_sends_only_over_https(http_app, gateway):
    http_app.config["ENV_NAME"] = "production"
    with pytest.raises(SmsError, match="https"):
        send_template(NUMBER, "otp", "123456")
    assert gateway.received == []


# ---- sign-in codes go out after the page -------------------------------------------------------


def _otp_sent_events(db):
    from sqlalchemy import select

    from cplan.models import AuditEvent

    db.session.rollback()  # see what the delivery thread committed...
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.otp_sent"))
    )
    db.session.rollback()  # ...and leave it free to write (a test's SQLite reads take the lock)
    return events


def test_a_sign_in_code_goes_out_after_the_page_so_its_timing_tells_nothing(
    http_app, gateway, client, db, make_district, make_station, make_officer
):
    """A code goes only to a registered CUG number: if the page waited for the gateway, how long
    it took would tell a stranger which numbers are registered."""
    officer = make_officer(
        "station_officer", make_station(make_district("Baghpat", code="124"), "Baraut")
    )
    db.session.commit()
    gateway.hold = threading.Event()

    response = client.post("/auth/sign-in", data={"cug": officer.test_post.cug_number})
    assert response.status_code == 302 and response.location.endswith("/auth/code")
    assert _otp_sent_events(db) == []  # the page is back; the gateway has not answered yet

    gateway.hold.set()
    for _ in range(200):
        events = _otp_sent_events(db)
        if events:
            break
        threading.Event().wait(0.05)
    [event] = events
    assert event.outcome.value == "success" and event.post_id == officer.test_post.id
    [request] = gateway.received
    assert request["fields"]["to"] == [officer.test_post.cug_number.lstrip("+")]

    stranger = client.post("/auth/sign-in", data={"cug": "+919999988888"})
    assert (stranger.status_code, stranger.location) == (response.status_code, response.location)
    assert len(gateway.received) == 1  # nothing sent for a number that is not registered


@pytest.mark.parametrize(
    "text, safe",
    [
        ("SHO Baraut", True),
        ("थानाध्यक्ष बड़ौत", True),
        ("क्\u200dष", True),
        ("Ram Singh (PNO 123)", True),
        ("SHO\nBaraut", False),
        ("SHO\rBaraut", False),
        ("a{#b", False),
        ("SHO\u2028Baraut", False),
        ("SHO\u202eBaraut", False),
        ("SHO\x85Baraut", False),
        ("SHO\u200bBaraut", False),
        ("\x7f", False),
    ],
)
def test_one_rule_says_which_texts_may_reach_an_sms(text, safe):
    assert sms.is_safe_text(text) is safe
    if not safe:
        with pytest.raises(TemplateError):
            render("cug_changed", text[:30], "05-03-2026")
