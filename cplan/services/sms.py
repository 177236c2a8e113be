"""SMS: the DLT-registered message texts and the backend that delivers them.

Indian operators drop any SMS whose text does not match a template registered on TRAI's DLT
platform under our entity id and sender header, so nothing here sends free text: callers name
a template from ``TEMPLATES`` and give the values for its ``{#var#}`` slots. Each registered
text (English and Hindi separately) has its own DLT template id, kept in configuration.

The backend is chosen by ``SMS_BACKEND``:

* ``console`` (development) writes each message to the app log in one line, *with* the full
  number and text, because that console is how a developer reads their own sign-in code;
* ``memory`` (tests) appends to ``get_outbox()`` and logs nothing;
* ``http`` (production) posts to the gateway and logs only the masked number.

No other code path may log a full number or a message text (it may carry a one-time code).
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from cplan.extensions import db
from cplan.models.messages import DltTemplate
from cplan.services.phone import log_safe

SLOT = "{#var#}"
# DLT accepts at most 30 characters in one variable.
MAX_VALUE_LENGTH = 30
MAX_SLOTS = 3
LANGUAGES = ("en", "hi")
OUTBOX_KEY = "sms_outbox"
# Key in ``app.extensions``: a function that runs a task after the current response and says
# whether it could (the web layer's ``cplan.web.lifecycle.run_after_response``).
AFTER_RESPONSE = "cplan_after_response"
_E164_INDIA = re.compile(r"\+91[6-9][0-9]{9}")
# Characters a text that may reach an SMS must not hold (see ``is_safe_text``): control
# characters (C0, DEL, C1), line and paragraph separators, and invisible format characters
# such as bidirectional overrides; the zero-width joiner and non-joiner stay, since Devanagari
# spelling needs them.
_UNSAFE_CHARACTER = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_SLOT_MARKER = "{#"

# The GSM 03.38 default alphabet; its extension characters cost two septets each.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€")


class SmsError(RuntimeError):
    """The message could not be handed to the gateway (the text never says to whom or what)."""


class TemplateError(ValueError):
    """A template was asked for with the wrong values, language or name."""


@dataclass(frozen=True)
class Template:
    """One message, registered on DLT in each language with its own template id."""

    name: str
    texts: dict[str, str]
    # The DLT type of each slot in order (``cplan.models.messages.VariableType`` values).
    variables: tuple[str, ...] = ()

    @property
    def id_keys(self) -> dict[str, str]:
        """The configuration key per language holding that text's DLT template id:
        ``SMS_TEMPLATE_OTP_ID`` and ``SMS_TEMPLATE_OTP_HI_ID`` for "otp"."""
        key = self.name.upper()
        return {"en": f"SMS_TEMPLATE_{key}_ID", "hi": f"SMS_TEMPLATE_{key}_HI_ID"}

    @property
    def slot_count(self) -> int:
        return self.texts["en"].count(SLOT)


TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template(
            name="otp",
            variables=("number",),
            texts={
                "en": "{#var#} is your C-Plan sign-in code. It is valid for 5 minutes. "
                "Do not share it with anyone. - UP Police",
                "hi": "{#var#} आपका C-Plan साइन-इन कोड है। यह 5 मिनट तक मान्य है। "
                "इसे किसी को न बताएं। - यूपी पुलिस",
            },
        ),
        # Sent to the *old* number of a post whose CUG number was changed: the new number is
        # deliberately not in it.
        Template(
            name="cug_changed",
            variables=("text", "date"),
            texts={
                "en": "C-Plan: the CUG number of post {#var#} was changed to a new number on "
                "{#var#}. If this is unexpected, inform your SP office at once. - UP Police",
                "hi": "C-Plan: पद {#var#} का CUG नंबर {#var#} को बदल दिया गया है। अनपेक्षित "
                "हो तो तुरंत एसपी कार्यालय को सूचित करें। - यूपी पुलिस",
            },
        ),
        # Sent to a post's handset when an officer is set up to sign in on it; the setup code
        # itself is handed over by the administrator, never sent by SMS.
        Template(
            name="officer_setup",
            variables=("text", "text", "text"),
            texts={
                "en": "C-Plan: {#var#} (PNO {#var#}) can now sign in on post {#var#}. "
                "If this is unexpected, inform your SP office at once. - UP Police",
                "hi": "C-Plan: {#var#} (PNO {#var#}) अब पद {#var#} पर साइन इन कर सकते हैं। "
                "अनपेक्षित हो तो तुरंत एसपी कार्यालय को सूचित करें। - यूपी पुलिस",
            },
        ),
        # Sent to a post's handset when too many failed sign-ins lock its number or its officer
        # step: the post's title and the end of the lock (IST).
        Template(
            name="sign_in_locked",
            variables=("text", "date"),
            texts={
                "en": "C-Plan: sign-in for post {#var#} is locked until {#var#} after repeated "
                "failed attempts. If this was not you, inform your SP office. - UP Police",
                "hi": "C-Plan: बार-बार असफल प्रयासों के कारण पद {#var#} का साइन-इन {#var#} तक रोक "
                "दिया गया है। यदि यह आपने नहीं किया, तो एसपी कार्यालय को सूचित करें। - यूपी पुलिस",
            },
        ),
    )
}


@dataclass(frozen=True)
class SmsMessage:
    """One rendered message on its way to a handset."""

    to: str  # E.164
    template_name: str
    template_id: str  # the DLT id; empty when not configured (development, tests)
    language: str
    text: str

    @property
    def unicode(self) -> bool:
        return needs_unicode(self.text)

    @property
    def segments(self) -> int:
        return segment_count(self.text)


def is_indian_e164(number: str) -> bool:
    """True for an Indian mobile number in E.164 form (``+91`` and ten ASCII digits from 6-9)."""
    return _E164_INDIA.fullmatch(number) is not None


def registered_template_id(template_name: str, language: str) -> str:
    """The DLT template id the registry (``dlt_templates``) holds for this code template, when
    its registered text is exactly the code's; "" otherwise (the configured id is used then)."""
    template = get_template(template_name, language)
    return (
        db.session.scalar(
            select(DltTemplate.template_id).where(
                DltTemplate.name == template_name,
                DltTemplate.language == language,
                DltTemplate.active.is_(True),
                DltTemplate.text == template.texts[language],
            )
        )
        or ""
    )


def template_id_for(template_name: str, language: str) -> str:
    """The DLT id to send a code template with: the registry's, else the configured one."""
    template = get_template(template_name, language)
    return registered_template_id(template_name, language) or str(
        current_app.config.get(template.id_keys[language]) or ""
    )


def get_template(template_name: str, language: str = "en") -> Template:
    """The registered template ``template_name``, checking that it exists in ``language``."""
    template = TEMPLATES.get(template_name)
    if template is None:
        raise TemplateError(f"no registered SMS template named {template_name!r}")
    if language not in template.texts:
        raise TemplateError(f"template {template_name!r} is not registered in {language!r}")
    return template


def render(template_name: str, *values: str, language: str = "en") -> str:
    """Fill the template's slots in order; refuse anything DLT would not match."""
    template = get_template(template_name, language)
    text = template.texts[language]
    if len(values) != template.slot_count:
        raise TemplateError(
            f"template {template_name!r} has {template.slot_count} slot(s), {len(values)} value(s) "
            "given"
        )
    pieces = text.split(SLOT)
    out = [pieces[0]]
    for value, piece in zip(values, pieces[1:], strict=True):
        value = str(value)
        if not is_safe_text(value):
            raise TemplateError("an SMS value may not contain '{#' or control characters")
        if not value.strip():
            raise TemplateError("an SMS value may not be empty")
        if len(value) > MAX_VALUE_LENGTH:
            raise TemplateError(f"an SMS value may have at most {MAX_VALUE_LENGTH} characters")
        out.append(value)
        out.append(piece)
    return "".join(out)


def is_safe_text(text: str) -> bool:
    """True when ``text`` may fill a slot of a registered SMS: no "{#" (DLT's slot marker) and
    no control, line-breaking or invisible formatting character.

    The one rule for every text that can reach an SMS (post titles, officer names): services
    refuse such a text when it is saved, so a later message cannot fail on it.
    """
    return _SLOT_MARKER not in text and not _UNSAFE_CHARACTER.search(text)


def slot_value(text: str, fallback: str = "-", limit: int = MAX_VALUE_LENGTH) -> str:
    """``text`` made fit for a slot: unsafe characters become spaces, "{#" loses its brace,
    spaces collapse and the result is cut to ``limit`` characters; ``fallback`` when nothing is
    left. For texts saved before the rule existed (a post's title), so that a notice can always
    be rendered; new ones are refused instead (``is_safe_text``)."""
    cleaned = " ".join(_UNSAFE_CHARACTER.sub(" ", text or "").replace(_SLOT_MARKER, "#").split())
    return cleaned[:limit].rstrip() or fallback


def needs_unicode(text: str) -> bool:
    """True when the text cannot go in the GSM 7-bit alphabet (any Devanagari does this)."""
    return any(char not in _GSM_BASIC and char not in _GSM_EXTENSION for char in text)


def segment_count(text: str) -> int:
    """How many SMS parts the operator bills: 160/153 GSM septets, or 70/67 UCS-2 units."""
    if needs_unicode(text):
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    else:
        units = sum(2 if char in _GSM_EXTENSION else 1 for char in text)
        single, part = 160, 153
    if units <= single:
        return 1
    return -(-units // part)


def send_template(
    number_e164: str,
    template_name: str,
    *values: str,
    language: str = "en",
    report: Callable[[SmsError | None], None] | None = None,
    template_id: str | None = None,
) -> SmsMessage:
    """Render a registered template and hand it to the configured backend.

    Without ``report`` a failure raises ``SmsError``. With it, the outcome is given to
    ``report`` (None for success) and nothing raises; and during a request the ``http``
    backend delivers after the response, on a thread of its own (``report`` then runs in a
    transaction of its own, committed there). A sign-in code goes only to registered CUG
    numbers: had the page waited for the gateway, its timing would tell which numbers are.

    ``template_id`` (the DLT id) is looked up when not given (``template_id_for``): a caller
    that must hold no transaction while the gateway answers looks it up first.
    """
    if not isinstance(number_e164, str) or not _E164_INDIA.fullmatch(number_e164):
        raise ValueError("SMS goes only to an Indian mobile number in E.164 form")
    get_template(template_name, language)  # raises TemplateError for an unknown one
    message = SmsMessage(
        to=number_e164,
        template_name=template_name,
        template_id=template_id_for(template_name, language)
        if template_id is None
        else template_id,
        language=language,
        text=render(template_name, *values, language=language),
    )
    backend_name = current_app.config.get("SMS_BACKEND", "console")
    backend = BACKENDS.get(backend_name)
    if backend is None:
        raise SmsError(f"unknown SMS_BACKEND {backend_name!r}")
    if report is None:
        backend(message)
    elif backend is not _send_http or not _deliver_after_the_response(message, report):
        report(_attempt(backend, message))
    return message


def _attempt(backend, message: SmsMessage) -> SmsError | None:
    try:
        backend(message)
    except SmsError as error:
        return error
    return None


def _deliver_after_the_response(message: SmsMessage, report) -> bool:
    """Send ``message`` once the response has gone, on a thread, then ``report`` and commit.
    False when there is no response to wait for (no request: the caller sends at once).

    The thread is a daemon: a worker stopped at that moment loses the message, as a phone out
    of coverage would; the officer asks for the code again.
    """
    after_response = current_app.extensions.get(AFTER_RESPONSE)
    if after_response is None:
        return False
    app = current_app._get_current_object()

    def deliver() -> None:
        with app.app_context():
            try:
                report(_attempt(_send_http, message))
                db.session.commit()
            except Exception:  # noqa: BLE001 - a thread has no caller to tell
                db.session.rollback()
                app.logger.exception("sms: recording a delivery to %s failed", log_safe(message.to))
            finally:
                db.session.remove()

    def start_delivery() -> None:
        threading.Thread(target=deliver, name="cplan-sms", daemon=True).start()

    return after_response(start_delivery)


def get_outbox() -> list[SmsMessage]:
    """Messages the ``memory`` backend has 'sent' in this app (tests read and clear it)."""
    return current_app.extensions.setdefault(OUTBOX_KEY, [])


# ---- backends ---------------------------------------------------------------------------------


def _send_console(message: SmsMessage) -> None:
    # Development only: the full number and text (with any code) are shown on purpose, because
    # this line is how a developer signs in without a phone. The format is stable for scripts.
    current_app.logger.info(
        "[sms] to=%s template=%s text=%s", message.to, message.template_name, message.text
    )


def _send_memory(message: SmsMessage) -> None:
    get_outbox().append(message)


def _send_http(message: SmsMessage) -> None:
    config = current_app.config
    url = config.get("SMS_HTTP_URL") or ""
    missing = [
        key for key in ("SMS_HTTP_URL", "SMS_DLT_ENTITY_ID", "SMS_SENDER_ID") if not config.get(key)
    ]
    if not message.template_id:
        missing.append(
            get_template(message.template_name, message.language).id_keys[message.language]
        )
    if missing:
        raise SmsError("SMS gateway not configured: " + ", ".join(missing))
    if config.get("ENV_NAME") == "production" and not url.startswith("https://"):
        raise SmsError("SMS_HTTP_URL must use https in production")

    body = urllib.parse.urlencode(gateway_fields(message, config)).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    timeout = float(config.get("SMS_HTTP_TIMEOUT", 10))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        error.close()
        # The body may echo the number or the text: keep it out of the error and the log.
        raise SmsError(f"SMS gateway answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise SmsError(f"SMS gateway unreachable ({type(error).__name__})") from None
    if not 200 <= status < 300:
        raise SmsError(f"SMS gateway answered HTTP {status}")
    current_app.logger.info(
        "[sms] gateway accepted to=%s template=%s segments=%d",
        log_safe(message.to),
        message.template_name,
        message.segments,
    )


def gateway_fields(message: SmsMessage, config) -> dict[str, str]:
    """The form fields of one gateway request (the one place to adapt to a gateway's names).

    Credentials travel in the POST body, not the URL, so they never land in access logs.
    """
    return {
        "username": config.get("SMS_HTTP_USERNAME") or "",
        "password": config.get("SMS_HTTP_PASSWORD") or "",
        "sender": config["SMS_SENDER_ID"],
        "to": message.to.lstrip("+"),
        "message": message.text,
        "dlt_entity_id": str(config["SMS_DLT_ENTITY_ID"]),
        "dlt_template_id": message.template_id,
        "unicode": "1" if message.unicode else "0",
    }


BACKENDS = {"console": _send_console, "memory": _send_memory, "http": _send_http}
