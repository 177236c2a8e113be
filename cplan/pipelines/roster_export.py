"""Station group lists: a station's or one village's *active* contacts as CSV, XLSX or vCard.

For the station WhatsApp group and the phone of the officer who runs it. Posts with
EXPORT_ROSTER (SHO, ASP, SP office) export within their subtree; confidential contacts are left
out unless the post has VIEW_CONFIDENTIAL. The export carries full numbers (that is its
purpose), so it needs a stated reason and writes one ``roster.exported`` audit event (format,
scope, row count, reason; never names or numbers) in the same transaction.

Every format carries full numbers, so each export counts against the officer's daily limit
(``FULL_NUMBER_EXPORTS_PER_DAY``, 3 by default, per officer whatever post they act through,
per IST calendar day), kept in ``daily_export_counts`` and raised by a conditional UPDATE so two
exports at once cannot both take the last one. A refused export raises ``ExportLimitReached``;
the view records it as ``roster.export_refused``. The SP office sees both kinds of event on the
audit trail's "Exports with full numbers" page (``recent_exports``).

Spreadsheet formula injection: a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is a formula to Excel and LibreOffice. In CSV such a cell gets a leading
apostrophe (the OWASP advice). Phone numbers are E.164 and start with ``+``: a spreadsheet would
read ``+919876543210`` as the number 919876543210 (shown as 9.19877E+11), so they get the
apostrophe too and stay text. In XLSX every cell is written as a string cell (type ``s``), which
no spreadsheet evaluates. Nothing is written to disk: the caller sends the bytes as a download.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from cplan.extensions import db
from cplan.formats import IST, file_name_stamp, ist_day
from cplan.models.accounts import DailyExportCount
from cplan.models.audit import AuditEvent
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.roster import Contact, ContactStatus
from cplan.pipelines.roster_import import category_name
from cplan.pipelines.tables import CSV_MIMETYPE, XLSX_MIMETYPE, csv_file
from cplan.services import audit, roster
from cplan.services.errors import DomainError, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

DEFAULT_DAILY_LIMIT = 3
FORMATS = ("csv", "xlsx", "vcf")
MIMETYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE, "vcf": "text/vcard; charset=utf-8"}
REASONS = {
    "whatsapp_group": _l("Station WhatsApp group"),
    "election": _l("Election preparation"),
    "law_and_order": _l("Law-and-order situation or rumour"),
    "verification": _l("Re-verification of the roster"),
    "other": _l("Other (explain below)"),
}
MIN_NOTE_LENGTH = 5
MAX_NOTE_LENGTH = 200
VCARD_LINE_OCTETS = 75
# Characters an XLSX file cannot hold (control characters other than tab, LF and CR).
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_VCARD_ESCAPES = str.maketrans({"\\": "\\\\", ",": "\\,", ";": "\\;", "\n": "\\n", "\r": ""})


class ExportError(DomainError):
    """The export was refused; the message says why (translatable)."""


class ExportLimitReached(ExportError):
    """The officer has used today's exports with full numbers."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            _l(
                "You have made %(limit)s exports with full numbers today, the most allowed per "
                "officer in a day. You can export again after midnight; your SP office sees every "
                "export.",
                limit=limit,
            )
        )


@dataclass
class ExportFile:
    """A finished export, ready to send as an attachment."""

    filename: str
    mimetype: str
    content: bytes
    rows: int


# ---- what is exported ------------------------------------------------------------------------


def stations_in_scope(principal: Principal) -> list[Unit]:
    """The stations whose list the post may export (a station post: its own)."""
    unit = principal.unit
    if unit.kind == UnitKind.STATION:
        return [unit]
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.STATION, unit.covers(Unit.path))
            .order_by(Unit.name_en)
        )
    )


def station_in_scope(principal: Principal, station_id: int) -> Unit:
    station = db.session.scalar(
        select(Unit).where(
            Unit.id == station_id, Unit.kind == UnitKind.STATION, principal.unit.covers(Unit.path)
        )
    )
    if station is None:
        raise NotInScope()
    return station


def place_in_scope(principal: Principal, place_id: int) -> Place:
    place = db.session.scalar(
        select(Place).where(
            Place.id == place_id,
            Place.station_id.is_not(None),
            principal.unit.covers(Place.unit_path),
        )
    )
    if place is None:
        raise NotInScope()
    return place


def place_with_code(principal: Principal, station: Unit, lgd_code: str) -> Place | None:
    """The place of ``station`` with this LGD code, within the principal's subtree."""
    return db.session.scalar(
        select(Place).where(
            Place.lgd_code == lgd_code.strip(),
            Place.station_id == station.id,
            principal.unit.covers(Place.unit_path),
        )
    )


def active_contacts(
    principal: Principal, station: Unit | None = None, place: Place | None = None
) -> list[Contact]:
    """The active contacts of a station or a place that the post may see, by place then name."""
    query = (
        select(Contact)
        .join(Contact.place)
        .options(joinedload(Contact.place))
        .where(
            Contact.status == ContactStatus.ACTIVE,
            Contact.erased_at.is_(None),
            Contact.mobile.is_not(None),
            roster.visible_condition(principal),
        )
    )
    if place is not None:
        query = query.where(Contact.place_id == place.id)
    else:
        query = query.where(station.covers(Contact.unit_path))
    return list(
        db.session.scalars(query.order_by(Place.name_en, Place.id, Contact.name, Contact.id))
    )


# ---- the export ----------------------------------------------------------------------------


def export(
    principal: Principal,
    file_format: str,
    reason: str,
    note: str,
    *,
    station: Unit | None = None,
    place: Place | None = None,
    language: str = "en",
) -> ExportFile:
    """Build the file and write the audit event (flush only). ``station`` or ``place`` is the scope,
    already loaded through ``station_in_scope`` / ``place_in_scope``."""
    if not principal.can(Permission.EXPORT_ROSTER):
        raise ExportError(_l("Your post cannot export contact lists."))
    if file_format not in FORMATS:
        raise ExportError(_l("Choose a file format."))
    note = " ".join((note or "").split())
    if reason not in REASONS:
        raise ExportError(_l("Choose the reason for this export."))
    if len(note) < MIN_NOTE_LENGTH:
        raise ExportError(_l("Say in a few words why you need this list."))
    if (station is None) == (place is None):
        raise ExportError(_l("Choose a police station or a place."))
    target = place if place is not None else station
    if not principal.unit.contains_path(place.unit_path if place is not None else station.path):
        raise NotInScope()
    take_daily_export(principal)
    contacts = active_contacts(principal, station=station, place=place)
    writer = {"csv": to_csv, "xlsx": to_xlsx, "vcf": to_vcard}[file_format]
    content = writer(contacts, language)
    code = (
        (place.lgd_code or f"place{place.id}")
        if place is not None
        else (station.code or f"station{station.id}")
    )
    safe_code = re.sub(r"[^A-Za-z0-9_-]+", "-", code).strip("-") or "list"
    filename = f"cplan-{safe_code}-{file_name_stamp(utcnow())}.{file_format}"
    audit.record(
        "roster.exported",
        actor=principal,
        target=target,
        detail={
            "format": file_format,
            "scope": "place" if place is not None else "station",
            "rows": len(contacts),
            "reason": reason,
            "note": audit.redact_mobiles(note[:MAX_NOTE_LENGTH]),
            "confidential_included": principal.can(Permission.VIEW_CONFIDENTIAL),
        },
    )
    return ExportFile(filename, MIMETYPES[file_format], content, len(contacts))


# ---- the daily limit -----------------------------------------------------------------------


def daily_limit() -> int:
    """Exports with full numbers allowed per officer per IST day (config)."""
    return max(0, int(current_app.config.get("FULL_NUMBER_EXPORTS_PER_DAY", DEFAULT_DAILY_LIMIT)))


def take_daily_export(principal: Principal, now: datetime | None = None) -> int:
    """Count one export against the officer's limit for today; returns how many are left.

    Raises ``ExportLimitReached`` when none is left. Flush only: a refused or failed export
    rolls back with its transaction and costs nothing.
    """
    limit = daily_limit()
    officer_id, day = principal.officer.id, ist_day(now or utcnow())
    table = DailyExportCount.__table__
    insert = (
        postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    db.session.execute(
        insert(table).values(officer_id=officer_id, day=day, exports=0).on_conflict_do_nothing()
    )
    taken = db.session.execute(
        update(table)
        .where(table.c.officer_id == officer_id, table.c.day == day, table.c.exports < limit)
        .values(exports=table.c.exports + 1)
    ).rowcount
    if taken != 1:
        raise ExportLimitReached(limit)
    used = db.session.scalar(
        select(table.c.exports).where(table.c.officer_id == officer_id, table.c.day == day)
    )
    return limit - used


def exports_left_today(principal: Principal) -> int:
    """How many exports with full numbers the officer may still make today."""
    used = (
        db.session.scalar(
            select(DailyExportCount.exports).where(
                DailyExportCount.officer_id == principal.officer.id,
                DailyExportCount.day == ist_day(utcnow()),
            )
        )
        or 0
    )
    return max(0, daily_limit() - used)


# ---- what the SP office sees ------------------------------------------------------------------

EXPORT_ACTIONS = ("roster.exported", "roster.export_refused")


@dataclass
class ExportSummary:
    """Exports with full numbers made (and refused) today in a jurisdiction."""

    exports: int = 0
    rows: int = 0
    officers: int = 0
    refused: int = 0


def export_events(principal: Principal, pno: str | None = None) -> Select:
    """Audit events of exports with full numbers, and of refused ones, in ``principal``'s
    subtree."""
    query = audit.events_in_scope(principal, pno=pno or None)
    return query.where(AuditEvent.action.in_(EXPORT_ACTIONS))


def today_summary(principal: Principal, now: datetime | None = None) -> ExportSummary:
    """Today's (IST) exports in ``principal``'s subtree: how many, how many contacts, by how many
    officers."""
    midnight = datetime.combine(ist_day(now or utcnow()), time.min, tzinfo=IST)
    summary = ExportSummary()
    officers = set()
    for event in db.session.scalars(
        export_events(principal).where(AuditEvent.occurred_at >= midnight)
    ):
        if event.action == "roster.export_refused":
            summary.refused += 1
            continue
        summary.exports += 1
        summary.rows += int(event.detail_data.get("rows") or 0)
        officers.add(event.officer_id)
    summary.officers = len(officers)
    return summary


# ---- the three formats ---------------------------------------------------------------------

HEADERS = {
    "en": [
        "place_lgd_code",
        "place",
        "name",
        "name_other_script",
        "mobile",
        "mobile_alt",
        "whatsapp",
        "category",
        "address",
    ],
    "hi": [
        "स्थान एलजीडी कोड",
        "स्थान",
        "नाम",
        "दूसरी लिपि में नाम",
        "मोबाइल",
        "वैकल्पिक मोबाइल",
        "व्हाट्सऐप",
        "श्रेणी",
        "पता",
    ],
}


def _other_name(contact: Contact, language: str) -> str:
    shown = contact.display_name(language)
    return contact.name if shown != contact.name else contact.name_other


def rows_of(contacts: list[Contact], language: str) -> list[list[str]]:
    """The table every spreadsheet format writes: one row of text per contact."""
    yes, no = ("हाँ", "नहीं") if language == "hi" else ("yes", "no")
    return [
        [
            contact.place.lgd_code or "",
            contact.place.display_name(language),
            contact.display_name(language),
            _other_name(contact, language),
            contact.mobile or "",
            contact.mobile_alt or "",
            yes if contact.whatsapp else no,
            category_name(contact.category, language),
            contact.address or "",
        ]
        for contact in contacts
    ]


def to_csv(contacts: list[Contact], language: str = "en") -> bytes:
    return csv_file(HEADERS.get(language, HEADERS["en"]), rows_of(contacts, language))


def to_xlsx(contacts: list[Contact], language: str = "en") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "contacts" if language != "hi" else "संपर्क"
    for row_number, row in enumerate(
        [HEADERS.get(language, HEADERS["en"]), *rows_of(contacts, language)], start=1
    ):
        for column_number, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            cell.value = _ILLEGAL_XLSX.sub("", value or "")
            # openpyxl makes "=..." a formula cell; a string cell is never evaluated.
            cell.data_type = "s"
            cell.number_format = "@"
            if row_number == 1:
                cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHI", (12, 20, 24, 24, 16, 16, 9, 22, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def vcard_escape(value: str) -> str:
    """Escape a vCard 3.0 text value (RFC 2426: backslash, comma, semicolon, newline)."""
    return (value or "").translate(_VCARD_ESCAPES)


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuation lines start with a space), never inside
    a UTF-8 character."""
    encoded_length = len(line.encode("utf-8"))
    if encoded_length <= VCARD_LINE_OCTETS:
        return line
    parts, current, size = [], "", 0
    limit = VCARD_LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
            limit = VCARD_LINE_OCTETS - 1  # the leading space counts
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _name_parts(name: str) -> tuple[str, str]:
    """(family, given): the last word is taken as the family name, as on most Indian names."""
    words = name.split()
    if len(words) < 2:
        return "", name
    return words[-1], " ".join(words[:-1])


def to_vcard(contacts: list[Contact], language: str = "en") -> bytes:
    """vCard 3.0, one card per contact: the name in the reader's script with the other in
    brackets, the mobile (and alternate) as cell numbers, a note with place and category."""
    lines: list[str] = []
    for contact in contacts:
        shown = contact.display_name(language)
        other = _other_name(contact, language)
        family, given = _name_parts(shown)
        full = f"{shown} ({other})" if other and other != shown else shown
        place = contact.place.display_name(language)
        note = f"{place} · {category_name(contact.category, language)}"
        if contact.place.lgd_code:
            note += f" · LGD {contact.place.lgd_code}"
        card = [
            "BEGIN:VCARD",
            "VERSION:3.0",
            f"N:{vcard_escape(family)};{vcard_escape(given)};;;",
            f"FN:{vcard_escape(full)}",
            f"TEL;TYPE=CELL:{contact.mobile}",
        ]
        if contact.mobile_alt:
            card.append(f"TEL;TYPE=CELL:{contact.mobile_alt}")
        card += [f"NOTE:{vcard_escape(note)}", "CATEGORIES:C-Plan", "END:VCARD"]
        lines += [fold(line) for line in card]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8") if lines else b""
