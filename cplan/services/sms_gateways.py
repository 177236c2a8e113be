"""The gateways broadcasts go out through, behind one interface: ``send(Outgoing) -> Outcome``.

Chosen by ``SMS_BROADCAST_BACKEND``:

* ``http``: a JSON gateway in the style of the commercial Indian ones (MSG91, Gupshup): our
  message id travels as the ``reference``, which such gateways deduplicate on; an answer 2xx
  with ``{"id": ...}`` is accepted, 4xx is a permanent refusal (DLT scrubbing: unregistered
  template, header or entity, a number on the do-not-disturb list), 429 and 5xx or no answer are
  temporary;
* ``msdg``: the Government's mobile seva gateway (NIC / C-DAC): form fields with the DLT
  template id, the password hashed with SHA-1 and the request signed with SHA-512 over the
  username, sender id, text and the department's secure key; Unicode messages are
  ``unicodemsg``;
* ``exotel``: Exotel's SMS API (``POST /v1/Accounts/<sid>/Sms/send.json``, HTTP basic
  authentication with the API key and token, form fields ``From``, ``To``, ``Body``,
  ``EncodingType``, ``DltEntityId``, ``DltTemplateId``, ``SmsType``): our message id goes as
  ``CustomField``, and each message names its own ``StatusCallback``, our delivery-report URL
  with the reference and a token (an HMAC of the reference under ``SMS_DLR_SECRET``), since
  Exotel does not sign its callbacks. Exotel does not deduplicate: a message sent again after a
  worker died is sent twice (at least once, the fake gateway counts such duplicates);
* ``console`` (development) logs each message with the number masked;
* ``memory`` (tests) keeps them in ``sent_messages()``.

Only this module knows what a gateway's request looks like; what comes back is an ``Outcome``
that never holds the number or the text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from flask import current_app

from cplan.services.phone import log_safe

MEMORY_KEY = "sms_broadcast_outbox"


@dataclass(frozen=True)
class Outgoing:
    """One message for the gateway."""

    reference: str  # our message id: the gateway deduplicates on it
    to: str  # E.164
    text: str
    template_id: str  # the DLT template id
    unicode: bool


@dataclass(frozen=True)
class Outcome:
    """What the gateway did with a message."""

    accepted: bool
    gateway_id: str = ""
    temporary: bool = False  # worth trying again later
    reason: str = ""

    @classmethod
    def ok(cls, gateway_id: str) -> Outcome:
        return cls(accepted=True, gateway_id=gateway_id)

    @classmethod
    def retry(cls, reason: str) -> Outcome:
        return cls(accepted=False, temporary=True, reason=reason)

    @classmethod
    def refused(cls, reason: str) -> Outcome:
        return cls(accepted=False, temporary=False, reason=reason)


class Gateway:
    name = "gateway"

    def send(self, message: Outgoing) -> Outcome:  # pragma: no cover - an interface
        raise NotImplementedError


class ConsoleGateway(Gateway):
    name = "console"

    def __init__(self, logger):
        self.logger = logger

    def send(self, message: Outgoing) -> Outcome:
        self.logger.info(
            "[sms-broadcast] to=%s ref=%s text=%s",
            log_safe(message.to),
            message.reference,
            message.text,
        )
        return Outcome.ok(f"console-{message.reference}")


class MemoryGateway(Gateway):
    name = "memory"

    def __init__(self, outbox: list):
        self.outbox = outbox

    def send(self, message: Outgoing) -> Outcome:
        self.outbox.append(message)
        return Outcome.ok(f"memory-{message.reference}")


def _post(url: str, body: bytes, content_type: str, timeout: float, headers=None):
    """POST and return (status, body text); HTTP errors come back as their status."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        try:
            text = error.read(4096).decode("utf-8", "replace")
        finally:
            error.close()
        return error.code, text


def _json_object(text: str) -> dict:
    """A gateway's answer as a JSON object ({} for anything else)."""
    try:
        answer = json.loads(text) if text else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _not_accepted(status: int, code) -> Outcome:
    """A message the gateway did not take: 429, 5xx and a 2xx without an id are worth trying
    again; any other answer (4xx: DLT scrubbing, a bad number, bad credentials) is final."""
    reason = str(code or f"HTTP {status}")[:80]
    if status == 429 or status >= 500 or 200 <= status < 300:
        return Outcome.retry(reason)
    return Outcome.refused(reason)


class HttpGateway(Gateway):
    """A JSON gateway (the fake gateway of the tests and the benchmark speaks it)."""

    name = "http"

    def __init__(self, url, api_key, sender_id, entity_id, timeout=10.0):
        self.url, self.api_key = url, api_key
        self.sender_id, self.entity_id, self.timeout = sender_id, entity_id, timeout

    def send(self, message: Outgoing) -> Outcome:
        body = json.dumps(
            {
                "reference": message.reference,
                "to": message.to.lstrip("+"),
                "text": message.text,
                "sender": self.sender_id,
                "entity_id": self.entity_id,
                "template_id": message.template_id,
                "unicode": message.unicode,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        try:
            status, text = _post(
                self.url,
                body,
                "application/json; charset=utf-8",
                self.timeout,
                {"Authorization": f"Bearer {self.api_key}"},
            )
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return Outcome.retry(f"gateway unreachable ({type(error).__name__})")
        answer = _json_object(text)
        if 200 <= status < 300 and answer.get("id"):
            return Outcome.ok(str(answer["id"]))
        return _not_accepted(status, answer.get("code"))


class MsdgGateway(Gateway):
    """The mobile seva gateway's form API (one message a request)."""

    name = "msdg"

    def __init__(self, url, username, password, secure_key, sender_id, timeout=10.0):
        self.url, self.username = url, username
        self.password_sha1 = hashlib.sha1((password or "").encode()).hexdigest()  # noqa: S324
        self.secure_key, self.sender_id, self.timeout = secure_key, sender_id, timeout

    def fields(self, message: Outgoing) -> dict[str, str]:
        """The form fields of one request (``key`` signs username, sender, text and our key)."""
        key = hashlib.sha512(
            (self.username + self.sender_id + message.text + self.secure_key).encode("utf-8")
        ).hexdigest()
        return {
            "username": self.username,
            "password": self.password_sha1,
            "senderid": self.sender_id,
            "content": message.text,
            "smsservicetype": "unicodemsg" if message.unicode else "singlemsg",
            "mobileno": message.to.removeprefix("+91"),
            "key": key,
            "templateid": message.template_id,
        }

    def send(self, message: Outgoing) -> Outcome:
        body = urllib.parse.urlencode(self.fields(message)).encode("utf-8")
        try:
            status, text = _post(
                self.url, body, "application/x-www-form-urlencoded; charset=utf-8", self.timeout
            )
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return Outcome.retry(f"gateway unreachable ({type(error).__name__})")
        # MSDG answers "402,MsgID = <id>" for a message accepted; other codes are refusals.
        text = text.strip()
        if status == 200 and text.startswith("402") and "MsgID" in text:
            return Outcome.ok(text.split("=", 1)[-1].strip()[:64])
        if status == 429 or status >= 500:
            return Outcome.retry(f"HTTP {status}")
        return Outcome.refused((text.split(",", 1)[0] or f"HTTP {status}")[:80])


class ExotelGateway(Gateway):
    """Exotel's SMS API (one message a request), with a signed status callback per message."""

    name = "exotel"

    def __init__(
        self,
        base_url,
        account_sid,
        api_key,
        api_token,
        sender_id,
        entity_id,
        *,
        callback_base="",
        callback_secret="",
        timeout=10.0,
    ):
        self.url = f"{base_url.rstrip('/')}/v1/Accounts/{account_sid}/Sms/send.json"
        pair = f"{api_key}:{api_token}".encode()
        self.authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        self.sender_id, self.entity_id, self.timeout = sender_id, entity_id, timeout
        self.callback_base = (callback_base or "").rstrip("/")
        self.callback_secret = callback_secret or ""

    def status_callback(self, reference: str) -> str:
        """Our delivery-report URL for one message (empty without a base URL or secret)."""
        if not self.callback_base or not self.callback_secret:
            return ""
        query = urllib.parse.urlencode(
            {"ref": reference, "sig": callback_token(self.callback_secret, reference)}
        )
        return f"{self.callback_base}/broadcasts/delivery-reports/exotel?{query}"

    def fields(self, message: Outgoing) -> dict[str, str]:
        fields = {
            "From": self.sender_id,
            "To": message.to,
            "Body": message.text,
            "EncodingType": "unicode" if message.unicode else "plain",
            "DltEntityId": self.entity_id,
            "DltTemplateId": message.template_id,
            "SmsType": "transactional",
            "CustomField": message.reference,
        }
        callback = self.status_callback(message.reference)
        if callback:
            fields["StatusCallback"] = callback
        return fields

    def send(self, message: Outgoing) -> Outcome:
        body = urllib.parse.urlencode(self.fields(message)).encode("utf-8")
        try:
            status, text = _post(
                self.url,
                body,
                "application/x-www-form-urlencoded; charset=utf-8",
                self.timeout,
                {"Authorization": self.authorization, "Accept": "application/json"},
            )
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return Outcome.retry(f"gateway unreachable ({type(error).__name__})")
        answer = _json_object(text)
        sms = answer.get("SMSMessage") if isinstance(answer.get("SMSMessage"), dict) else {}
        if 200 <= status < 300 and sms.get("Sid"):
            return Outcome.ok(str(sms["Sid"])[:64])
        problem = answer.get("RestException")
        problem = problem if isinstance(problem, dict) else {}
        return _not_accepted(status, problem.get("Code") or problem.get("Message"))


def callback_token(secret: str, reference: str) -> str:
    """The token in an Exotel status callback's URL: HMAC-SHA256 of our reference."""
    return hmac.new(secret.encode(), f"exotel:{reference}".encode(), hashlib.sha256).hexdigest()


def callback_token_ok(secret: str, reference: str, token: str) -> bool:
    """True when ``token`` is the callback token of ``reference`` (constant time)."""
    if not secret or not reference:
        return False
    expected = callback_token(secret, reference).encode()
    return hmac.compare_digest(expected, (token or "").encode("utf-8", "replace"))


# What Exotel's status callbacks say (``Status``), in the outbox's words.
EXOTEL_STATES = {
    "submitted": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    "failed-dnd": "failed",
    "undelivered": "failed",
    "expired": "expired",
}


def exotel_report(reference: str, form) -> dict[str, str]:
    """One Exotel status callback (form fields) as a delivery report of the outbox."""
    status = str(form.get("Status") or "").strip().lower()
    return {
        "reference": reference,
        "status": EXOTEL_STATES.get(status, status),
        "id": str(form.get("SmsSid") or "")[:64],
        "reason": str(form.get("DetailedStatus") or form.get("DetailedStatusCode") or "")[:200],
    }


def sent_messages() -> list[Outgoing]:
    """What the ``memory`` gateway sent in this app (tests read it)."""
    return current_app.extensions.setdefault(MEMORY_KEY, [])


def from_config(app) -> Gateway:
    """The gateway ``SMS_BROADCAST_BACKEND`` names, configured."""
    config = app.config
    backend = config.get("SMS_BROADCAST_BACKEND", "console")
    sender = str(config.get("SMS_SENDER_ID") or "")
    timeout = float(config.get("SMS_BROADCAST_TIMEOUT", 10))
    if backend == "console":
        return ConsoleGateway(app.logger)
    if backend == "memory":
        return MemoryGateway(app.extensions.setdefault(MEMORY_KEY, []))
    if backend == "http":
        return HttpGateway(
            config["SMS_BROADCAST_URL"],
            config.get("SMS_BROADCAST_API_KEY") or "",
            sender,
            str(config.get("SMS_DLT_ENTITY_ID") or ""),
            timeout,
        )
    if backend == "msdg":
        return MsdgGateway(
            config["SMS_BROADCAST_URL"],
            config.get("SMS_MSDG_USERNAME") or "",
            config.get("SMS_MSDG_PASSWORD") or "",
            config.get("SMS_MSDG_SECURE_KEY") or "",
            sender,
            timeout,
        )
    if backend == "exotel":
        return ExotelGateway(
            config["SMS_BROADCAST_URL"],
            config.get("SMS_EXOTEL_ACCOUNT_SID") or "",
            config.get("SMS_BROADCAST_API_KEY") or "",
            config.get("SMS_EXOTEL_API_TOKEN") or "",
            sender,
            str(config.get("SMS_DLT_ENTITY_ID") or ""),
            callback_base=str(config.get("SMS_CALLBACK_BASE_URL") or ""),
            callback_secret=str(config.get("SMS_DLR_SECRET") or ""),
            timeout=timeout,
        )
    raise ValueError(f"unknown SMS_BROADCAST_BACKEND {backend!r}")
