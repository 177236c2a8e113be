"""The DLT registry: messages are built only from registered templates, exactly."""

import pytest

from cplan.models.messages import TemplateCategory, VariableType, WhitelistKind
from cplan.services import dlt, sms
from cplan.services.dlt import TemplateRefused

ALERT = (
    "UP Police: the news about {#var#} is false. Do not share it. For the facts call {#var#}. "
    "- UP Police"
)
HINDI_ALERT = "यूपी पुलिस: {#var#} के बारे में खबर झूठी है। सही जानकारी के लिए {#var#} पर फोन करें।"


@pytest.fixture
def header(db):
    entity = dlt.ensure_entity("1201000000000000001", "UP Police")
    dlt.add_whitelisted(entity, WhitelistKind.URL, "https://uppolice.gov.in/")
    dlt.add_whitelisted(entity, WhitelistKind.CALLBACK, "0121-222 0001")
    return dlt.ensure_header(entity, "UPPCPL")


@pytest.fixture
def register(header):
    counter = {"n": 100}

    def make(text, types, name="alert", language="en"):
        counter["n"] += 1
        return dlt.register_template(
            header,
            name=name,
            language=language,
            text=text,
            variable_types=types,
            category=TemplateCategory.GOVERNMENT,
            template_id=f"1207000000000000{counter['n']}",
        )

    return make


def test_a_message_is_the_registered_text_with_its_values(register):
    template = register(ALERT, ("text", "callback"))
    message = dlt.build(template, ["the Baraut fair", "01212220001"])
    assert message.text == (
        "UP Police: the news about the Baraut fair is false. Do not share it. For the facts "
        "call 01212220001. - UP Police"
    )
    assert (message.encoding, message.segments) == ("GSM-7", 1)


@pytest.mark.parametrize(
    "text",
    [
        # one space more, one space less, a changed letter, a line break added, a word dropped
        "UP Police: the news about X is false.  Do not share it. For the facts call 112. "
        "- UP Police",
        "UP Police: the news about X is false. Do not share it. For the facts call 112.- UP Police",
        "UP police: the news about X is false. Do not share it. For the facts call 112. "
        "- UP Police",
        "UP Police: the news about X is false.\nDo not share it. For the facts call 112. "
        "- UP Police",
        "UP Police: the news about X is false. Do not share. For the facts call 112. - UP Police",
    ],
)
def test_a_text_that_differs_from_the_template_by_any_whitespace_or_letter_is_refused(
    register, text
):
    template = register(ALERT, ("text", "callback"))
    with pytest.raises(TemplateRefused):
        dlt.check_matches(template, text)


def test_the_registered_text_with_its_slots_filled_matches(register):
    template = register(ALERT, ("text", "callback"))
    dlt.check_matches(
        template,
        "UP Police: the news about X is false. Do not share it. For the facts call 112. "
        "- UP Police",
    )


def test_a_value_of_more_than_30_characters_is_refused_naming_it(register):
    template = register(ALERT, ("text", "callback"))
    with pytest.raises(TemplateRefused) as refused:
        dlt.build(template, ["x" * 31, "01212220001"])
    assert refused.value.position == 1
    assert "31 characters" in str(refused.value)
    assert dlt.build(template, ["x" * 30, "01212220001"]).text.count("x") == 30


def test_a_link_not_on_the_whitelist_is_refused(register):
    template = register("Details: {#var#} - UP Police", ("url",), name="details")
    assert dlt.build(template, ["https://uppolice.gov.in/fair"]).text.endswith("fair - UP Police")
    for link in (
        "https://bit.ly/abc",
        "https://uppolice.gov.in.ev/x",
        "uppolice.gov.in/fair",
    ):
        with pytest.raises(TemplateRefused, match="not a whitelisted link"):
            dlt.build(template, [link])


def test_a_callback_number_must_be_whitelisted(register):
    template = register("Call {#var#} - UP Police", ("callback",), name="call")
    assert dlt.build(template, ["0121 2220001"]).text == "Call 0121 2220001 - UP Police"
    with pytest.raises(TemplateRefused, match="callback"):
        dlt.build(template, ["9876543210"])


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (VariableType.NUMBER, "42", "४२"),
        (VariableType.DATE, "12 Feb 2026", "tomorrow"),
        (VariableType.DATE, "12-02-2026 10:30", "2026"),
        (VariableType.TEXT, "the fair", "see www.example.com"),
    ],
)
def test_each_variable_type_takes_only_its_kind_of_value(kind, good, bad, db):
    assert dlt.check_value(kind, good, 1) == good
    with pytest.raises(TemplateRefused):
        dlt.check_value(kind, bad, 1)


def test_a_value_may_not_carry_a_slot_marker_or_a_line_break(register):
    template = register(ALERT, ("text", "callback"))
    for value in ("a{#var#}", "two\nlines", " padded"):
        with pytest.raises(TemplateRefused):
            dlt.build(template, [value, "01212220001"])


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("Hello {#var#}{#var#} - UP Police", ("text", "text")),  # adjacent slots
        ("Hello {#var#} and {#var#}", ("text",)),  # a type missing
        ("Hello {#name#}", ()),  # not DLT's slot
        ("{#var#} " * 6, ("text",) * 6),  # too many
    ],
)
def test_a_template_dlt_would_not_register_is_refused(register, text, types):
    with pytest.raises(TemplateRefused):
        register(text, types)


def test_one_devanagari_letter_makes_the_message_ucs2_at_70_and_67(register):
    assert (dlt.encoding("a" * 160), dlt.segments("a" * 160)) == ("GSM-7", 1)
    assert dlt.segments("a" * 161) == 2  # 153 a part
    assert dlt.segments("a" * 306) == 2
    assert dlt.segments("a" * 307) == 3
    assert dlt.segments("[" * 80) == 1 and dlt.segments("[" * 81) == 2  # two septets each
    mixed = "a" * 69 + "क"
    assert (dlt.encoding(mixed), dlt.segments(mixed)) == ("UCS-2", 1)
    assert dlt.segments(mixed + "a") == 2  # 71 units: 67 a part
    assert dlt.segments("क" * 134) == 2
    assert dlt.segments("क" * 135) == 3

    template = register(HINDI_ALERT, ("text", "callback"), language="hi")
    message = dlt.build(template, ["बड़ौत मेला", "01212220001"])
    assert message.encoding == "UCS-2"
    assert message.segments == 2
    english = register(ALERT, ("text", "callback"), name="alert2")
    assert dlt.build(english, ["बड़ौत", "01212220001"]).encoding == "UCS-2"


def test_the_sign_in_code_template_is_an_entry_of_the_registry_and_its_id_is_used(app, db):
    written = dlt.sync_system_templates(
        "1201000000000000001", "UPPCPL", {"SMS_TEMPLATE_OTP_ID": "1207160000000000001"}
    )
    otp = next(t for t in written if t.name == "otp" and t.language == "en")
    assert otp.system and otp.types == [VariableType.NUMBER]
    assert otp.text == sms.TEMPLATES["otp"].texts["en"]
    assert dlt.build(otp, ["123456"]).text.startswith("123456 is your C-Plan sign-in code.")
    assert sms.registered_template_id("otp", "en") == "1207160000000000001"
    # Sent through the memory backend, the message carries the registry's id.
    message = sms.send_template("+919876543210", "otp", "123456")
    assert message.template_id == "1207160000000000001"
    # Code templates are not offered for broadcasts.
    assert otp not in dlt.broadcast_templates()


def test_a_registry_entry_whose_text_differs_from_the_code_is_not_used(app, db):
    written = dlt.sync_system_templates(
        "1201000000000000001", "UPPCPL", {"SMS_TEMPLATE_OTP_ID": "1207160000000000001"}
    )
    otp = next(t for t in written if t.name == "otp" and t.language == "en")
    otp.text = otp.text.replace("5 minutes", "10 minutes")
    db.session.flush()
    assert sms.registered_template_id("otp", "en") == ""


def test_the_demo_registry_builds_its_own_templates(app, db):
    from cplan.devdata.demo_messages import ensure_demo_registry

    ensure_demo_registry()
    ensure_demo_registry()  # idempotent
    names = {(t.name, t.language) for t in dlt.broadcast_templates()}
    assert ("rumour_alert", "hi") in names and ("meeting_notice", "en") in names
    meeting = next(t for t in dlt.broadcast_templates() if t.name == "meeting_notice")
    message = dlt.build(meeting, ["Baraut thana", "12 Feb 2026", "https://uppolice.gov.in/m"])
    assert message.encoding == "GSM-7"
