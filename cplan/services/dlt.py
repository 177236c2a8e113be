"""The DLT registry: building a message only from a registered template, exactly.

An Indian operator blocks any SMS whose text differs from the template registered on TRAI's DLT
platform under the sender's entity id and header, even by one space. So a message is never
typed: it is ``build(template, values)``, which checks every value against its slot's type
(number, text, URL, callback number, date), its length (at most 30 characters), and URLs and
callback numbers against the entity's whitelist; then ``check_matches`` proves the result
matches the registered text before anything is queued. ``encoding`` and ``segments`` say what
the operator will bill: one Devanagari letter makes the whole message UCS-2 (70 characters, 67
a part when split), else GSM-7 (160, 153).

The templates the code itself sends (the sign-in code and the security notices in
``cplan.services.sms.TEMPLATES``) are rows of the registry too: ``sync_system_templates``
writes them with the code's exact text, and ``sms.send_template`` takes their DLT id from here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cplan.extensions import db
from cplan.models.messages import (
    DltEntity,
    DltHeader,
    DltTemplate,
    DltWhitelistEntry,
    HeaderCategory,
    TemplateCategory,
    VariableType,
    WhitelistKind,
)
from cplan.services import audit, sms
from cplan.services.errors import DomainError
from cplan.services.principal import Principal

SLOT = sms.SLOT
MAX_VALUE_LENGTH = sms.MAX_VALUE_LENGTH
MAX_VARIABLES = 5
GSM7 = "GSM-7"
UCS2 = "UCS-2"

_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DATE = re.compile(
    r"(?:[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}|[0-9]{1,2} (?:" + _MONTHS + r") [0-9]{4})"
    r"(?: [0-9]{1,2}:[0-9]{2})?"
)
_URL = re.compile(r"https?://[^\s]+")
_URL_INSIDE = re.compile(r"(?i)https?://|www\.")
_CALLBACK = re.compile(r"\+?[0-9]{3,15}")
_CALLBACK_SEPARATORS = re.compile(r"[\s\-]")
_SENDER_ID = re.compile(r"[A-Z]{6}")
_TEMPLATE_ID = re.compile(r"[0-9]{10,25}")
_NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")


class TemplateRefused(DomainError):
    """A template or a message was refused by a DLT rule; nothing was queued or saved.

    ``position`` is the 1-based variable the refusal is about, when it is about one.
    """

    def __init__(self, message, *, position: int | None = None):
        super().__init__(message)
        self.position = position
        # The form field a page shows the refusal beside (``cplan.web.kit.field_error``).
        self.field = f"value_{position}" if position else None


@dataclass(frozen=True)
class BuiltMessage:
    """A message built from a registered template: the final text and what it will cost."""

    template: DltTemplate
    values: tuple[str, ...]
    text: str

    @property
    def encoding(self) -> str:
        return encoding(self.text)

    @property
    def segments(self) -> int:
        return segments(self.text)

    @property
    def length(self) -> int:
        return len(self.text)


def encoding(text: str) -> str:
    """``UCS-2`` when any character is outside the GSM 7-bit alphabet (Devanagari is), else
    ``GSM-7``."""
    return UCS2 if sms.needs_unicode(text) else GSM7


def segments(text: str) -> int:
    """How many parts the operator bills: 160/153 GSM-7 septets, or 70/67 UCS-2 units."""
    return sms.segment_count(text)


# ---- building and checking messages -----------------------------------------------------------


def whitelist(kind: WhitelistKind) -> list[str]:
    """The whitelisted values of ``kind`` (URL prefixes, or callback numbers)."""
    return list(
        db.session.scalars(select(DltWhitelistEntry.value).where(DltWhitelistEntry.kind == kind))
    )


def normalise_callback(value: str) -> str:
    """A callback number without spaces or dashes (``0121-2345678`` -> ``01212345678``)."""
    return _CALLBACK_SEPARATORS.sub("", value or "")


def _url_whitelisted(value: str, prefixes: list[str]) -> bool:
    for prefix in prefixes:
        base = prefix.rstrip("/")
        if value == prefix or value == base or value.startswith(base + "/"):
            return True
    return False


def check_value(
    kind: VariableType,
    value: str,
    position: int,
    *,
    urls: list[str] | None = None,
    callbacks: list[str] | None = None,
) -> str:
    """``value`` if it may fill a slot of ``kind``, else ``TemplateRefused`` saying why."""
    value = "" if value is None else str(value)
    if not value.strip():
        raise TemplateRefused(_l("Value %(n)d is empty.", n=position), position=position)
    if value != value.strip():
        raise TemplateRefused(
            _l("Value %(n)d begins or ends with a space.", n=position), position=position
        )
    if len(value) > MAX_VALUE_LENGTH:
        raise TemplateRefused(
            _l(
                "Value %(n)d has %(length)d characters; DLT allows at most %(limit)d.",
                n=position,
                length=len(value),
                limit=MAX_VALUE_LENGTH,
            ),
            position=position,
        )
    if not sms.is_safe_text(value):
        raise TemplateRefused(
            _l("Value %(n)d holds a line break, a control character or '{#'.", n=position),
            position=position,
        )
    if kind == VariableType.NUMBER and not _NUMBER.fullmatch(value):
        raise TemplateRefused(
            _l("Value %(n)d must be a number (digits 0-9).", n=position), position=position
        )
    if kind == VariableType.DATE and not _DATE.fullmatch(value):
        raise TemplateRefused(
            _l("Value %(n)d must be a date such as 12-02-2026 or 12 Feb 2026.", n=position),
            position=position,
        )
    if kind == VariableType.TEXT and _URL_INSIDE.search(value):
        raise TemplateRefused(
            _l("Value %(n)d is text: a link needs a URL variable.", n=position), position=position
        )
    if kind == VariableType.URL:
        prefixes = whitelist(WhitelistKind.URL) if urls is None else urls
        if not _URL.fullmatch(value) or not _url_whitelisted(value, prefixes):
            raise TemplateRefused(
                _l("Value %(n)d is not a whitelisted link.", n=position), position=position
            )
    if kind == VariableType.CALLBACK:
        numbers = whitelist(WhitelistKind.CALLBACK) if callbacks is None else callbacks
        wanted = normalise_callback(value)
        if not _CALLBACK.fullmatch(wanted) or wanted not in {
            normalise_callback(number) for number in numbers
        }:
            raise TemplateRefused(
                _l("Value %(n)d is not a whitelisted callback number.", n=position),
                position=position,
            )
    return value


def build(template: DltTemplate, values) -> BuiltMessage:
    """The message ``template`` makes with ``values`` (one per slot, in order), checked."""
    values = tuple("" if value is None else str(value) for value in values)
    types = template.types
    if len(values) != len(types):
        raise TemplateRefused(
            _l(
                "This template takes %(slots)d value(s); %(given)d given.",
                slots=len(types),
                given=len(values),
            )
        )
    urls = whitelist(WhitelistKind.URL) if VariableType.URL in types else []
    callbacks = whitelist(WhitelistKind.CALLBACK) if VariableType.CALLBACK in types else []
    checked = [
        check_value(kind, value, position, urls=urls, callbacks=callbacks)
        for position, (kind, value) in enumerate(zip(types, values, strict=True), start=1)
    ]
    pieces = template.text.split(SLOT)
    out = [pieces[0]]
    for value, piece in zip(checked, pieces[1:], strict=True):
        out.extend((value, piece))
    text = "".join(out)
    check_matches(template, text)
    return BuiltMessage(template=template, values=values, text=text)


def template_pattern(text: str) -> re.Pattern:
    """The registered ``text`` as a pattern: its literal parts exactly, each slot 1-30
    characters of one line."""
    pieces = [re.escape(piece) for piece in text.split(SLOT)]
    return re.compile(f"(.{{1,{MAX_VALUE_LENGTH}}})".join(pieces))


def check_matches(template: DltTemplate, text: str) -> None:
    """Refuse ``text`` unless it is the registered text with its slots filled (whitespace,
    punctuation and case exactly as registered), as the operator's scrubbing would."""
    match = template_pattern(template.text).fullmatch(text)
    if match is None or any(SLOT in value for value in match.groups()):
        raise TemplateRefused(_l("The message does not match its registered DLT template."))


def preview_text(template: DltTemplate) -> str:
    """The registered text with each slot named by its type ("{#text#}"), for choosing."""
    pieces = template.text.split(SLOT)
    out = [pieces[0]]
    for kind, piece in zip(template.types, pieces[1:], strict=False):
        out.extend((f"{{#{kind.value}#}}", piece))
    return "".join(out)


# ---- the registry -----------------------------------------------------------------------------


def ensure_entity(entity_id: str, name: str = "") -> DltEntity:
    """The entity with this DLT entity id, created when missing."""
    entity_id = str(entity_id).strip()
    if not re.fullmatch(r"[0-9]{10,25}", entity_id):
        raise TemplateRefused(_l("A DLT entity id is 10 to 25 digits."))
    entity = db.session.scalar(select(DltEntity).where(DltEntity.entity_id == entity_id))
    if entity is None:
        entity = DltEntity(entity_id=entity_id, name=name)
        db.session.add(entity)
        db.session.flush()
        audit.record("dlt.entity_added", target=entity, detail={"entity_id": entity_id})
    return entity


def ensure_header(
    entity: DltEntity, sender_id: str, category: HeaderCategory = HeaderCategory.GOVERNMENT
) -> DltHeader:
    """The header ``sender_id`` (six capital letters) of ``entity``, created when missing."""
    sender_id = (sender_id or "").strip().upper()
    if not _SENDER_ID.fullmatch(sender_id):
        raise TemplateRefused(_l("A sender header is six letters A-Z."))
    header = db.session.scalar(select(DltHeader).where(DltHeader.sender_id == sender_id))
    if header is None:
        header = DltHeader(entity=entity, sender_id=sender_id, category=HeaderCategory(category))
        db.session.add(header)
        db.session.flush()
        audit.record(
            "dlt.header_added",
            target=header,
            detail={"sender_id": sender_id, "category": header.category.value},
        )
    return header


def check_registered_text(text: str, variable_types) -> list[VariableType]:
    """The variable types if ``text`` could be registered with them, else ``TemplateRefused``."""
    types = [VariableType(kind) for kind in variable_types]
    if not text or not text.strip():
        raise TemplateRefused(_l("A template needs a text."))
    slots = text.count(SLOT)
    if slots != len(types):
        raise TemplateRefused(
            _l(
                "The text has %(slots)d {#var#} slot(s) but %(types)d type(s) are given.",
                slots=slots,
                types=len(types),
            )
        )
    if slots > MAX_VARIABLES:
        raise TemplateRefused(_l("A template may have at most %(n)d variables.", n=MAX_VARIABLES))
    between = text.split(SLOT)[1:-1]
    if any(not piece.strip() for piece in between):
        raise TemplateRefused(_l("Two {#var#} slots may not be next to each other."))
    if "{#" in text.replace(SLOT, ""):
        raise TemplateRefused(_l("The only slot DLT knows is {#var#}."))
    return types


def register_template(
    header: DltHeader,
    *,
    name: str,
    language: str,
    text: str,
    variable_types,
    category: TemplateCategory,
    template_id: str | None,
    title: str = "",
    system: bool = False,
    actor: Principal | None = None,
) -> DltTemplate:
    """Add a registered template, or update the one of that name and language."""
    if not _NAME.fullmatch(name or ""):
        raise TemplateRefused(_l("A template's name is lowercase letters, digits and _."))
    if language not in sms.LANGUAGES:
        raise TemplateRefused(_l("A template's language is English or Hindi."))
    if template_id is not None and not _TEMPLATE_ID.fullmatch(str(template_id)):
        raise TemplateRefused(_l("A DLT template id is 10 to 25 digits."))
    types = check_registered_text(text, variable_types)
    template = db.session.scalar(
        select(DltTemplate).where(DltTemplate.name == name, DltTemplate.language == language)
    )
    created = template is None
    if created:
        template = DltTemplate(name=name, language=language)
        db.session.add(template)
    template.header = header
    template.text = text
    template.variable_types = json.dumps([kind.value for kind in types])
    template.category = TemplateCategory(category)
    template.template_id = str(template_id) if template_id else None
    template.title = title
    template.system = system
    template.active = True
    db.session.flush()
    audit.record(
        "dlt.template_registered" if created else "dlt.template_updated",
        actor=actor,
        target=template,
        detail={"name": name, "language": language, "template_id": template.template_id},
    )
    return template


def add_whitelisted(entity: DltEntity, kind: WhitelistKind, value: str) -> DltWhitelistEntry:
    """Whitelist a URL prefix or a callback number for ``entity`` (idempotent)."""
    kind = WhitelistKind(kind)
    value = (value or "").strip()
    if kind == WhitelistKind.URL and not _URL.fullmatch(value):
        raise TemplateRefused(_l("A whitelisted link starts with https:// or http://."))
    if kind == WhitelistKind.CALLBACK:
        value = normalise_callback(value)
        if not _CALLBACK.fullmatch(value):
            raise TemplateRefused(_l("A callback number is 3 to 15 digits."))
    entry = db.session.scalar(
        select(DltWhitelistEntry).where(
            DltWhitelistEntry.kind == kind, DltWhitelistEntry.value == value
        )
    )
    if entry is None:
        entry = DltWhitelistEntry(entity=entity, kind=kind, value=value)
        db.session.add(entry)
        db.session.flush()
        audit.record("dlt.whitelisted", target=entry, detail={"kind": kind.value})
    return entry


def sync_system_templates(entity_id: str, sender_id: str, config) -> list[DltTemplate]:
    """Write the templates the code sends (``sms.TEMPLATES``) into the registry with the code's
    exact text, their DLT ids taken from configuration (``SMS_TEMPLATE_OTP_ID``...)."""
    entity = ensure_entity(entity_id)
    header = ensure_header(entity, sender_id)
    written = []
    for template in sms.TEMPLATES.values():
        for language, text in template.texts.items():
            written.append(
                register_template(
                    header,
                    name=template.name,
                    language=language,
                    text=text,
                    variable_types=template.variables,
                    category=TemplateCategory.SERVICE_IMPLICIT,
                    template_id=config.get(template.id_keys[language]) or None,
                    title=template.name,
                    system=True,
                )
            )
    return written


def broadcast_templates() -> list[DltTemplate]:
    """The templates a broadcast may use: registered (with an id), active, not the code's."""
    return list(
        db.session.scalars(
            select(DltTemplate)
            .where(
                DltTemplate.system.is_(False),
                DltTemplate.active.is_(True),
                DltTemplate.template_id.is_not(None),
            )
            .order_by(DltTemplate.name, DltTemplate.language)
        )
    )
