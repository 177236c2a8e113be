"""A WhatsApp group's members read from what the admin's phone gives, and its files out.

In (``read_upload``, ``read_paste``): whatever is uploaded or pasted becomes a list of
``Member`` entries (``cplan.services.whatsapp_groups``), each with its Indian numbers
normalised to +91 by ``cplan.services.phone.normalise_mobile``, international numbers kept as
written, and a name where the source has one. Four sources:

- **numbers pasted** (one member a line; a line of several numbers and no name is several
  members; a line with a name and a number is one member), or the same as a ``.txt`` file;
- **a CSV** (UTF-8, read by ``cplan.pipelines.uploads``): every cell that is a mobile number is
  a number of the row's member, the first other cell its name; a first row without a number is
  a header and skipped;
- **a vCard file** (``.vcf``; versions 2.1, 3.0 and 4.0): folded lines (a line starting with a
  space or tab continues the previous one) and quoted-printable soft line breaks (a line ending
  in ``=``) are unfolded; ``item1.TEL``-style groups, ``TEL;CELL;PREF`` (2.1), ``TEL;TYPE=cell``
  (3.0) and ``TEL;VALUE=uri:tel:+91...`` (4.0) are read; QUOTED-PRINTABLE names are decoded in
  their CHARSET. One card is one member with all its numbers;
- **the group's chat export** (``.txt``, "Export chat" without media) from Android
  (``12/03/24, 10:15 pm - Name: text``) or iPhone (``[12/03/24, 10:15:32 PM] Name: text``), with
  the phone in English or Hindi: dates dd/mm/yy or mm/dd/yy (two- or four-digit years; the order
  is the one the dates prove, a day above 12, and dd/mm when none does), 12- or 24-hour times
  (AM/PM, ``पूर्वाह्न``/``अपराह्न``), the invisible marks phones put in (U+200E, U+202F...) and
  the "~" before the name of a sender who is not in the phone's contacts. Members are replayed
  in the file's order: a sender, someone added, or someone who joined by the invite link is in
  the group; someone who left or was removed is out until seen again. The system lines read are
  "X added A, B and C", "X removed A", "A left", "A joined using this group's invite link",
  "X created group ..." and their Hindi forms "X ने A को जोड़ा", "X ने A को हटाया",
  "A ने ग्रुप छोड़ दिया", "A इस ग्रुप के आमंत्रण लिंक से जुड़े", "X ने ग्रुप ... बनाया".
  Members appear as their number (not in the admin's contacts) or their saved name.

A file is recognised by its name and then its content (a ZIP, an image or a PDF is refused
saying what it looks like). Limits: ``MAX_FILE_BYTES`` and ``MAX_ENTRIES`` entries (CSV rows,
cards, lines of numbers); a file that cannot be read, or that holds no member at all, is refused
with a message and nothing is saved.

Out: the vCard of a reconciliation's missing contacts and of one planned group, and the split's
plan as CSV; both vCards are exports with full numbers (``cplan.pipelines.roster_export``: the
same file, the same daily limit, an audit event).
"""

from __future__ import annotations

import quopri
import re
from datetime import date

from flask_babel import lazy_gettext as _l

from cplan.formats import file_name_stamp
from cplan.models.base import utcnow
from cplan.models.whatsapp import GroupReconciliation
from cplan.pipelines import roster_export, uploads
from cplan.pipelines.roster_export import ExportFile
from cplan.pipelines.tables import CSV_MIMETYPE, csv_file
from cplan.services import audit
from cplan.services.errors import DomainError
from cplan.services.phone import DEVANAGARI_DIGITS, InvalidMobile, normalise_mobile
from cplan.services.principal import Principal
from cplan.services.whatsapp_groups import (
    Member,
    MemberList,
    SplitPlan,
    planned_group_contacts,
)

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_PASTE_CHARS = 200_000
NAME_LENGTH = 120
EXTENSIONS = {"txt": "text", "csv": "csv", "vcf": "vcf", "vcard": "vcf"}

# Invisible marks phones write around names, numbers and times, and spaces that are not spaces.
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_CLEAN = str.maketrans(
    {
        **dict.fromkeys(map(ord, _MARKS), None),
        **dict.fromkeys(map(ord, "\u00a0\u2007\u2009\u202f"), " "),
        0x2011: "-",
        **{ord(digit): ascii for digit, ascii in zip("०१२३४५६७८९", "0123456789", strict=True)},
    }
)
_SPACES = str.maketrans(dict.fromkeys(map(ord, "\u00a0\u2007\u2009\u202f"), " "))
# Something written like a phone number: a leading + or 00, then digits with the separators
# people and phones use. At least eight digits, so that times and dates are not numbers.
_NUMBER = re.compile(r"(?:\+|\b00)?[0-9](?:[ \-().]?[0-9]){7,15}")
_HALF_DAY = r"(?:[AaPp]\.? ?[Mm]\.?|[\u0900-\u097f]+)"
_DATE = r"(?P<date>[0-9]{1,4}[/.\-][0-9]{1,2}[/.\-][0-9]{1,4})"
_TIME = r"(?P<time>[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2})?)(?: ?(?P<half>" + _HALF_DAY + "))?"
_ANDROID = re.compile(r"^" + _DATE + r",? " + _TIME + r" [-–] (?P<rest>.*)$")
_IPHONE = re.compile(r"^\u200e?\[" + _DATE + r",? " + _TIME + r"\] ?(?P<rest>.*)$")
_YOU = {"you", "आप", "आपको", "आपने"}

# System lines: (pattern, what happens to the named members). ``t`` names the members.
_SPLIT_NAMES = re.compile(r",\s*|\s+and\s+|\s+और\s+|\s+तथा\s+")
_EVENTS = [
    (re.compile(r"^(?:.+? ने|आपने) (?P<t>.+?) को (?:जोड़ा|जोड़ दिया|जोड़ लिया|ऐड किया)(?: है)?$"), True),
    (
        re.compile(r"^(?:.+? ने|आपने) (?P<t>.+?) को (?:हटाया|हटा दिया|निकाला|निकाल दिया)(?: है)?$"),
        False,
    ),
    (re.compile(r"^(?P<t>.+?) (?:ने )?(?:(?:यह|इस) )?(?:ग्रुप|समूह) छोड़ (?:दिया|दी)(?: है)?$"), False),
    (re.compile(r"^(?P<t>.+?) (?:ने )?छोड़ (?:दिया|दी)(?: है)?$"), False),
    (re.compile(r"^(?P<t>.+?) (?:ने )?(?:इस )?(?:ग्रुप|समूह)(?: के| की)? .*लिंक .*$"), True),
    (re.compile(r"^(?P<t>.+?) (?:जुड़े|जुड़ गए|शामिल हुए|शामिल हो गए)(?: हैं| है)?$"), True),
    (re.compile(r"^(?P<t>.+?) ने (?:ग्रुप|समूह) .*बनाया(?: है)?$"), True),
    (re.compile(r"^(?:.+?) added (?P<t>.+)$"), True),
    (re.compile(r"^(?:.+?) removed (?P<t>.+)$"), False),
    (re.compile(r"^(?P<t>.+?) left$"), False),
    (re.compile(r"^(?P<t>.+?) joined using (?:this|the) group['’]?s invite link$"), True),
    (re.compile(r"^(?P<t>.+?) joined(?: from the community| via invite link)?$"), True),
    (re.compile(r"^(?P<t>.+?) (?:was|were) added$"), True),
    (re.compile(r"^(?P<t>.+?) (?:was|were) removed$"), False),
    (re.compile(r"^(?P<t>.+?) created (?:group|this group)\b.*$"), True),
]


class MemberFileError(DomainError):
    """The upload cannot be read; the message says why (translatable) and nothing is saved."""

    def __init__(self, message, field: str = "file"):
        super().__init__(message)
        self.field = field


# ---- one entry -------------------------------------------------------------------------------


def _clean_name(text: str) -> str:
    name = " ".join(text.translate(_CLEAN).split())
    return name.lstrip("~").strip().strip("\"'“”").strip()[:NAME_LENGTH]


def _number_of(text: str) -> tuple[str | None, str | None]:
    """(Indian number, international number as written) for text written like a number."""
    value = text.strip()
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        return normalise_mobile(value), None
    except InvalidMobile:
        pass
    compact = re.sub(r"[ \-().]", "", value)
    if compact.startswith("+") and not compact.startswith("+91") and 8 <= len(compact) <= 16:
        return None, value
    return None, None


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text.strip()))


def member_of(text: str) -> Member | None:
    """One member written as a number or a name (a chat export's sender, a system line's
    target); None for "You" and for nothing."""
    name = _clean_name(text)
    if not name or name.casefold() in _YOU:
        return None
    if _is_number(name):
        indian, foreign = _number_of(name)
        if indian:
            return Member(numbers=(indian,))
        if foreign:
            return Member(foreign=(foreign,))
    return Member(name=name)


def _key(member: Member) -> str:
    return (member.numbers or member.foreign or (member.name.casefold(),))[0]


def _line_members(line: str) -> list[Member]:
    """A pasted line: its numbers, and the rest as the name."""
    text = line.translate(_CLEAN)
    numbers, foreign = [], []
    for match in _NUMBER.finditer(text):
        indian, international = _number_of(match.group())
        if indian:
            numbers.append(indian)
        elif international:
            foreign.append(international)
    name = _clean_name(_NUMBER.sub(" ", text).strip(" ,;:-\t|()"))
    if not numbers and not foreign:
        return [Member(name=name)] if name else []
    if not name:
        return [Member(numbers=(n,)) for n in numbers] + [Member(foreign=(f,)) for f in foreign]
    return [Member(name=name, numbers=tuple(numbers), foreign=tuple(foreign))]


def _deduplicated(members: list[Member]) -> list[Member]:
    seen: set[str] = set()
    unique = []
    for member in members:
        key = _key(member)
        if key not in seen:
            seen.add(key)
            unique.append(member)
    return unique


def _too_many() -> MemberFileError:
    return MemberFileError(
        _l(
            "The file has more than %(limit)s entries; a WhatsApp group has at most 1,024 members.",
            limit=format(MAX_ENTRIES, ","),
        )
    )


# ---- numbers pasted, or a list in a .txt file --------------------------------------------


def read_numbers(text: str) -> MemberList:
    members: list[Member] = []
    for line in text.splitlines():
        members += _line_members(line)
        if len(members) > MAX_ENTRIES:
            raise _too_many()
    if not any(member.numbers or member.foreign for member in members):
        raise MemberFileError(
            _l(
                "No mobile number was found. Paste or upload the members' numbers, one a "
                "line, the group's contacts (.vcf) or its chat export (.txt)."
            )
        )
    return MemberList("list", _deduplicated(members))


# ---- CSV -------------------------------------------------------------------------------------


def read_csv(data: bytes) -> MemberList:
    members: list[Member] = []
    try:
        for number, cells in enumerate(uploads.csv_rows(data), start=1):
            if number > MAX_ENTRIES + 1:
                raise _too_many()
            texts = [
                str(cell).translate(_CLEAN).strip() for cell in cells if cell not in (None, "")
            ]
            numbers, foreign, names = [], [], []
            for text in texts:
                indian, international = _number_of(text) if _is_number(text) else (None, None)
                if indian:
                    numbers.append(indian)
                elif international:
                    foreign.append(international)
                else:
                    names.append(text)
            if not numbers and not foreign and number == 1:
                continue  # the header
            name = _clean_name(names[0]) if names else ""
            if numbers or foreign or name:
                members.append(Member(name=name, numbers=tuple(numbers), foreign=tuple(foreign)))
    except uploads.UploadError as error:
        raise MemberFileError(error.message) from None
    return MemberList("csv", _deduplicated(members))


# ---- vCard -----------------------------------------------------------------------------------


def _quoted_printable(params: list[str]) -> bool:
    return any(p in ("QUOTED-PRINTABLE", "ENCODING=QUOTED-PRINTABLE") for p in params)


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if lines and lines[-1].endswith("=") and _quoted_printable(_params_of(lines[-1])):
            lines[-1] = lines[-1][:-1] + line.lstrip(" \t")
        elif lines and line[:1] in (" ", "\t"):
            lines[-1] += line[1:]
        elif line.strip():
            lines.append(line)
    return lines


def _params_of(line: str) -> list[str]:
    head = line.split(":", 1)[0]
    return [part.strip().upper() for part in head.split(";")[1:]]


def _property(line: str) -> tuple[str, list[str], str]:
    head, _, value = line.partition(":")
    parts = head.split(";")
    name = parts[0].rsplit(".", 1)[-1].strip().upper()  # "item1.TEL" is a TEL
    return name, [part.strip().upper() for part in parts[1:]], value


def _text_value(params: list[str], value: str) -> str:
    if _quoted_printable(params):
        charset = next((p.split("=", 1)[1] for p in params if p.startswith("CHARSET=")), "UTF-8")
        raw = quopri.decodestring(value.encode("ascii", "replace"))
        try:
            value = raw.decode(charset, errors="replace")
        except LookupError:
            value = raw.decode("utf-8", errors="replace")
    return re.sub(r"\\([,;:\\])", r"\1", value).replace("\\n", " ").replace("\\N", " ")


def read_vcards(text: str) -> MemberList:
    members: list[Member] = []
    card: dict | None = None
    for line in _unfold(text):
        name, params, value = _property(line)
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            if card is not None:
                raise _bad_vcard(len(members) + 1)
            card = {"fn": "", "n": "", "numbers": [], "foreign": []}
            continue
        if card is None:
            if name in ("VERSION", "FN", "N", "TEL", "END"):
                raise _bad_vcard(len(members) + 1)
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            member = Member(
                name=_clean_name(card["fn"] or card["n"]),
                numbers=tuple(dict.fromkeys(card["numbers"])),
                foreign=tuple(dict.fromkeys(card["foreign"])),
            )
            if member.name or member.numbers or member.foreign:
                members.append(member)
            if len(members) > MAX_ENTRIES:
                raise _too_many()
            card = None
        elif name == "VERSION" and value.strip() not in ("2.1", "3.0", "4.0"):
            raise MemberFileError(
                _l("The vCard file has a version this page does not read (2.1, 3.0 and 4.0 only).")
            )
        elif name == "FN":
            card["fn"] = _text_value(params, value)
        elif name == "N":
            parts = [part.strip() for part in _text_value(params, value).split(";")]
            card["n"] = " ".join(part for part in (parts[1:2] + parts[:1]) if part)
        elif name == "TEL":
            raw = value.strip()
            if raw.lower().startswith("tel:"):
                raw = raw[4:].split(";", 1)[0]
            indian, foreign = _number_of(raw.translate(_CLEAN))
            if indian:
                card["numbers"].append(indian)
            elif foreign:
                card["foreign"].append(foreign)
    if card is not None:
        raise _bad_vcard(len(members) + 1)
    if not members and "BEGIN:VCARD" not in text.upper():
        raise MemberFileError(_l("The file is not a vCard file (it has no BEGIN:VCARD)."))
    return MemberList("vcf", _deduplicated(members))


def _bad_vcard(card: int) -> MemberFileError:
    return MemberFileError(
        _l(
            "The vCard file is damaged near card %(card)s (a card is not opened with "
            "BEGIN:VCARD or not closed with END:VCARD).",
            card=card,
        )
    )


# ---- the chat export -------------------------------------------------------------------------


def _header(line: str):
    text = line.translate(_SPACES).translate(DEVANAGARI_DIGITS).lstrip("\ufeff")
    match = _IPHONE.match(text) or _ANDROID.match(text.lstrip(_MARKS))
    if match is None:
        return None
    hour, minute = (int(part) for part in re.split(r"[:.]", match["time"])[:2])
    if hour > 24 or minute > 59 or (match["half"] and not 1 <= hour <= 12):
        return None
    parts = [int(part) for part in re.split(r"[/.\-]", match["date"])]
    return parts, match["rest"]


def looks_like_chat(text: str) -> bool:
    """True when one of the first lines is a chat export's message line."""
    return any(_header(line) for line in text.splitlines()[:50])


def _event(text: str) -> tuple[bool, list[Member]] | None:
    """(in the group?, the members named) for a system line, else None."""
    clean = " ".join(text.translate(_CLEAN).split()).rstrip(".")
    for pattern, present in _EVENTS:
        match = pattern.match(clean)
        if match:
            named = [member_of(part) for part in _SPLIT_NAMES.split(match["t"])]
            return present, [member for member in named if member is not None]
    return None


def _plausible_sender(sender: str) -> bool:
    return 0 < len(sender) <= 80


def _dates(parts_seen: list[list[int]]) -> tuple[str, str, str]:
    """(order, first, last): the date order the dates prove (dd/mm when none does)."""
    if not parts_seen:
        return "", "", ""
    year_first = all(len(str(parts[0])) == 4 or parts[0] > 31 for parts in parts_seen)
    if year_first:
        order = "ymd"
    elif any(parts[1] > 12 for parts in parts_seen) and not any(p[0] > 12 for p in parts_seen):
        order = "mdy"
    else:
        order = "dmy"
    found = []
    for parts in parts_seen:
        if order == "ymd":
            year, month, day = parts
        elif order == "mdy":
            month, day, year = parts
        else:
            day, month, year = parts
        if year < 100:
            year += 2000
        try:
            found.append(date(year, month, day))
        except ValueError:
            continue
    if not found:
        return order, "", ""
    return order, min(found).isoformat(), max(found).isoformat()


def read_chat(text: str) -> MemberList:
    present: dict[str, bool] = {}
    members: dict[str, Member] = {}
    parts_seen: list[list[int]] = []
    system_senders: set[str] = set()
    not_understood = 0

    def seen(member: Member, in_group: bool) -> None:
        key = _key(member)
        members.setdefault(key, member)
        present[key] = in_group
        if len(members) > MAX_ENTRIES:
            raise _too_many()

    for line in text.splitlines():
        header = _header(line)
        if header is None:
            continue  # a message's second line, or the export's blank lines
        parts, rest = header
        parts_seen.append(parts)
        sender, colon, message = rest.partition(": ")
        if colon and _plausible_sender(sender.strip(_MARKS + " ")):
            # An iPhone writes system lines under the group's name, marked with U+200E.
            marked = message.lstrip(" ").startswith("\u200e")
            event = _event(message) if marked else None
            if marked and event is not None:
                system_senders.add(_clean_name(sender).casefold())
            if event is None:
                member = member_of(sender)
                if member is not None:
                    seen(member, True)
                continue
        else:
            event = _event(rest)
        if event is None:
            not_understood += 1
            continue
        in_group, named = event
        for member in named:
            seen(member, in_group)
    if not parts_seen:
        raise MemberFileError(
            _l(
                "This is not a WhatsApp chat export: no line starts with a date and time. In "
                'the group choose More > Export chat > "Without media" and upload the .txt file.'
            )
        )
    order, first, last = _dates(parts_seen)
    # The group's name, under which an iPhone writes system lines, is not a member.
    current = [members[key] for key in members if present[key] and key not in system_senders]
    return MemberList("chat", current, order, first, last, not_understood)


# ---- what was uploaded -----------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(uploads.UTF8_BOM):
        data = data[len(uploads.UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise MemberFileError(
            _l("The file is not UTF-8 text; upload it as the phone saved it.")
        ) from None


def read_text(text: str) -> MemberList:
    """Pasted text: a vCard file, a chat export or a list of numbers, told apart by content."""
    if len(text) > MAX_PASTE_CHARS:
        raise MemberFileError(
            _l("That is too much to paste; upload it as a file instead."), field="paste"
        )
    if "BEGIN:VCARD" in text.upper():
        return read_vcards(text)
    if looks_like_chat(text):
        return read_chat(text)
    return read_numbers(text)


def read_upload(filename: str, data: bytes) -> MemberList:
    """The members in an uploaded file, or ``MemberFileError`` saying why it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise MemberFileError(
            _l(
                "The file is larger than %(limit)s MB. Export the chat without media.",
                limit=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
    extension = uploads.extension_of(filename)
    if extension not in EXTENSIONS:
        raise MemberFileError(
            _l("Upload the group's chat export (.txt), its contacts (.vcf) or a list (.csv).")
        )
    kind = uploads.sniff(data)
    if kind != "text":
        raise MemberFileError(
            _l(
                "The file's name ends in .%(extension)s but it looks like %(kind)s.",
                extension=extension,
                kind=uploads.KIND_NAMES[kind],
            )
        )
    if not data.strip():
        raise MemberFileError(_l("The file is empty."))
    if EXTENSIONS[extension] == "csv":
        return read_csv(data)
    text = _decode(data)
    if EXTENSIONS[extension] == "vcf":
        return read_vcards(text)
    if looks_like_chat(text):
        return read_chat(text)
    if "BEGIN:VCARD" in text.upper():
        return read_vcards(text)
    return read_numbers(text)


# ---- files out -------------------------------------------------------------------------------


def _vcard_export(principal: Principal, contacts, target, what: str, language: str, stem: str):
    roster_export.take_daily_export(principal)
    audit.record(
        "whatsapp.contacts_exported",
        actor=principal,
        target=target,
        detail={"what": what, "rows": len(contacts), "format": "vcf"},
    )
    filename = f"cplan-{stem}-{file_name_stamp(utcnow())}.vcf"
    content = roster_export.to_vcard(contacts, language)
    return ExportFile(filename, roster_export.MIMETYPES["vcf"], content, len(contacts))


def missing_vcard(
    principal: Principal, record: GroupReconciliation, contacts, language: str = "en"
) -> ExportFile:
    """The vCard of the contacts a reconciliation found missing (counts as an export)."""
    return _vcard_export(
        principal, contacts, record, "missing", language, f"whatsapp-missing-{record.id}"
    )


def planned_group_vcard(
    principal: Principal, plan: SplitPlan, number: int, language: str = "en"
) -> ExportFile:
    """The vCard of one group of the split (counts as an export)."""
    contacts = planned_group_contacts(principal, plan, number)
    code = re.sub(r"[^A-Za-z0-9_-]+", "-", plan.station.code or f"station{plan.station.id}")
    return _vcard_export(
        principal,
        contacts,
        plan.station,
        f"split_group_{number}",
        language,
        f"{code}-group-{number}",
    )


SPLIT_HEADERS = {
    "en": ["group", "place_lgd_code", "place", "part", "contacts", "group_total"],
    "hi": ["समूह", "स्थान एलजीडी कोड", "स्थान", "भाग", "संपर्क", "समूह में कुल"],
}


def split_csv(plan: SplitPlan, language: str = "en") -> tuple[str, str, bytes]:
    """The split's plan, one row per village (or piece of a village): no names, no numbers."""
    rows = [
        [
            str(group.number),
            share.place.lgd_code or "",
            share.place.display_name(language),
            str(share.part or ""),
            str(share.contacts),
            str(group.size),
        ]
        for group in plan.groups
        for share in group.villages
    ]
    code = re.sub(r"[^A-Za-z0-9_-]+", "-", plan.station.code or f"station{plan.station.id}")
    filename = f"cplan-{code}-whatsapp-split-{file_name_stamp(utcnow())}.csv"
    return filename, CSV_MIMETYPE, csv_file(SPLIT_HEADERS.get(language, SPLIT_HEADERS["en"]), rows)
