"""Importers for the official geography: LGD districts and sub-districts, one district's villages,
towns and wards, its police stations, and the first assignment of places to stations.

Every importer reads and validates the *whole* file before it writes anything: a malformed file
raises ``GeoImportError`` naming the file row (1-based, the header is row 1) and the column, and
nothing is imported. It then upserts on a natural key, so running it again changes nothing, and
returns an ``ImportReport``: how many records were created, updated or left unchanged, and one
note per row it skipped, merged or flagged, with the reason.

Services flush, never commit: the caller (the CLI, the demo loader) commits once at the end and
rolls back on any error.

The reference files and their quirks are described in ``cplan/data/README.md``; the rules
that handle each quirk are documented on the importer that applies them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from sqlalchemy import func, select

from cplan.data import MissingDataFile
from cplan.extensions import db
from cplan.models.geo import Place, PlaceKind, Subdistrict, Unit, UnitKind
from cplan.pipelines.uploads import UTF8_BOM
from cplan.services import audit, geo, search
from cplan.services.errors import DomainError
from cplan.services.transliteration import search_key, to_devanagari, to_roman

# ---- facts shipped with the importer ---------------------------------------------------------

# Hindi names of states whose LGD code we know (the LGD district list has English names only).
STATE_NAMES_HI = {"9": "उत्तर प्रदेश"}

# Hindi names of the 75 districts of Uttar Pradesh, keyed by LGD district code, as the state
# government writes them. Districts missing here get a transliterated name, marked generated.
UP_DISTRICT_NAMES_HI = {
    "118": "आगरा",
    "119": "अलीगढ़",
    "120": "प्रयागराज",
    "121": "अम्बेडकर नगर",
    "122": "औरैया",
    "123": "आजमगढ़",
    "124": "बागपत",
    "125": "बहराइच",
    "126": "बलिया",
    "127": "बलरामपुर",
    "128": "बांदा",
    "129": "बाराबंकी",
    "130": "बरेली",
    "131": "बस्ती",
    "132": "बिजनौर",
    "133": "बदायूं",
    "134": "बुलंदशहर",
    "135": "चंदौली",
    "136": "चित्रकूट",
    "137": "देवरिया",
    "138": "एटा",
    "139": "इटावा",
    "140": "अयोध्या",
    "141": "फर्रुखाबाद",
    "142": "फतेहपुर",
    "143": "फिरोजाबाद",
    "144": "गौतम बुद्ध नगर",
    "145": "गाजियाबाद",
    "146": "गाजीपुर",
    "147": "गोंडा",
    "148": "गोरखपुर",
    "149": "हमीरपुर",
    "150": "हरदोई",
    "151": "जालौन",
    "152": "जौनपुर",
    "153": "झांसी",
    "154": "अमरोहा",
    "155": "कन्नौज",
    "156": "कानपुर देहात",
    "157": "कानपुर नगर",
    "158": "कौशाम्बी",
    "159": "खीरी",
    "160": "कुशीनगर",
    "161": "ललितपुर",
    "162": "लखनऊ",
    "163": "हाथरस",
    "164": "महराजगंज",
    "165": "महोबा",
    "166": "मैनपुरी",
    "167": "मथुरा",
    "168": "मऊ",
    "169": "मेरठ",
    "170": "मिर्जापुर",
    "171": "मुरादाबाद",
    "172": "मुजफ्फरनगर",
    "173": "पीलीभीत",
    "174": "प्रतापगढ़",
    "175": "रायबरेली",
    "176": "रामपुर",
    "177": "सहारनपुर",
    "178": "संत कबीर नगर",
    "179": "भदोही",
    "180": "शाहजहांपुर",
    "181": "श्रावस्ती",
    "182": "सिद्धार्थनगर",
    "183": "सीतापुर",
    "184": "सोनभद्र",
    "185": "सुलतानपुर",
    "186": "उन्नाव",
    "187": "वाराणसी",
    "633": "कासगंज",
    "640": "अमेठी",
    "659": "संभल",
    "660": "शामली",
    "661": "हापुड़",
}

# Names people still search for: former names of renamed UP districts and common spellings.
UP_DISTRICT_OTHER_NAMES = {
    "120": ("Allahabad",),
    "129": ("Barabanki",),
    "140": ("Faizabad",),
    "154": ("Jyotiba Phule Nagar",),
    "159": ("Lakhimpur Kheri",),
    "163": ("Mahamaya Nagar",),
    "175": ("Raebareli",),
    "179": ("Sant Ravidas Nagar",),
}

# Census 2011 town codes are six digits starting with 8 (800001 onwards); LGD village codes of
# UP stay far below. A code of that shape in an ``lgd_code`` column is a town, not a village.
CENSUS_TOWN_CODE = re.compile(r"8[0-9]{5}")

# A Census town and an OpenStreetMap town whose names differ are taken to be the same town when
# their centres lie within this distance (towns in the plains of western UP are 8-15 km apart).
CENSUS_TOWN_MERGE_KM = 5.0

# Words in an official village name that mark a parcel where nobody lives.
UNINHABITED_MARKERS = {
    "KHADER": "river-bed (khader) parcel",
    "RF": "reserved forest (RF)",
    "VIRAN": "deserted (viran) parcel",
    "WIRAN": "deserted (viran) parcel",
}
# Abbreviations kept in capitals when an all-capitals official name is title-cased.
KEEP_CAPITALS = {"RF"}

THANA_PREFIX = "थाना"
WOMEN_STATION_WORD = "महिला"
WOMEN_STATION_NAME_EN = "Mahila Thana"
CIRCLE_WORD_HI = "सर्किल"

# The reason recorded on the history spell that attaches a headquarters place to its station.
HQ_SPELL_REASON = "police station headquarters (station import)"

# ASCII digits only: Python's int() and \d also accept Devanagari and full-width digits.
DIGITS = re.compile(r"[0-9]+")
DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
EARTH_RADIUS_KM = 6371.0088


# ---- errors and reports ----------------------------------------------------------------------


class GeoImportError(DomainError):
    """A reference file is malformed or does not fit the database; nothing was imported."""

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        self.problem = problem
        self.source = source
        self.row = row
        self.column = column
        where = [
            part
            for part in (
                source,
                f"row {row}" if row is not None else None,
                f"column {column!r}" if column else None,
            )
            if part
        ]
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


@dataclass(frozen=True)
class ImportNote:
    """One row the importer skipped, merged or flagged, and why."""

    row: int | None
    action: str  # "skipped", "merged", "flagged"
    subject: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "-"
        return f"{where}: {self.action} {self.subject}: {self.reason}"


@dataclass
class ImportReport:
    """What one import did: counts of records by outcome, and the notes worth a human's eye."""

    what: str
    source: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[ImportNote] = field(default_factory=list)
    # Where each data row of the file ended up (row number -> natural key or code), so a caller
    # can prove every row is accounted for.
    row_keys: dict[int, str] = field(default_factory=dict)
    # attach only: places attached by this run, per station ("124-BARAUT Baraut" -> 41).
    per_station: dict[str, int] = field(default_factory=dict)

    def note(self, row: int | None, action: str, subject: str, reason: str) -> None:
        self.notes.append(ImportNote(row, action, subject, reason))

    def tally(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def notes_about(self, action: str | None = None) -> list[ImportNote]:
        return [note for note in self.notes if action is None or note.action == action]

    def summary(self) -> str:
        source = f" from {self.source}" if self.source else ""
        return (
            f"{self.what}{source}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.notes)} notes"
        )

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        lines = [self.summary()]
        lines += [f"  {label}: {count} attached" for label, count in self.per_station.items()]
        lines += [f"  {note}" for note in self.notes]
        return lines


# ---- reading files ---------------------------------------------------------------------------


@dataclass
class SourceRow:
    number: int  # 1-based row of the file; the header is row 1
    values: dict[str, str]


# Every geo file is one district's (or the state's lists of districts and sub-districts): a file
# beyond these is refused before its rows are read. Azamgarh, the UP district with the most
# villages, has 4,240 (LGD); with its towns' wards and localities a district's file stays well
# under 10,000 rows, and at about 100 bytes a row (250 for an LGD export) well under 5 MB. A
# whole state's LGD list (110,274 villages for UP) is refused, as it should be.
MAX_FILE_ROWS = 10_000
MAX_FILE_BYTES = 5 * 1024 * 1024
# An LGD download may carry a title line or two above its header.
HEADER_SEARCH_ROWS = 5
DELIMITERS = (",", ";", "\t")  # LGD's CSV downloads have used semicolons


def _header_key(name: str) -> str:
    """A header compared loosely: "Sub-District Code", "Subdistrict code" and "SUB DISTRICT CODE"
    are one column, as are "Census2011 Code" and "Census 2011 Code"; Devanagari headers ("थाना",
    "जिला कोड") keep their letters and vowel signs."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFC", name).casefold()
        if ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc")
    )


@dataclass(frozen=True)
class Layout:
    """One known shape of a file: the header spellings accepted for each field, and the fields
    a file must have to be read as this layout."""

    name: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]

    def find(self, header: list[str]) -> dict[str, str]:
        """field -> the file's own spelling of its column, for the fields this header has."""
        by_key: dict[str, str] = {}
        for name in header:
            by_key.setdefault(_header_key(name), name)
        found = {}
        for field_name, spellings in self.columns.items():
            for spelling in spellings:
                if _header_key(spelling) in by_key:
                    found[field_name] = by_key[_header_key(spelling)]
                    break
        return found


class SourceFile:
    """A CSV reference file read whole and checked for shape, so errors can name row and column.

    ``required`` names the columns of a single-layout file. ``layouts`` instead lists the shapes
    a file may have (our own CSV, an LGD download...): the header is looked for in the first
    ``HEADER_SEARCH_ROWS`` rows (title lines above it are skipped), with a comma, semicolon or
    tab as the delimiter, and the first layout whose required columns it has wins
    (``self.layout``). Columns match loosely (``_header_key``); ``text``/``code`` accept a
    field name or a header. A file over ``max_rows`` rows or ``max_bytes`` is refused, naming
    the limit, before any row is read.
    """

    def __init__(
        self,
        path,
        required: Iterable[str] = (),
        *,
        layouts: Iterable[Layout] | None = None,
        max_rows: int = MAX_FILE_ROWS,
        max_bytes: int = MAX_FILE_BYTES,
    ):
        self.path = Path(path)
        self.name = self.path.name
        required = tuple(required)
        self.layouts = (
            tuple(layouts)
            if layouts is not None
            else (Layout("", {column: (column,) for column in required}, required),)
        )
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self.layout: Layout = self.layouts[0]
        self.columns: dict[str, str] = {}  # field (or header) -> the file's header spelling
        self.header, self.rows = self._read()

    def error(
        self, problem: str, row: int | None = None, column: str | None = None
    ) -> GeoImportError:
        return GeoImportError(problem, source=self.name, row=row, column=column)

    def has(self, column: str) -> bool:
        return self.column(column) in self.header

    def column(self, name: str) -> str:
        """The file's header for a field of the layout (or a header name given as it is)."""
        return self.columns.get(name, name)

    def _read(self) -> tuple[list[str], list[SourceRow]]:
        try:
            size = self.path.stat().st_size
        except OSError as error:
            raise GeoImportError(
                str(MissingDataFile(self.path.resolve(), error.strerror or "unreadable"))
            ) from None
        if size > self.max_bytes:
            raise self.error(
                f"the file is {size / 1024 / 1024:.1f} MB, over the limit of "
                f"{self.max_bytes // 1024 // 1024} MB for one file (a district's places "
                "fit well within it): import one district at a time"
            )
        try:
            raw = self.path.read_bytes()
        except OSError as error:
            raise GeoImportError(
                str(MissingDataFile(self.path.resolve(), error.strerror or "unreadable"))
            ) from None
        lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        if lines - 1 > self.max_rows:
            raise self.error(
                f"the file has {lines - 1:,} rows after its header, over the limit of "
                f"{self.max_rows:,} rows for one file (Azamgarh, the UP district with the "
                "most villages, has 4,240): import one district at a time"
            )
        if raw.startswith(UTF8_BOM):  # spreadsheet programs write one; it is still UTF-8
            raw = raw[len(UTF8_BOM) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            row, column = _locate_byte(raw, error.start)
            raise self.error(
                f"not UTF-8 text (byte 0x{raw[error.start]:02x}); save the file as UTF-8",
                row,
                column,
            ) from None
        if not text.strip():
            raise self.error("the file is empty", row=1)
        delimiter, header_index = self._find_header(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            records = list(reader)
        except csv.Error as error:
            raise self.error(f"unreadable CSV ({error})", row=reader.line_num) from None
        header = [" ".join(name.split()) for name in records[header_index]]
        used = set(self.columns.values())
        seen = set()
        for name in header:
            if name and name in seen and name in used:
                raise self.error("column appears twice in the header", header_index + 1, name)
            seen.add(name)
        rows = []
        for index, fields in enumerate(records[header_index + 1 :], start=header_index + 1):
            number = index + 1
            if not any(value.strip() for value in fields):
                continue  # blank lines (a trailing newline too many) carry nothing
            if len(fields) != len(header):
                raise self.error(f"{len(fields)} fields where the header has {len(header)}", number)
            rows.append(
                SourceRow(number, {n: v.strip() for n, v in zip(header, fields, strict=True)})
            )
        if not rows:
            raise self.error("no data rows after the header", row=header_index + 2)
        return header, rows

    def _find_header(self, text: str) -> tuple[str, int]:
        """The delimiter and the index of the header row; sets ``layout`` and ``columns``."""
        best = None  # (columns found, row index, layout, missing column)
        for delimiter in DELIMITERS:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            try:
                head = [
                    record for _, record in zip(range(HEADER_SEARCH_ROWS), reader, strict=False)
                ]
            except csv.Error:
                continue
            for index, record in enumerate(head):
                header = [" ".join(name.split()) for name in record]
                for layout in self.layouts:
                    found = layout.find(header)
                    missing = [f for f in layout.required if f not in found]
                    if not missing:
                        self.layout, self.columns = layout, found
                        return delimiter, index
                    score = len(layout.required) - len(missing)
                    if best is None or score > best[0]:
                        best = (score, index, layout, missing[0])
        _, index, layout, missing = best
        column = layout.columns[missing][0]
        names = " / ".join(repr(spelling) for spelling in layout.columns[missing][1:])
        problem = "required column is missing from the header"
        if len(self.layouts) > 1:
            problem += (f" (or spelled {names})" if names else "") + (
                "; the header matches none of the known layouts: "
                + ", ".join(one.name for one in self.layouts)
            )
        raise self.error(problem, index + 1, column)

    def text(self, row: SourceRow, column: str, required: bool = False) -> str:
        value = row.values.get(self.column(column), "")
        if required and not value:
            raise self.error("a value is required", row.number, self.column(column))
        return value

    def code(self, row: SourceRow, column: str, required: bool = True) -> str | None:
        value = row.values.get(self.column(column), "")
        if not value:
            if required:
                raise self.error("a code is required", row.number, self.column(column))
            return None
        if not DIGITS.fullmatch(value):
            raise self.error(
                f"{value!r} is not a number (digits 0-9 only)", row.number, self.column(column)
            )
        return value

    def coordinate(self, row: SourceRow, column: str, limit: float) -> float | None:
        value = row.values.get(self.column(column), "")
        if not value:
            return None
        if not DECIMAL.fullmatch(value):
            raise self.error(f"{value!r} is not a decimal number", row.number, self.column(column))
        number = float(value)
        if abs(number) > limit:
            raise self.error(
                f"{value} is out of range (-{limit:g} to {limit:g})",
                row.number,
                self.column(column),
            )
        return round(number, 6)


def _locate_byte(raw: bytes, position: int) -> tuple[int, str | None]:
    """Row number and column name of the byte at ``position`` (for encoding errors)."""
    row = raw.count(b"\n", 0, position) + 1
    line_start = raw.rfind(b"\n", 0, position) + 1
    index = raw[line_start:position].decode("utf-8", "replace").count(",")
    header = raw.split(b"\n", 1)[0].decode("utf-8", "replace").split(",")
    column = header[index].strip() if index < len(header) else None
    return row, column


def _audit(action: str, report: ImportReport, unit: Unit | None) -> None:
    """One audit event per import that changed something (a re-run that changes nothing
    leaves no trace, so the database is exactly as before)."""
    if report.changed:
        audit.record(
            action,
            unit=unit,
            detail={
                "file": report.source,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "notes": len(report.notes),
            },
        )


def _same_code(a: str, b) -> bool:
    return int(a) == int(str(b))


def _lgd(code: str) -> str:
    """LGD codes are numbers: store them without leading zeros (Census codes keep theirs)."""
    return code.lstrip("0") or "0"


# ---- names -----------------------------------------------------------------------------------


def normalised(text: str) -> str:
    """A stable ASCII slug of a name, used in natural keys and station codes.

    Deliberately independent of ``search_key``: natural keys must not change when the
    transliteration rules improve.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def display_name(official: str) -> str:
    """Title-case an all-capitals official name for display; other names stay as written."""
    if official != official.upper():
        return official
    words = []
    for word in official.split():
        bare = word.strip("()")
        if bare in KEEP_CAPITALS:
            words.append(word)
        elif bare == "OR":
            words.append(word.lower())
        else:
            words.append(word.title())
    return " ".join(words)


# Repairs that make a name from a file searchable (``clean_name``). In the files seen, a "|" or
# "\" between two letters stood for the letter I (MAHIUDD|NAPUR, M\RPUR JAKHERA: Mahiuddinpur,
# Mirpur), and ";", quotes and underscores were typing slips (NAGL;I KHADAR, M_Ward).
STRAY_LETTER_I = re.compile(r"(?<=[A-Za-z])[|\\](?=[A-Za-z])")
STRAY_MARKS = re.compile(r"[|\\;\"'`\u2018\u2019\u201c\u201d]")
GLUED_NUMBER = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?!(?:st|nd|rd|th)\b)(?=[A-Za-z])")
LOOSE_DASH = re.compile(r"\s+-\s*|\s*-\s+")
DOUBLED_SPACE = re.compile(r"\s{2,}")
ALIAS_SEPARATOR_STANDIN = "\u00a6"  # a "|" in a kept spelling would split the alias list


def clean_name(raw: str) -> tuple[str, list[str]]:
    """A name from a file in a form people can search for, and the repairs made (none: ``[]``).

    ``|`` or ``\\`` between letters is read as the letter I; other stray marks (``| \\ ;``,
    quotes) are dropped; an underscore is a space; a number glued to a word is set apart
    ("Basi2" -> "Basi 2"); a dash standing next to a space and doubled spaces become one space;
    an unmatched ")" is dropped and an unclosed "(" closed.
    """
    name, repairs = raw.strip(), []
    if STRAY_LETTER_I.search(name):
        name = STRAY_LETTER_I.sub("I", name)
        repairs.append("'|' or '\\' between letters read as I")
    stray = sorted(set(STRAY_MARKS.findall(name)))
    if stray:
        name = STRAY_MARKS.sub("", name)
        repairs.append("stray " + " ".join(stray) + " removed")
    if "_" in name:
        name = name.replace("_", " ")
        repairs.append("underscore read as a space")
    if GLUED_NUMBER.search(name):
        name = GLUED_NUMBER.sub(" ", name)
        repairs.append("number set apart from the word")
    if LOOSE_DASH.search(name):
        name = LOOSE_DASH.sub(" ", name)
        repairs.append("loose dash removed")
    if DOUBLED_SPACE.search(raw.strip()):
        repairs.append("doubled spaces")
    kept, depth, dropped = [], 0, False
    for character in name:
        if character == "(":
            depth += 1
        elif character == ")":
            if depth == 0:
                dropped = True
                continue
            depth -= 1
        kept.append(character)
    name = "".join(kept) + ")" * depth
    if dropped:
        repairs.append("stray ')' removed")
    if depth:
        repairs.append("unclosed parenthesis closed")
    name = " ".join(name.split()).strip(" -,")
    if name != raw.strip() and not repairs:
        repairs.append("spacing tidied")
    return name, repairs


def kept_spelling(raw: str) -> str:
    """A file's spelling as an alias: exactly as written, but for the alias separator."""
    return " ".join(raw.replace("|", ALIAS_SEPARATOR_STANDIN).split())


DEVANAGARI_LETTER = re.compile(r"[\u0900-\u097f]")
LATIN_LETTER = re.compile(r"[A-Za-z]")


def official_hindi(local_name: str) -> str | None:
    """An LGD "(In Local)" name usable as the Hindi name: Devanagari only (for UP, LGD also
    writes Latin names in that column, and leaves it blank)."""
    name = " ".join(local_name.split())
    if name and DEVANAGARI_LETTER.search(name) and not LATIN_LETTER.search(name):
        return name
    return None


# Words that say "a ward" without naming it: "M_Ward", "Ward No.", "Ward 12", a blank name.
UNNAMED_WARD_WORDS = {"m", "w", "ward", "wards", "no", "number", "num", "locality"}


def is_unnamed_ward(name: str) -> bool:
    """True for a ward "name" that only says it is a ward (and perhaps its number)."""
    words = re.findall(r"[a-z]+|[0-9]+", name.lower())
    return all(word in UNNAMED_WARD_WORDS or word.isdigit() for word in words)


def split_aliases(aliases: str) -> list[str]:
    return [alias.strip() for alias in aliases.split("|") if alias.strip()]


def join_aliases(names: Iterable[str], *primary: str) -> str:
    """Other spellings, unique and in order, leaving out the names already shown."""
    kept: list[str] = []
    for name in names:
        if name and name not in primary and name not in kept:
            kept.append(name)
    return " | ".join(kept)


def _hindi_name(record, name_hi: str, generated: bool) -> tuple[str, bool]:
    """A transliterated Hindi name never replaces one taken from a source or typed by staff."""
    if record is not None and generated and record.name_hi and not record.name_generated:
        return record.name_hi, False
    return name_hi, generated


def _apply(record, fields: dict) -> bool:
    """Set the fields that differ; True when anything changed."""
    changed = False
    for name, value in fields.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance between two (latitude, longitude) points."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        round(sum(p[0] for p in points) / len(points), 6),
        round(sum(p[1] for p in points) / len(points), 6),
    )


# ---- lookups ---------------------------------------------------------------------------------


def find_district(code) -> Unit | None:
    """The district with this LGD code, or None (also for a code that is not a number)."""
    if not DIGITS.fullmatch(str(code)):
        return None
    return db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code == _lgd(str(code)))
    )


def _require_district(code) -> Unit:
    if not DIGITS.fullmatch(str(code)):
        raise GeoImportError(f"district code {code!r} is not a number")
    district = find_district(code)
    if district is None:
        raise GeoImportError(f"district {code} is not in the database: import the districts first")
    return district


# ---- districts -------------------------------------------------------------------------------


def import_districts(path) -> ImportReport:
    """Import LGD districts (``up_districts.csv``) and the state unit above them.

    The state (LGD state code, e.g. 9 Uttar Pradesh) is created if missing. A new district
    hangs straight under the state, as ``services.geo`` allows until its zone and range are
    known; an existing district is updated in place and never moved. Hindi names come from the
    shipped table of UP district names, else from transliteration (marked generated).
    """
    source = SourceFile(
        path, ("state_code", "state_name", "district_code", "district_name", "census_2011_code")
    )
    records = []
    state_code = state_name = None
    seen: dict[str, int] = {}
    for row in source.rows:
        row_state = source.code(row, "state_code")
        if state_code is None:
            state_code, state_name = _lgd(row_state), source.text(row, "state_name", required=True)
        elif not _same_code(row_state, state_code):
            raise source.error(
                f"state {row_state} in a file of state {state_code}: one state per file",
                row.number,
                "state_code",
            )
        code = _lgd(source.code(row, "district_code"))
        if code in seen:
            raise source.error(
                f"district {code} is also on row {seen[code]}", row.number, "district_code"
            )
        seen[code] = row.number
        records.append(
            (
                row.number,
                code,
                source.text(row, "district_name", required=True),
                source.code(row, "census_2011_code", required=False),
            )
        )

    report = ImportReport("districts", source.name)
    state = _ensure_state(state_code, state_name, report)
    existing = {
        unit.code: unit
        for unit in db.session.scalars(
            select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code.in_(list(seen)))
        )
    }
    known_names = UP_DISTRICT_NAMES_HI if state_code == "9" else {}
    other_names = UP_DISTRICT_OTHER_NAMES if state_code == "9" else {}
    for number, code, name_en, census_code in records:
        district = existing.get(code)
        if code in known_names:
            name_hi, generated = known_names[code], False
        else:
            name_hi, generated = _hindi_name(district, to_devanagari(name_en), True)
            if generated:
                report.note(number, "flagged", name_en, "Hindi name transliterated; check it")
        aliases = join_aliases(other_names.get(code, ()), name_en)
        fields = {
            "name_en": name_en,
            "name_hi": name_hi,
            "name_generated": generated,
            "census_2011_code": census_code,
            "aliases": aliases,
            "search_key": geo.names_search_key(name_en, name_hi, aliases),
        }
        if district is None:
            fields.pop("name_en")
            geo.create_unit(UnitKind.DISTRICT, name_en, state, code=code, **fields)
            report.tally("created")
        else:
            report.tally("updated" if _apply(district, fields) else "unchanged")
        report.row_keys[number] = f"district:{code}"
    db.session.flush()
    _audit("geo.districts_imported", report, state)
    return report


def _ensure_state(code: str, name_en: str, report: ImportReport) -> Unit:
    state = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATE, Unit.code == code))
    if state is not None:
        return state
    name_hi = STATE_NAMES_HI.get(code) or to_devanagari(name_en)
    generated = code not in STATE_NAMES_HI
    state = geo.create_unit(
        UnitKind.STATE,
        name_en,
        None,
        code=code,
        name_hi=name_hi,
        name_generated=generated,
        search_key=geo.names_search_key(name_en, name_hi),
    )
    report.note(None, "flagged", name_en, f"state unit created (LGD state code {code})")
    return state


# ---- sub-districts ---------------------------------------------------------------------------


def import_subdistricts(path) -> ImportReport:
    """Import LGD sub-districts (tehsils, ``up_subdistricts.csv``); their districts must exist.

    A sub-district whose district code is not in the database is an error naming the row.
    Hindi names are transliterated and marked generated.
    """
    source = SourceFile(path, ("district_code", "subdistrict_code", "subdistrict_name"))
    districts = {
        unit.code: unit
        for unit in db.session.scalars(select(Unit).where(Unit.kind == UnitKind.DISTRICT))
    }
    records = []
    seen: dict[str, int] = {}
    for row in source.rows:
        district_code = _lgd(source.code(row, "district_code"))
        if district_code not in districts:
            raise source.error(
                f"district {district_code} is not in the database: import the districts first",
                row.number,
                "district_code",
            )
        code = _lgd(source.code(row, "subdistrict_code"))
        if code in seen:
            raise source.error(
                f"sub-district {code} is also on row {seen[code]}", row.number, "subdistrict_code"
            )
        seen[code] = row.number
        village_count = source.code(row, "village_count", required=False)
        records.append(
            (
                row.number,
                code,
                districts[district_code],
                source.text(row, "subdistrict_name", required=True),
                source.code(row, "census_2011_code", required=False),
                int(village_count) if village_count is not None else None,
            )
        )

    report = ImportReport("sub-districts", source.name)
    existing = {s.lgd_code: s for s in db.session.scalars(select(Subdistrict))}
    for number, code, district, name_en, census_code, village_count in records:
        subdistrict = existing.get(code)
        name_hi, generated = _hindi_name(subdistrict, to_devanagari(name_en), True)
        fields = {
            "district_id": district.id,
            "name_en": name_en,
            "name_hi": name_hi,
            "name_generated": generated,
            "census_2011_code": census_code,
            "village_count": village_count,
        }
        if subdistrict is None:
            db.session.add(Subdistrict(lgd_code=code, **fields))
            report.tally("created")
        else:
            report.tally("updated" if _apply(subdistrict, fields) else "unchanged")
        report.row_keys[number] = f"subdistrict:{code}"
    db.session.flush()
    _audit("geo.subdistricts_imported", report, None)
    return report


def _subdistrict_matcher(district: Unit):
    """Match a sub-district name tolerantly: by slug, else by the phonetic search key."""
    index: dict[str, Subdistrict] = {}
    subdistricts = db.session.scalars(
        select(Subdistrict)
        .where(Subdistrict.district_id == district.id)
        .order_by(Subdistrict.lgd_code)
    )
    for subdistrict in subdistricts:
        for key in (normalised(subdistrict.name_en), "~" + search_key(subdistrict.name_en)):
            if key.strip("~"):
                index.setdefault(key, subdistrict)

    def match(name: str) -> Subdistrict | None:
        if not name:
            return None
        return index.get(normalised(name)) or index.get("~" + search_key(name))

    return match


# ---- places ----------------------------------------------------------------------------------

PLACE_COLUMNS = ("district_code", "name", "sub", "type", "lat", "lng", "lgd_code")
PLACE_ROW_TYPES = {"village", "city", "ward", "locality"}

# The layouts ``import_places`` reads, told apart by their headers. The LGD ones are the
# "Download Directory" reports of lgdirectory.gov.in as downloaded (CSV; a title line above the
# header, a byte order mark and the "S.No." column are fine).
PLACES_CSV = Layout(
    "places CSV (like baghpat_villages.csv)",
    {column: (column,) for column in PLACE_COLUMNS},
    PLACE_COLUMNS,
)
LGD_VILLAGES = Layout(
    "LGD village list",
    {
        "district_code": ("District Code", "District LGD Code"),
        "subdistrict_code": ("Sub-District Code", "Sub-District LGD Code"),
        "subdistrict_name": ("Sub-District Name (In English)", "Sub-District Name"),
        "code": ("Village Code", "Village LGD Code"),
        "name_en": ("Village Name (In English)", "Village Name"),
        "name_local": ("Village Name (In Local)", "Village Name (In Local Language)"),
        "status": ("Village Status",),
    },
    ("district_code", "code", "name_en"),
)
LGD_WARDS = Layout(
    "LGD ward list",
    {
        "body_name": (
            "Local Body Name (In English)",
            "Local Body Name",
            "Localbody Name (In English)",
            "Localbody Name",
        ),
        "code": ("Ward Code",),
        "number": ("Ward Number", "Ward No."),
        "name_en": ("Ward Name (In English)", "Ward Name"),
        "name_local": ("Ward Name (In Local)",),
    },
    ("body_name", "code"),
)
LGD_LOCAL_BODIES = Layout(
    "LGD local-body list",
    {
        "code": ("Local Body Code", "Localbody Code"),
        "name_en": (
            "Local Body Name (In English)",
            "Local Body Name",
            "Localbody Name (In English)",
            "Localbody Name",
        ),
        "name_local": ("Local Body Name (In Local)", "Localbody Name (In Local)"),
        "census_2011_code": ("Census 2011 Code",),
        "type_code": ("Localbody Type Code", "Local Body Type Code"),
        "district_code": ("District Code",),
    },
    ("code", "name_en"),
)
PLACE_LAYOUTS = (PLACES_CSV, LGD_VILLAGES, LGD_WARDS, LGD_LOCAL_BODIES)

# LGD's village status for places where nobody lives ("Inhabitant" is the other value).
LGD_UNINHABITED_STATUSES = {"uninhabitant", "uninhabited", "forest", "reserveforest"}

# Coordinates: the state's box (lat min, lat max, lng min, lng max) and, for a district, the
# median of the file's own points +- a margin of at least DISTRICT_MARGIN_DEG (about 55 km; the
# largest UP districts, Sonbhadra and Kheri, reach 0.6-0.7 degrees from their middle) or
# DISTRICT_SPREAD_FACTOR times the points' median absolute deviation, whichever is wider.
STATE_BOXES = {"9": (23.8, 30.5, 77.0, 84.7)}  # Uttar Pradesh
INDIA_BOX = (6.5, 37.5, 68.0, 97.5)
DISTRICT_MARGIN_DEG = 0.5
DISTRICT_SPREAD_FACTOR = 4.0

# Wards of one town with one name: rows this close are the same ward listed twice. A named
# mohalla is drawn at several points up to a few hundred metres apart (Tikri's "Dabra West",
# 0.6 km); unnamed wards ("M_Ward") sit 0.3 km apart and more, so only one point is one ward.
NAMED_WARD_REPEAT_KM = 1.0
UNNAMED_WARD_SAME_POINT_KM = 0.1
# A locality with its town's own name this close to the town's point is the town itself.
TOWN_ITSELF_KM = 0.1


@dataclass
class _PlaceRow:
    number: int
    name: str  # cleaned (``clean_name``); the file's spelling is ``raw_name``
    sub: str
    type: str
    latitude: float | None
    longitude: float | None
    code: str | None
    raw_name: str = ""
    flags: list[str] = field(default_factory=list)  # what the place's import note keeps of this row

    @property
    def point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


@dataclass
class _PlaceDraft:
    """A place as the file describes it, before it meets the database."""

    key: str
    kind: PlaceKind
    name_en: str
    rows: list[int]
    point: tuple[float, float] | None
    subdistrict: Subdistrict | None = None
    lgd_code: str | None = None
    census_2011_code: str | None = None
    aliases: list[str] = field(default_factory=list)
    uninhabited: bool = False
    town: _PlaceDraft | None = None
    ward_key: str = ""  # a ward's key below its town: "dabra-west", "m-ward@28.9918,77.7645"
    official_hi: str | None = None  # a Hindi name from an official list
    point_doubtful: bool = False  # a town's point shared with another town, with no wards to fix it
    flags: list[str] = field(default_factory=list)  # kept in Place.import_note


def import_places(path, district_code, local_bodies=None) -> ImportReport:
    """Import one district's villages, towns and wards from a file in any of ``PLACE_LAYOUTS``.

    The layout is told from the header: our places CSV (``baghpat_villages.csv``), or an LGD
    village, ward or local-body list as downloaded. A file over ``MAX_FILE_ROWS`` rows or
    ``MAX_FILE_BYTES`` is refused before its rows are read. Every row ends in ``row_keys`` or
    in a note saying why not; a second run changes nothing.

    **The places CSV.** Rows of type ``village`` are LGD villages (natural key ``lgd:<code>``);
    ``city`` rows are OpenStreetMap towns, ``ward`` and ``locality`` rows their wards, whose
    ``sub`` column holds the town's name (for villages it holds the sub-district). Quirks
    handled, each reported by row:

    - Names are cleaned to a searchable form (``clean_name``: stray ``| \\ ;`` and quotes,
      underscores, numbers glued to words, loose dashes, doubled spaces, unmatched
      parentheses); the file's spelling stays an alias. Names written in capitals are
      title-cased for display, the official spelling kept as an alias.
    - Coordinates outside the state's box, with latitude and longitude swapped, or outside the
      district (the median of the file's own points +- ``DISTRICT_MARGIN_DEG`` or more, see
      ``district_box``) are not stored, so the place is never attached by distance; the
      file's values stay in the place's import note.
    - A Census 2011 *town* code (six digits starting with 8) in ``lgd_code`` marks a town, not a
      village: it becomes a TOWN place ``census:<code>``, merged with the OSM town of the same
      name (normalised, phonetic, or a name in parentheses; "verify" when they lie over
      ``CENSUS_TOWN_MERGE_KM`` apart). The row's name is often a village's (BAZIDPUR for
      Baraut's 800723): given ``local_bodies``, an LGD local-body list, the official names of
      the census code count too (Badaut), and name a census town left on its own. A census
      town whose name no town shares stays a separate town without wards, flagged with the
      nearest town and its distance: nearness alone never merges two towns.
    - A village row without a code is imported under a key built from district, sub-district
      and normalised name; when its name marks a river-bed (KHADER), forest (RF) or deserted
      (VIRAN) parcel it is uninhabited; either way it is flagged.
    - A town whose coordinates equal another town's (copied from a neighbour), or which has
      none it may use, gets the centre of its wards instead, flagged. A locality listed under
      its own town with the town's name and point is the town itself.
    - Wards of one town with one name merge only when they lie close together (a named ward
      within ``NAMED_WARD_REPEAT_KM``, an unnamed one such as "M_Ward", "Ward No." or "Ward 12"
      within ``UNNAMED_WARD_SAME_POINT_KM``); farther apart they are distinct places, keyed by
      their point (``ward:<town key>:m-ward@28.9918,77.7645``) and numbered north to south
      ("M Ward 1", "M Ward 2"...). A ward or locality listed under two towns at the same point
      is one place, under the town whose centre is nearest.

    Wards hang on their town (``Place.town_id``) with key ``ward:<town key>:<name>``. Hindi
    names are transliterated (marked generated) unless the place has one from a source.

    **LGD lists** (``_import_lgd_villages``, ``_import_lgd_wards``, ``_import_lgd_local_bodies``)
    bring the official names: the "(In Local)" name, when it is Devanagari, becomes the Hindi
    name over any other; English spellings that differ become aliases. A village row updates the
    place ``lgd:<code>`` or creates it without coordinates.

    Every layout: a name corrected by hand (``Place.name_corrected``) is kept, and the file's
    spellings only join its aliases; aliases are never dropped; what a file does not say (a
    sub-district it cannot match, a village's LGD status) is left as it is. Stations are not
    touched here: new places wait in their district until ``attach_places_to_nearest_station``.
    """
    source = SourceFile(path, layouts=PLACE_LAYOUTS)
    district = _require_district(district_code)
    report = ImportReport("places", source.name)
    if source.layout is LGD_VILLAGES:
        saved = _import_lgd_villages(source, district, district_code, report)
    elif source.layout is LGD_WARDS:
        saved = _import_lgd_wards(source, district, report)
    elif source.layout is LGD_LOCAL_BODIES:
        saved = _import_lgd_local_bodies(source, district, district_code, report)
    else:
        official = _census_town_names(local_bodies) if local_bodies is not None else {}
        saved = _import_place_rows(source, district, district_code, report, official)
    # Names made searchable in bulk; only tokens that differ are written, so a re-run with
    # nothing changed leaves the index exactly as it was.
    search.reindex_places(saved)
    report.notes.sort(key=lambda note: (note.row is None, note.row or 0))
    db.session.flush()
    _audit("geo.places_imported", report, district)
    return report


def _import_place_rows(
    source: SourceFile,
    district: Unit,
    district_code,
    report: ImportReport,
    official: dict[str, list[tuple[str, str | None]]],
) -> list[Place]:
    rows = [_parse_place_row(source, row, district_code, report) for row in source.rows]
    _check_unique_codes(source, rows)
    _screen_coordinates(rows, district, report)

    match_subdistrict = _subdistrict_matcher(district)
    villages, census_rows = _village_drafts(rows, district, match_subdistrict, report)
    towns, wards = _town_drafts(rows, district, report)
    census_towns = _merge_census_towns(census_rows, towns, official, match_subdistrict, report)
    _give_towns_subdistricts(towns, rows, villages, match_subdistrict, report)
    for ward in wards:  # town keys are final only once census codes are merged in
        ward.subdistrict = ward.town.subdistrict
        ward.key = f"ward:{ward.town.key}:{ward.ward_key}"

    drafts = [*villages, *census_towns, *towns.values(), *wards]
    existing = {
        place.natural_key: place
        for place in db.session.scalars(
            select(Place).where(Place.natural_key.in_([d.key for d in drafts]))
        )
    }
    for draft in drafts:
        place = existing.get(draft.key)
        if place is not None and place.district_id != district.id:
            raise source.error(
                f"{draft.key} already belongs to another district", draft.rows[0], "lgd_code"
            )

    saved: dict[str, Place] = {}
    # Towns are flushed before their wards, so that a ward can point at its town's id.
    for group in ([d for d in drafts if d.kind != PlaceKind.WARD], wards):
        for draft in group:
            saved[draft.key] = _save_place(draft, district, existing.get(draft.key), saved, report)
            for number in draft.rows:
                report.row_keys[number] = draft.key
        db.session.flush()
    return list(saved.values())


def _parse_place_row(
    source: SourceFile, row: SourceRow, district_code, report: ImportReport
) -> _PlaceRow:
    file_district = source.code(row, "district_code")
    if not _same_code(file_district, district_code):
        raise source.error(
            f"district {file_district} in a file imported for district {district_code}",
            row.number,
            "district_code",
        )
    row_type = source.text(row, "type", required=True).lower()
    if row_type not in PLACE_ROW_TYPES:
        raise source.error(
            f"unknown type {row_type!r} (expected {', '.join(sorted(PLACE_ROW_TYPES))})",
            row.number,
            "type",
        )
    ward_like = row_type in {"ward", "locality"}
    raw_name = source.text(row, "name", required=not ward_like)
    name, repairs = clean_name(raw_name)
    if not name:
        if not ward_like:
            raise source.error(
                f"{raw_name!r} has no letters or digits to name a place by", row.number, "name"
            )
        name = "Ward" if row_type == "ward" else "Locality"  # an unnamed ward: see is_unnamed_ward
    if repairs:
        report.note(
            row.number,
            "flagged",
            raw_name or "(no name)",
            f"name cleaned to {name!r} ({'; '.join(repairs)}); the file's spelling is kept as an "
            "alias",
        )
    return _PlaceRow(
        number=row.number,
        name=name,
        sub=clean_name(source.text(row, "sub", required=row_type != "village"))[0],
        type=row_type,
        latitude=source.coordinate(row, "lat", 90),
        longitude=source.coordinate(row, "lng", 180),
        code=source.code(row, "lgd_code", required=False),
        raw_name=raw_name,
    )


def _check_unique_codes(source: SourceFile, rows: list[_PlaceRow]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.code is None:
            continue
        if row.code in seen:
            raise source.error(
                f"code {row.code} is also on row {seen[row.code]}", row.number, "lgd_code"
            )
        seen[row.code] = row.number


def _spellings(row: _PlaceRow) -> list[str]:
    """The spellings of a row worth keeping as aliases: the file's, and the cleaned one."""
    return [kept_spelling(row.raw_name), row.name] if row.raw_name else [row.name]


# ---- coordinates a district's file may use ----------------------------------------------------


def _box_text(box: tuple[float, float, float, float]) -> str:
    return f"lat {box[0]:.2f} to {box[1]:.2f}, lng {box[2]:.2f} to {box[3]:.2f}"


def _in_box(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    return box[0] <= point[0] <= box[1] and box[2] <= point[1] <= box[3]


def state_box(district: Unit) -> tuple[str, tuple[float, float, float, float]]:
    """The name and box of the state ``district`` lies in (India's box for a state we do not
    know)."""
    root = db.session.get(Unit, district.ancestor_ids[0]) if district.ancestor_ids else None
    if root is not None and root.kind == UnitKind.STATE and root.code in STATE_BOXES:
        return root.name_en, STATE_BOXES[root.code]
    return "India", INDIA_BOX


def district_box(
    points: list[tuple[float, float]], within: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """Where a district's places may lie, judged robustly from its own points: per axis, the
    median +- the wider of ``DISTRICT_MARGIN_DEG`` and ``DISTRICT_SPREAD_FACTOR`` times the
    median absolute deviation, cut to ``within`` (the state). A few wrong points cannot move it."""
    bounds = []
    for axis, (low, high) in enumerate(((within[0], within[1]), (within[2], within[3]))):
        values = [point[axis] for point in points]
        middle = statistics.median(values)
        spread = statistics.median(abs(value - middle) for value in values)
        margin = max(DISTRICT_MARGIN_DEG, DISTRICT_SPREAD_FACTOR * spread)
        bounds += [round(max(low, middle - margin), 4), round(min(high, middle + margin), 4)]
    return tuple(bounds)


def _screen_coordinates(rows: list[_PlaceRow], district: Unit, report: ImportReport) -> None:
    """Drop coordinates outside the state (or swapped), then those outside the district's box."""
    state_name, box = state_box(district)
    usable = []
    for row in rows:
        if row.point is None:
            continue
        if _in_box(row.point, box):
            usable.append(row)
        elif _in_box((row.point[1], row.point[0]), box):
            _reject_point(row, "have latitude and longitude swapped", report)
        else:
            _reject_point(row, f"lie outside {state_name} ({_box_text(box)})", report)
    if not usable:
        return
    inside = district_box([row.point for row in usable], box)
    for row in usable:
        if not _in_box(row.point, inside):
            _reject_point(
                row,
                f"lie outside {district.name_en} ({_box_text(inside)}: the median of "
                "the file's points +- a margin)",
                report,
            )


def _reject_point(row: _PlaceRow, reason: str, report: ImportReport) -> None:
    where = f"{row.latitude}, {row.longitude}"
    row.latitude = row.longitude = None
    row.flags.append(f"the file's coordinates {where} {reason}: not used; verify")
    report.note(
        row.number,
        "flagged",
        row.raw_name or row.name,
        f"coordinates {where} {reason}: not stored, so it is not attached to a station by "
        "distance; the file's values are kept in its import note",
    )


# ---- villages, towns and wards of a places CSV ------------------------------------------------


def _village_drafts(rows, district, match_subdistrict, report):
    """LGD villages, uncoded parcels, and the census-town rows set aside for merging."""
    villages: list[_PlaceDraft] = []
    census_rows: list[_PlaceRow] = []
    uncoded: dict[str, _PlaceDraft] = {}
    for row in rows:
        if row.type != "village":
            continue
        if row.code and CENSUS_TOWN_CODE.fullmatch(row.code):
            census_rows.append(row)
            continue
        subdistrict = match_subdistrict(row.sub)
        if subdistrict is None:
            report.note(
                row.number,
                "flagged",
                row.name,
                f"sub-district {row.sub!r} matches none of {district.name_en}'s; left blank",
            )
        name_en = display_name(row.name)
        draft = _PlaceDraft(
            key="",
            kind=PlaceKind.VILLAGE,
            name_en=name_en,
            rows=[row.number],
            point=row.point,
            subdistrict=subdistrict,
            aliases=_spellings(row),
            flags=list(row.flags),
        )
        if row.code:
            draft.key, draft.lgd_code = f"lgd:{_lgd(row.code)}", _lgd(row.code)
            deserted = _uninhabited_reason(row.name)
            if deserted:
                report.note(
                    row.number,
                    "flagged",
                    row.name,
                    f"name marks a {deserted}, but LGD lists it as village {row.code}: "
                    "kept inhabited; verify",
                )
            villages.append(draft)
            continue
        # No code: identity from district, sub-district and name (the same name recurs in
        # other sub-districts, never within one in this data).
        sub_part = subdistrict.lgd_code if subdistrict else "none"
        draft.key = f"name:{district.code}:{sub_part}:{normalised(row.name)}"
        reason = _uninhabited_reason(row.name)
        if reason:
            draft.uninhabited = True
            draft.flags.append(f"no LGD code; {reason}: imported as uninhabited")
            report.note(
                row.number,
                "flagged",
                row.name,
                f"no LGD code; {reason}: imported as uninhabited, never attached to a station",
            )
        else:
            draft.flags.append("no LGD code: kept as an inhabited village; verify against LGD")
            report.note(
                row.number,
                "flagged",
                row.name,
                "no LGD code and no river-bed/forest/deserted marker in the name: "
                "kept as an inhabited village; verify against LGD",
            )
        if draft.key in uncoded:
            uncoded[draft.key].rows.append(row.number)
            report.note(
                row.number,
                "merged",
                row.name,
                f"same name and sub-district as row {uncoded[draft.key].rows[0]}: one place",
            )
            continue
        uncoded[draft.key] = draft
        villages.append(draft)
    return villages, census_rows


def _uninhabited_reason(name: str) -> str | None:
    for word in re.split(r"[^A-Z]+", name.upper()):
        if word in UNINHABITED_MARKERS:
            return UNINHABITED_MARKERS[word]
    return None


def _town_drafts(rows, district, report):
    """OSM towns with corrected centres, and their wards merged where listed twice."""
    towns: dict[str, _PlaceDraft] = {}
    town_rows: dict[str, _PlaceRow] = {}
    for row in rows:
        if row.type != "city":
            continue
        slug = normalised(row.name)
        if slug in towns:
            towns[slug].rows.append(row.number)
            report.note(
                row.number, "merged", row.name, f"town already listed on row {towns[slug].rows[0]}"
            )
            continue
        towns[slug] = _PlaceDraft(
            key=f"town:{district.code}:{slug}",
            kind=PlaceKind.TOWN,
            name_en=row.name,
            rows=[row.number],
            point=row.point,
            aliases=_spellings(row),
            flags=list(row.flags),
        )
        town_rows[slug] = row

    ward_rows: dict[str, list[_PlaceRow]] = defaultdict(list)
    for row in rows:
        if row.type not in {"ward", "locality"}:
            continue
        slug = normalised(row.sub)
        if slug not in towns:
            report.note(
                row.number,
                "skipped",
                row.name,
                f"its town {row.sub!r} has no 'city' row in the file",
            )
            continue
        town_point = town_rows[slug].point
        if normalised(row.name) == slug and (
            row.point is None
            or town_point is None
            or distance_km(row.point, town_point) <= TOWN_ITSELF_KM
        ):
            towns[slug].rows.append(row.number)
            report.note(
                row.number,
                "merged",
                row.name,
                f"the town itself, listed again as a {row.type} of {towns[slug].name_en} "
                f"(row {towns[slug].rows[0]}) at its point: one place",
            )
            continue
        ward_rows[slug].append(row)

    _correct_town_coordinates(towns, town_rows, ward_rows, report)
    return towns, _ward_drafts(towns, ward_rows, report)


def _correct_town_coordinates(towns, town_rows, ward_rows, report) -> None:
    """Towns sharing one point were given a neighbour's coordinates, and towns without usable
    coordinates have none: either way the centre of their wards is used."""
    by_point: dict[tuple[float, float], list[str]] = defaultdict(list)
    for slug, town in towns.items():
        if town.point is not None:
            by_point[town.point].append(slug)
    for point, slugs in by_point.items():
        if len(slugs) < 2:
            continue
        for slug in slugs:
            town = towns[slug]
            others = ", ".join(
                f"{towns[o].name_en} (row {towns[o].rows[0]})" for o in slugs if o != slug
            )
            ward_points = [r.point for r in ward_rows.get(slug, []) if r.type == "ward" and r.point]
            if not ward_points:
                report.note(
                    town.rows[0],
                    "flagged",
                    town.name_en,
                    f"coordinates {point[0]}, {point[1]} are also given for {others}, and it has "
                    "no wards to correct them from: kept unless its census row has its own; verify",
                )
                town.flags.append("coordinates shared with another town; verify")
                town.point_doubtful = True
                continue
            town.point = _centre(ward_points)
            report.note(
                town.rows[0],
                "flagged",
                town.name_en,
                f"coordinates {point[0]}, {point[1]} are also given for {others}: replaced by "
                f"the centre of its {len(ward_points)} wards ({town.point[0]}, {town.point[1]})",
            )
            town.flags.append(
                f"source coordinates {point[0]}, {point[1]} belonged to another town: "
                "centre of its wards used"
            )
    for slug, town in towns.items():
        ward_points = [r.point for r in ward_rows.get(slug, []) if r.type == "ward" and r.point]
        if town.point is None and ward_points:
            town.point = _centre(ward_points)
            report.note(
                town.rows[0],
                "flagged",
                town.name_en,
                f"no usable coordinates in the file: the centre of its {len(ward_points)} "
                f"wards is used ({town.point[0]}, {town.point[1]})",
            )
            town.flags.append("no usable coordinates in the file: centre of its wards used")


def _ward_drafts(towns, ward_rows, report) -> list[_PlaceDraft]:
    # The same locality listed under two towns at the same point is one place, under the town
    # whose centre is nearest.
    home: dict[int, str] = {}
    sightings: dict[tuple, list[tuple[str, _PlaceRow]]] = defaultdict(list)
    for slug, rows in ward_rows.items():
        for row in rows:
            home[row.number] = slug
            if row.point is not None:
                sightings[(normalised(row.name), row.point)].append((slug, row))
    for listed in sightings.values():
        town_slugs = sorted({slug for slug, _ in listed})
        if len(town_slugs) < 2:
            continue
        point = listed[0][1].point
        chosen = min(
            town_slugs,
            key=lambda s: (distance_km(point, towns[s].point) if towns[s].point else math.inf, s),
        )
        where = " and ".join(f"{towns[s].name_en} (row {r.number})" for s, r in listed)
        for _, row in listed:
            home[row.number] = chosen
            report.note(
                row.number,
                "merged",
                row.name,
                f"listed under {where} at the same point: one place, under "
                f"{towns[chosen].name_en} (nearest town centre)",
            )

    # Then the rows of each town and name, in clusters of rows close enough to be one ward.
    groups: dict[tuple[str, str], list[_PlaceRow]] = defaultdict(list)
    rows_by_number = {row.number: row for rows in ward_rows.values() for row in rows}
    for number in sorted(home):
        row = rows_by_number[number]
        groups[(home[number], normalised(row.name))].append(row)
    drafts = []
    for (slug, name_key), rows in groups.items():
        clusters = _ward_clusters(rows)
        numbered = len(clusters) > 1
        if numbered:  # north to south, then west to east: stable whatever the file's order
            clusters.sort(
                key=lambda c: (c.point is None, -(c.point or (0, 0))[0], (c.point or (0, 0))[1])
            )
        for index, cluster in enumerate(clusters, start=1):
            first = cluster.rows[0]
            name_en, ward_key = first.name, name_key
            if numbered:
                name_en = _numbered(first.name, index)
                ward_key += (
                    f"@{cluster.point[0]:.4f},{cluster.point[1]:.4f}"
                    if cluster.point
                    else "@no-point"
                )
            draft = _PlaceDraft(
                key="",
                kind=PlaceKind.WARD,
                name_en=name_en,
                rows=[],
                point=cluster.point,
                town=towns[slug],
                ward_key=ward_key,
            )
            for row in cluster.rows:
                draft.rows.append(row.number)
                draft.aliases += [alias for alias in _spellings(row) if alias != name_en]
                draft.flags += row.flags
                if numbered:
                    report.note(
                        row.number,
                        "flagged",
                        row.raw_name or row.name,
                        f"{len(clusters)} {'unnamed wards' if cluster.unnamed else 'places'} "
                        f"called {first.name!r} in {towns[slug].name_en} lie apart: kept as "
                        f"distinct places, this one {name_en!r} (numbered north to south)",
                    )
                if row is not first and row.sub == first.sub:  # not the cross-town case above
                    report.note(
                        row.number,
                        "merged",
                        row.name,
                        f"ward name repeated in {towns[slug].name_en} (first on row "
                        f"{first.number}) at nearly the same point: one place at the mid-point of "
                        "the rows",
                    )
            if len(cluster.points) > 1:
                draft.flags.append("listed twice in the source: mid-point of the rows used")
            if numbered:
                draft.flags.append(
                    f"one of {len(clusters)} places called {first.name!r} in "
                    f"{towns[slug].name_en}: numbered; give it its real name"
                )
            drafts.append(draft)
    return drafts


@dataclass
class _WardCluster:
    rows: list[_PlaceRow]
    unnamed: bool
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def anchor(self) -> tuple[float, float] | None:
        return self.points[0] if self.points else None

    @property
    def point(self) -> tuple[float, float] | None:
        return _centre(self.points) if self.points else None


def _ward_clusters(rows: list[_PlaceRow]) -> list[_WardCluster]:
    """Rows of one town and name, grouped into the wards they describe: a row joins a ward whose
    first point is within the limit for its kind of name; a row without a point joins the
    first ward of a named place, or the other point-less rows of an unnamed one."""
    unnamed = is_unnamed_ward(rows[0].name)
    limit = UNNAMED_WARD_SAME_POINT_KM if unnamed else NAMED_WARD_REPEAT_KM
    clusters: list[_WardCluster] = []
    for row in rows:
        target = None
        if row.point is None:
            target = next((c for c in clusters if not unnamed or c.anchor is None), None)
        else:
            target = next(
                (
                    c
                    for c in clusters
                    if c.anchor is not None and distance_km(row.point, c.anchor) <= limit
                ),
                None,
            )
            if target is None and not unnamed:
                target = next((c for c in clusters if c.anchor is None), None)
        if target is None:
            target = _WardCluster([], unnamed)
            clusters.append(target)
        target.rows.append(row)
        if row.point is not None:
            target.points.append(row.point)
    return clusters


def _numbered(name: str, number: int) -> str:
    return (
        f"{name} ({number})"
        if re.search(r"[0-9]", name) or not is_unnamed_ward(name)
        else f"{name} {number}"
    )


# LGD's urban local body types (the "Localbody Type Code" column), to tell apart two local
# bodies of one name (Meerut's municipal corporation and its cantonment).
LGD_LOCAL_BODY_TYPES = {
    "4": "Municipal Corporation",
    "5": "Municipality",
    "6": "Notified Area Council",
    "7": "Town Panchayat",
    "8": "Municipal Council",
}


def _census_town_names(path) -> dict[str, list[tuple[str, str | None, str]]]:
    """Census 2011 town code -> the (English, Hindi, body type) names an LGD local-body list gives
    it."""
    source = SourceFile(path, layouts=(LGD_LOCAL_BODIES,))
    if not source.has("census_2011_code"):
        raise source.error(
            "an LGD local-body list needs its Census 2011 code column", 1, "Census 2011 Code"
        )
    names: dict[str, list[tuple[str, str | None, str]]] = defaultdict(list)
    for row in source.rows:
        census = source.text(row, "census_2011_code")
        name = clean_name(source.text(row, "name_en"))[0]
        if DIGITS.fullmatch(census) and census.strip("0") and name:
            names[census].append(
                (
                    name,
                    official_hindi(source.text(row, "name_local")),
                    LGD_LOCAL_BODY_TYPES.get(source.text(row, "type_code"), ""),
                )
            )
    return names


def _merge_census_towns(
    census_rows, towns, official, match_subdistrict, report
) -> list[_PlaceDraft]:
    """Give each Census 2011 town row to the town of the same name (its own, or an official one
    for its code); the others become towns of their own, flagged with the nearest town:
    nearness alone never merges two towns."""
    matched: dict[str, _PlaceRow] = {}
    leftovers = []
    for row in census_rows:
        names = [row.name, *(name for name, _, _ in official.get(row.code, ()))]
        slug = next(
            (
                s
                for s, town in towns.items()
                if s not in matched and any(_names_agree(name, town.name_en) for name in names)
            ),
            None,
        )
        if slug is None:
            leftovers.append(row)
        else:
            matched[slug] = row

    def lgd_names(row) -> tuple[list[str], str | None, str]:
        names = official.get(row.code, [])
        english = [name for name, _, _ in names]
        hindi = next((name_hi for _, name_hi, _ in names if name_hi), None)
        said = f" (LGD local bodies: {', '.join(english)})" if english else ""
        return english, hindi, said

    for slug, row in matched.items():
        town = towns[slug]
        english, hindi, said = lgd_names(row)
        km = distance_km(row.point, town.point) if row.point and town.point else None
        town.key = f"census:{row.code}"
        town.census_2011_code = row.code
        town.aliases += [*_spellings(row), *english]
        town.official_hi = hindi
        town.rows.append(row.number)
        town.flags += row.flags
        town.subdistrict = match_subdistrict(row.sub)
        reason = (
            f"Census 2011 town code {row.code}{said} in the lgd_code column: a town, not a "
            f"village; merged with the town of the same name {town.name_en} (row {town.rows[0]}), "
            + (f"{km:.1f} km apart" if km is not None else "no coordinates to compare")
        )
        if row.point is not None and (town.point is None or town.point_doubtful):
            town.point = row.point
            reason += "; the census row's coordinates are used (the town's were shared or unusable)"
            town.flags.append("coordinates of its Census 2011 row used")
        elif km is not None and km > CENSUS_TOWN_MERGE_KM:
            reason += "; verify"
            town.flags.append(
                f"Census 2011 town {row.code} ({row.name}) lies {km:.1f} km from it; verify"
            )
        report.note(row.number, "merged", row.name, reason)

    # A census town left on its own is named officially where it can be; two of one name (a
    # city's corporation and its cantonment) are told apart by the type of local body.
    proposed = {row.number: display_name((lgd_names(row)[0] or [row.name])[0]) for row in leftovers}
    taken = Counter(
        [*map(normalised, proposed.values()), *(normalised(t.name_en) for t in towns.values())]
    )
    drafts = []
    for row in leftovers:
        english, hindi, said = lgd_names(row)
        name_en = proposed[row.number]
        if taken[normalised(name_en)] > 1:
            kind = next((body for _, _, body in official.get(row.code, ()) if body), "")
            name_en = f"{name_en} ({kind or 'census town ' + row.code})"
        nearest = min(
            (
                (distance_km(row.point, town.point), slug)
                for slug, town in towns.items()
                if town.point and row.point
            ),
            default=None,
        )
        draft = _PlaceDraft(
            key=f"census:{row.code}",
            kind=PlaceKind.TOWN,
            name_en=name_en,
            rows=[row.number],
            point=row.point,
            subdistrict=match_subdistrict(row.sub),
            census_2011_code=row.code,
            aliases=[*_spellings(row), *english],
            official_hi=hindi,
            flags=list(row.flags),
        )
        if nearest is None:
            nearest_text = "no town with coordinates to compare"
            draft.flags.append("Census 2011 town with no town of its name in the file: no wards")
        else:
            km, slug = nearest
            nearest_text = (
                f"the nearest town, {towns[slug].name_en} (row {towns[slug].rows[0]}), is "
                f"{km:.1f} km away, but a different name"
            )
            draft.flags.append(
                "Census 2011 town with no town of its name in the file: no wards; the nearest, "
                f"{towns[slug].name_en}, is {km:.1f} km away; verify whether they are one town"
            )
        report.note(
            row.number,
            "flagged",
            row.name,
            f"Census 2011 town code {row.code}{said} in the lgd_code column: a town, not a "
            f"village; no town of the file has its name and {nearest_text}: kept as a separate "
            f"town {draft.name_en} without wards; verify",
        )
        drafts.append(draft)
    for slug, town in towns.items():
        if slug not in matched:
            report.note(
                town.rows[0],
                "flagged",
                town.name_en,
                "no Census 2011 town row has its name: kept as a town without a census code",
            )
    return drafts


def _names_agree(official: str, town_name: str) -> bool:
    """True when an official name, with or without what it adds in parentheses ("Jalalabad
    (Shamli)"), equals the town's name or a part of it in parentheses."""
    variants = {town_name, *re.findall(r"\(([^)]*)\)?", town_name), re.sub(r"\(.*", "", town_name)}
    wanted = _name_keys(official) | _name_keys(re.sub(r"\(.*", "", official))
    return any(_name_keys(variant) & wanted for variant in variants)


def _name_keys(name: str) -> set[str]:
    keys = {normalised(name), "~" + search_key(name)}
    return {key for key in keys if key.strip("~")}


def _give_towns_subdistricts(towns, rows, villages, match_subdistrict, report) -> None:
    """A town's ``sub`` column is its own name; take the sub-district from the census row, from
    the ``sub`` column when it happens to name a sub-district, else from the nearest village."""
    coded = [v for v in villages if v.lgd_code and v.point and v.subdistrict]
    rows_by_number = {row.number: row for row in rows}
    for town in towns.values():
        if town.subdistrict is None:
            town.subdistrict = match_subdistrict(rows_by_number[town.rows[0]].sub)
        if town.subdistrict is None and town.point and coded:
            nearest = min(coded, key=lambda v: distance_km(town.point, v.point))
            town.subdistrict = nearest.subdistrict
            report.note(
                town.rows[0],
                "flagged",
                town.name_en,
                f"sub-district taken from the nearest village {nearest.name_en} "
                f"({nearest.subdistrict.name_en})",
            )


def _save_place(
    draft: _PlaceDraft,
    district: Unit,
    place: Place | None,
    saved: dict[str, Place],
    report: ImportReport,
) -> Place:
    spellings = list(draft.aliases)
    if place is not None and place.name_corrected:
        # Corrected by hand: the staff's names stay, the file's spelling joins the aliases.
        name_en, name_hi, generated = place.name_en, place.name_hi, place.name_generated
        spellings.insert(0, draft.name_en)
        if draft.name_en != name_en:
            report.note(
                draft.rows[0],
                "flagged",
                draft.name_en,
                f"name corrected by hand kept ({name_en} / {name_hi}); the file's spelling is kept "
                "as an alias",
            )
    elif normalised(draft.name_en) == normalised(district.name_en) and not district.name_generated:
        # The district HQ town is written as the district is (बागपत), not transliterated.
        name_en, (name_hi, generated) = draft.name_en, (district.name_hi, False)
    elif draft.official_hi:
        name_en, name_hi, generated = draft.name_en, draft.official_hi, False
    else:
        name_en = draft.name_en
        name_hi, generated = _hindi_name(place, to_devanagari(draft.name_en), True)
    known = split_aliases(place.aliases) if place is not None else []
    aliases = join_aliases([*known, *spellings], name_en, name_hi)
    fields = {
        "kind": draft.kind,
        "lgd_code": draft.lgd_code,
        "census_2011_code": draft.census_2011_code,
        "name_en": name_en,
        "name_hi": name_hi,
        "name_generated": generated,
        "aliases": aliases,
        "search_key": geo.names_search_key(name_en, name_hi, aliases),
        "district_id": district.id,
        "subdistrict_id": draft.subdistrict.id if draft.subdistrict else None,
        "town_id": saved[draft.town.key].id if draft.town else None,
        "latitude": draft.point[0] if draft.point else None,
        "longitude": draft.point[1] if draft.point else None,
        "uninhabited": draft.uninhabited,
        "import_note": "; ".join(dict.fromkeys(draft.flags)),
    }
    if place is None:
        # A new place is unattached: its district answers for it, as ``geo.add_place`` without
        # a station would record. Added in bulk: a flush per place costs minutes at state scale.
        place = Place(natural_key=draft.key, unit_path=district.path, **fields)
        db.session.add(place)
        report.tally("created")
        return place
    # What this file cannot say is left as another source set it: a sub-district it does not
    # name, and a coded village's LGD status (only the LGD list says whether people live there).
    if draft.subdistrict is None:
        fields.pop("subdistrict_id")
    if draft.lgd_code is not None:
        fields.pop("uninhabited")
    report.tally("updated" if _apply(place, fields) else "unchanged")
    return place


# ---- official LGD lists ----------------------------------------------------------------------


def _listed_place(
    key: str, kind: PlaceKind, name_en: str, hindi: str, spellings, district: Unit, **fields
) -> Place:
    """A place an official list names but the places file did not have: its Hindi name is the
    list's, else transliterated and marked generated; its other spellings are aliases, and the
    search key holds them all. Answered for by its district until attached to a station."""
    name_hi, generated = (hindi, False) if hindi else (to_devanagari(name_en), True)
    aliases = join_aliases(spellings, name_en, name_hi)
    return Place(
        natural_key=key,
        kind=kind,
        name_en=name_en,
        name_hi=name_hi,
        name_generated=generated,
        aliases=aliases,
        search_key=geo.names_search_key(name_en, name_hi, aliases),
        district_id=district.id,
        unit_path=district.path,
        **fields,
    )


def _official_names(
    place: Place, name_hi: str | None, spellings: list[str], number: int, report: ImportReport
) -> dict:
    """The name fields an LGD row gives an existing place: its official Hindi name (over a
    generated one or another source's; never over one corrected by hand), and its spellings as
    aliases. The English name stays (the places file's), so the two files never undo each other."""
    spellings = list(spellings)
    final_hi, generated = place.name_hi, place.name_generated
    if name_hi and place.name_corrected:
        spellings.append(name_hi)
        if name_hi != place.name_hi:
            report.note(
                number,
                "flagged",
                place.name_en,
                f"name corrected by hand kept ({place.name_hi}); LGD's {name_hi} is kept as an "
                "alias",
            )
    elif name_hi and (name_hi != place.name_hi or place.name_generated):
        if place.name_hi and not place.name_generated:
            spellings.append(place.name_hi)
            report.note(
                number,
                "flagged",
                place.name_en,
                f"LGD's Hindi name {name_hi} replaces {place.name_hi} (kept as an alias)",
            )
        final_hi, generated = name_hi, False
    aliases = join_aliases([*split_aliases(place.aliases), *spellings], place.name_en, final_hi)
    return {
        "name_hi": final_hi,
        "name_generated": generated,
        "aliases": aliases,
        "search_key": geo.names_search_key(place.name_en, final_hi, aliases),
    }


def _lgd_name(
    source: SourceFile, row: SourceRow, report: ImportReport
) -> tuple[str, str, str | None, list[str]]:
    """(the file's English name, cleaned, the official Hindi name, spellings to keep)."""
    raw = source.text(row, "name_en", required=True)
    name, repairs = clean_name(raw)
    if not name:
        raise source.error(
            f"{raw!r} has no letters or digits to name a place by",
            row.number,
            source.column("name_en"),
        )
    if repairs:
        report.note(
            row.number,
            "flagged",
            raw,
            f"name cleaned to {name!r} ({'; '.join(repairs)}); the file's spelling is kept as an "
            "alias",
        )
    local = " ".join(source.text(row, "name_local").split())
    hindi = official_hindi(local)
    spellings = [kept_spelling(raw), name]
    if local and not hindi:
        spellings.append(kept_spelling(local))
        report.note(
            row.number,
            "flagged",
            raw,
            f"local name {local!r} is not in Devanagari: kept as an alias, not as the Hindi name",
        )
    return raw, name, hindi, spellings


def _import_lgd_villages(
    source: SourceFile, district: Unit, district_code, report: ImportReport
) -> list[Place]:
    """An LGD village list ("All Villages of a State/District" as downloaded, this district's rows).

    Each row updates the place ``lgd:<code>`` (official Hindi name, sub-district, and
    "Un-Inhabitant"/"Forest" status as uninhabited) or, when there is none, creates the village
    without coordinates (flagged: it waits for coordinates or to be attached by hand). A row of
    another district is an error naming the row.
    """
    match_subdistrict = _subdistrict_matcher(district)
    by_code = {
        s.lgd_code: s
        for s in db.session.scalars(
            select(Subdistrict).where(Subdistrict.district_id == district.id)
        )
    }
    parsed, seen = [], {}
    for row in source.rows:
        file_district = source.code(row, "district_code")
        if not _same_code(file_district, district_code):
            raise source.error(
                f"district {file_district} in a file imported for district {district_code}: "
                "keep only this district's rows",
                row.number,
                source.column("district_code"),
            )
        code = _lgd(source.code(row, "code"))
        if code in seen:
            raise source.error(
                f"village {code} is also on row {seen[code]}", row.number, source.column("code")
            )
        seen[code] = row.number
        parsed.append((row, code, *_lgd_name(source, row, report)))

    existing = {
        place.natural_key: place
        for place in db.session.scalars(
            select(Place).where(Place.natural_key.in_([f"lgd:{code}" for _, code, *_ in parsed]))
        )
    }
    saved = []
    for row, code, raw, name, hindi, spellings in parsed:
        key = f"lgd:{code}"
        place = existing.get(key)
        if place is not None and place.district_id != district.id:
            raise source.error(
                f"{key} already belongs to another district", row.number, source.column("code")
            )
        sub_code = (
            source.code(row, "subdistrict_code", required=False)
            if source.has("subdistrict_code")
            else None
        )
        sub_name = source.text(row, "subdistrict_name")
        subdistrict = by_code.get(_lgd(sub_code)) if sub_code else None
        subdistrict = subdistrict or match_subdistrict(sub_name)
        if subdistrict is None and (sub_code or sub_name):
            report.note(
                row.number,
                "flagged",
                raw,
                f"sub-district {sub_code or ''} {sub_name!r} matches none of "
                f"{district.name_en}'s; left as it was",
            )
        status = source.text(row, "status")
        uninhabited = _header_key(status) in LGD_UNINHABITED_STATUSES if status else None
        if place is None:
            place = _listed_place(
                key,
                PlaceKind.VILLAGE,
                display_name(name),
                hindi,
                spellings,
                district,
                lgd_code=code,
                subdistrict_id=subdistrict.id if subdistrict else None,
                uninhabited=bool(uninhabited),
                import_note="from the LGD village list, without coordinates; attach it by hand",
            )
            db.session.add(place)
            report.tally("created")
            report.note(
                row.number,
                "flagged",
                raw,
                f"village {code} was not among the district's places: created from the LGD list "
                "without coordinates, so it is not attached by distance; attach it by hand",
            )
        else:
            fields = _official_names(place, hindi, spellings, row.number, report)
            if subdistrict is not None:
                fields["subdistrict_id"] = subdistrict.id
            if uninhabited is not None:
                if uninhabited != place.uninhabited:
                    report.note(
                        row.number,
                        "flagged",
                        raw,
                        f"LGD status {status!r}: "
                        + ("uninhabited" if uninhabited else "inhabited"),
                    )
                fields["uninhabited"] = uninhabited
            report.tally("updated" if _apply(place, fields) else "unchanged")
        report.row_keys[row.number] = key
        saved.append(place)
    db.session.flush()
    return saved


def _district_towns(district: Unit) -> list[Place]:
    return list(
        db.session.scalars(
            select(Place)
            .where(Place.district_id == district.id, Place.kind == PlaceKind.TOWN)
            .order_by(Place.natural_key)
        )
    )


def _towns_named(towns: list[Place], name: str) -> list[Place]:
    return [
        town
        for town in towns
        if any(
            _names_agree(name, spelling)
            for spelling in (town.name_en, *split_aliases(town.aliases))
        )
    ]


def _import_lgd_local_bodies(
    source: SourceFile, district: Unit, district_code, report: ImportReport
) -> list[Place]:
    """An LGD list of urban local bodies (all of the state's, as downloaded).

    A row is matched to a town of the district by its Census 2011 code, else by its name (then
    flagged to verify), and gives it its official names. The list has no district column (the
    "with coverage" report does, and rows of other districts are skipped), so a row matching no
    town of this district is skipped with a note: local bodies are never created from it.
    """
    towns = _district_towns(district)
    by_census = {town.census_2011_code: town for town in towns if town.census_2011_code}
    seen: dict[str, int] = {}
    saved = []
    for row in source.rows:
        code = source.code(row, "code")
        raw, name, hindi, spellings = _lgd_name(source, row, report)
        if code in seen:
            report.note(row.number, "merged", raw, f"local body {code} is also on row {seen[code]}")
            if seen[code] in report.row_keys:
                report.row_keys[row.number] = report.row_keys[seen[code]]
            continue
        seen[code] = row.number
        if source.has("district_code"):
            file_district = source.code(row, "district_code", required=False)
            if file_district and not _same_code(file_district, district_code):
                report.note(row.number, "skipped", raw, f"a local body of district {file_district}")
                continue
        census = (
            source.code(row, "census_2011_code", required=False)
            if source.has("census_2011_code")
            else None
        )
        census = census if census and census.strip("0") else None  # LGD writes 000000 for none
        town = by_census.get(census) if census else None
        if town is None:
            named = _towns_named(towns, name)
            if len(named) > 1:
                report.note(
                    row.number,
                    "skipped",
                    raw,
                    f"its name fits several towns of {district.name_en} "
                    f"({', '.join(t.name_en for t in named)}): give its names by hand",
                )
                continue
            town = named[0] if named else None
            if town is not None:
                report.note(
                    row.number,
                    "flagged",
                    raw,
                    f"matched to town {town.name_en} ({town.natural_key}) by "
                    f"name only (census code {census or 'none'} matches no town); verify",
                )
        if town is None:
            report.note(
                row.number,
                "skipped",
                raw,
                f"no town of {district.name_en} has census code {census or '(none)'} or this name: "
                "not one of its towns, or import its places first",
            )
            continue
        report.tally(
            "updated"
            if _apply(town, _official_names(town, hindi, spellings, row.number, report))
            else "unchanged"
        )
        report.row_keys[row.number] = town.natural_key
        saved.append(town)
    db.session.flush()
    return saved


def _import_lgd_wards(source: SourceFile, district: Unit, report: ImportReport) -> list[Place]:
    """An LGD list of the wards of urban local bodies (as downloaded).

    A row's local body is matched to a town of the district by name (rows of other towns are
    skipped with a note). The ward is the place ``ward:<town key>:lgd-<ward code>``, else the
    town's ward of the same name (from the places file, which then gets its official names),
    else a new ward of the town without coordinates (it goes with its town's station). An
    unnamed ward is called "Ward <number>".
    """
    towns = _district_towns(district)
    wards = list(
        db.session.scalars(
            select(Place).where(Place.district_id == district.id, Place.kind == PlaceKind.WARD)
        )
    )
    by_key = {ward.natural_key: ward for ward in wards}
    by_name = {(ward.town_id, normalised(ward.name_en)): ward for ward in wards}
    town_of: dict[str, Place | None] = {}
    seen: dict[str, int] = {}
    saved = []
    new_wards = []
    for row in source.rows:
        body = " ".join(source.text(row, "body_name", required=True).split())
        code = source.code(row, "code")
        if code in seen:
            raise source.error(
                f"ward {code} is also on row {seen[code]}", row.number, source.column("code")
            )
        seen[code] = row.number
        number = source.text(row, "number")
        if normalised(body) not in town_of:
            named = _towns_named(towns, clean_name(body)[0])
            town_of[normalised(body)] = named[0] if len(named) == 1 else None
        town = town_of[normalised(body)]
        raw = source.text(row, "name_en")
        if town is None:
            report.note(
                row.number,
                "skipped",
                raw or f"ward {number or code}",
                f"its local body {body!r} is not one town of {district.name_en} "
                "(none or several match its name)",
            )
            continue
        name, repairs = clean_name(raw)
        if repairs:
            report.note(
                row.number,
                "flagged",
                raw,
                f"name cleaned to {name!r} ({'; '.join(repairs)}); "
                "the file's spelling is kept as an alias",
            )
        label = f"Ward {number}" if number else f"Ward {code}"
        name_en = name if name and not is_unnamed_ward(name) else label
        local = " ".join(source.text(row, "name_local").split())
        hindi = official_hindi(local)
        spellings = [
            s
            for s in (kept_spelling(raw), name, label, None if hindi else kept_spelling(local))
            if s
        ]
        key = f"ward:{town.natural_key}:lgd-{code}"
        place = by_key.get(key) or by_name.get((town.id, normalised(name_en)))
        if place is None:
            place = _listed_place(
                key,
                PlaceKind.WARD,
                name_en,
                hindi,
                spellings,
                district,
                subdistrict_id=town.subdistrict_id,
                town_id=town.id,
                import_note="from the LGD ward list, without coordinates; goes with its town",
            )
            db.session.add(place)
            by_key[key] = by_name[(town.id, normalised(name_en))] = place
            new_wards.append(place)
            report.tally("created")
            report.note(
                row.number,
                "flagged",
                name_en,
                f"ward {code} of {town.name_en} was not among its wards: created without "
                "coordinates",
            )
        else:
            report.tally(
                "updated"
                if _apply(place, _official_names(place, hindi, spellings, row.number, report))
                else "unchanged"
            )
        report.row_keys[row.number] = place.natural_key
        saved.append(place)
    db.session.flush()
    return saved


# ---- police stations -------------------------------------------------------------------------

# Column roles of a stations file and the header spellings accepted for each. Headers are
# compared after ``_header_key`` (case, spaces, underscores and punctuation ignored), so
# "District LGD Code" is ``district_lgd_code``. The Baghpat layout's names come first.
STATION_HEADERS = {
    # the district's LGD code, checked against the district imported (required)
    "district": (
        "district_lgd_code",
        "district_code",
        "district_lgd",
        "lgd_district_code",
        "जिला_कोड",
    ),
    # the station's name in Devanagari
    "name_hi": (
        "thana_hi_source_b",
        "name_hi",
        "thana_hi",
        "station_hi",
        "station_name_hi",
        "police_station_hi",
        "थाने_का_नाम",
    ),
    # a second Hindi spelling (another source), kept as an alias
    "other_hi": ("thana_hi_source_a", "other_name_hi", "alias_hi"),
    # the station's name in either script: Devanagari is the Hindi name, Roman the English one
    "name": (
        "thana",
        "thana_name",
        "police_station",
        "police_station_name",
        "name_of_police_station",
        "ps",
        "ps_name",
        "station",
        "station_name",
        "name",
        "थाना",
        "पुलिस_स्टेशन",
    ),
    # the station's name in Roman letters
    "name_en": (
        "thana_en_source_c",
        "name_en",
        "thana_en",
        "station_en",
        "station_name_en",
        "police_station_en",
    ),
    # the HQ place's Census 2011 town code or LGD village code
    "hq_code": ("hq_place_code", "hq_code", "hq_lgd_code", "hq_census_code"),
    # the HQ place's name (free text; "KHEKRA / Khekada (ULB 297023)" gives two spellings)
    "hq_name": ("hq_place_lgd_or_census_name", "hq_name", "hq_place_name", "hq_town", "hq_village"),
    # the HQ place's code (digits) or name (anything else)
    "hq": ("hq", "hq_place", "headquarters", "मुख्यालय"),
    "hq_subdistrict": ("hq_subdistrict", "subdistrict", "tehsil", "तहसील"),
    "circle": ("circle", "circle_name", "सर्किल"),
    "note": ("note", "notes", "remarks", "टिप्पणी"),
}
STATION_NAME_ROLES = ("name_hi", "other_hi", "name", "name_en")

# Words that name the *kind* of station, written before its name in public lists: "थाना
# कैराना", "कोतवाली शामली", "PS Kairana", "P.S. Kandhla". Only a leading word, followed by a
# space or punctuation, is a station word ("थानाभवन" is one word).
STATION_WORD_PREFIX = re.compile(
    r"(?:(?:थाना|कोतवाली|thana|kotwali|ps)(?=[\s.:-])|p\.\s?s\.)[\s.:-]*", re.IGNORECASE
)
# What is left after a station word can be no place's name: "कोतवाली देहात" (the rural
# kotwali) or "Kotwali Nagar" keep their station word.
GENERIC_STATION_WORDS = {
    "नगर",
    "देहात",
    "शहर",
    "सदर",
    "थाना",
    "कोतवाली",
    "nagar",
    "dehat",
    "shahar",
    "sadar",
    "city",
    "thana",
    "kotwali",
}

# Curated English spellings of the words station names are made of, besides place names
# (which come from the district's places, sub-districts and districts). Used only when the file
# gives no English name and the station is not named after its HQ place.
STATION_WORDS_EN = {
    "थाना": "Thana",
    "कोतवाली": "Kotwali",
    "महिला": "Mahila",
    "देहात": "Dehat",
    "नगर": "Nagar",
    "शहर": "Shahar",
    "सदर": "Sadar",
    "मंडी": "Mandi",
    "मण्डी": "Mandi",
    "आदर्श": "Adarsh",
    "कैंट": "Cantt",
    "कैण्ट": "Cantt",
    "छावनी": "Chhawani",
    "सिविल": "Civil",
    "लाइंस": "Lines",
    "लाइन्स": "Lines",
    "लाइन": "Line",
    "चौक": "Chowk",
    "बाजार": "Bazar",
    "बाज़ार": "Bazar",
    "गंज": "Ganj",
    "पुरानी": "Purani",
    "पुराना": "Purana",
    "नई": "Nai",
    "नया": "Naya",
    "कॉलोनी": "Colony",
    "कालोनी": "Colony",
    "औद्योगिक": "Audyogik",
    "क्षेत्र": "Kshetra",
    "साइबर": "Cyber",
    "क्राइम": "Crime",
    "रेलवे": "Railway",
    "जीआरपी": "GRP",
    "उत्तर": "Uttar",
    "दक्षिण": "Dakshin",
    "पूर्व": "Purv",
    "पश्चिम": "Paschim",
    "मध्य": "Madhya",
    "सेक्टर": "Sector",
    "फेज": "Phase",
    "फ़ेज़": "Phase",
    "पुलिस": "Police",
    "चौकी": "Chowki",
    "टाउन": "Town",
    "कस्बा": "Kasba",
    "रोड": "Road",
    "गेट": "Gate",
    "विहार": "Vihar",
    "पार्क": "Park",
}
# English names a file may give the district women police station.
WOMEN_STATION_NAMES_EN = (
    "mahila thana",
    "mahila police station",
    "women police station",
    "women thana",
    "mahila ps",
    "women ps",
)
DEVANAGARI = re.compile(r"[\u0900-\u097f]")
# A station is taken to be named after its HQ place when their phonetic keys agree this much
# (सिंघावली अहीर / Singauli Ahir: 0.9; आदर्श मंडी / Shamli: 0.36).
NAMED_AFTER_HQ_SIMILARITY = 0.8


@dataclass
class _StationRow:
    number: int
    name_hi: str
    other_hi: str
    name_en_source: str
    hq_text: str
    hq_code: str | None
    hq_subdistrict: str
    circle: str
    source_note: str
    hi_generated: bool = False  # the file gives the name in Roman letters only
    # Hindi names this station may already be imported under (with or without its station word).
    earlier_hi: tuple[str, ...] = ()
    # the HQ's name from the file's hq column (or its free text): matched instead of the station's
    hq_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # flags found while reading the row


@dataclass
class _StationColumns:
    """The file's header name for each column role it has (``STATION_HEADERS``)."""

    by_role: dict[str, str]

    def __getitem__(self, role: str) -> str | None:
        return self.by_role.get(role)

    def hq_hint(self) -> str:
        """Where the file takes an HQ, for messages: the file's own column, else the usual one."""
        for role in ("hq_code", "hq"):
            if self[role]:
                return f"column {self[role]!r}"
        return "a column 'hq_place_code' (or 'hq' with the HQ's code or name)"


def import_stations(path, district_code) -> ImportReport:
    """Import one district's police stations from a CSV list, in any of the accepted layouts.

    Columns (``STATION_HEADERS``; any order, case and spacing of the header; other columns are
    ignored and listed in the report): the district's LGD code (``district_lgd_code`` or
    ``district_code``, required, checked against the district imported); the name in Hindi
    (``name_hi``) or in either script (``thana``, ``police_station``, ``थाना``...), at least one
    name per row; optional ``name_en``; the HQ place as a code (``hq_place_code``, ``hq_code``),
    a name (``hq_name``) or either (``hq``, ``hq_place``); optional ``hq_subdistrict``,
    ``circle`` and ``note``. Baghpat's file (``baghpat_police_stations.csv``: Hindi from source B,
    else source A kept as an alias; English from source C; HQ code and free-text name) is one
    such layout.

    Station words: "थाना", "कोतवाली", "Thana", "Kotwali", "PS", "P.S." are stripped from the
    start of a name only ("महिला थाना" keeps its word). The word stays when it belongs to a place's
    name: if the name without it matches none of the district's towns and villages but the whole
    name does ("थाना भवन", the town Thana Bhawan), the whole name is kept, and so it is when only a
    generic word would be left ("कोतवाली देहात").

    HQ place: a code is a Census 2011 town code or an LGD village code of a place already
    imported (import places first). Without a code, the HQ's name (else the station's own names)
    is matched against the district's inhabited towns, then villages, by Hindi name, English
    name and aliases, exactly, then by the phonetic ``search_key`` (बड़ौत = Baraut). A name that
    matches two places of the same rank (two villages called Rampur), or a place that another
    row already has as its HQ, is flagged and not used. The HQ place is attached to its station
    with the reason ``HQ_SPELL_REASON``, which is how the station's coordinates are found later.
    Stations without an HQ (and the women police station) are imported and flagged.

    English names: the file's, without a leading station word; else "Mahila Thana" for the
    women police station; else the HQ place's English name when the station is named after it
    (keys at least ``NAMED_AFTER_HQ_SIMILARITY`` alike); else the last spelling of the file's HQ
    text ("Badaut / Baraut"); else a curated spelling, for the whole name or word by word, from
    ``STATION_WORDS_EN``, the district's places, its sub-districts (LGD) and the districts; only
    then ``to_roman`` (marked generated). Every name not taken from the file is flagged. A name
    given in Roman letters only gets a transliterated Hindi name (marked generated).

    The file carries no official station code, so the code is a stable slug
    ``<district LGD code>-<ENGLISH NAME>`` (``124-BARAUT``); a station already imported under
    another code is recognised by its Hindi name (with or without its station word) and re-coded.

    Circles: a ``circle`` column wins when the file has one. Otherwise each station goes under
    the circle named after its HQ sub-district (the file's, else its HQ place's: "Baraut
    circle"), and a station with neither under the circle named after the district ("Baghpat
    circle"), where the district HQ's stations sit. A station already imported stays in its
    circle.
    """
    source = SourceFile(path, ())
    columns = _station_columns(source)
    district = _require_district(district_code)
    places = _PlaceNames(district)
    rows = [_parse_station_row(source, columns, row, district_code, places) for row in source.rows]
    report = ImportReport("police stations", source.name)
    ignored = [name for name in source.header if name and name not in columns.by_role.values()]
    if ignored:
        report.note(1, "flagged", "columns ignored", ", ".join(ignored))
    if not places.places:
        report.note(
            None,
            "flagged",
            f"no places of {district.name_en}",
            "no HQ can be found by name, and a station word cannot be told from a place's name: "
            f"import places first (`flask cplan geo places --district {district.code} FILE`), then "
            "this file again",
        )

    hq_places, hq_matches = _find_headquarters(district, rows, places, columns)
    english = _EnglishNames(district, places)
    planned = []
    codes: dict[str, int] = {}
    for row in rows:
        hq_place = hq_places.get(row.number)
        name_en, generated, origin = _station_name_en(row, hq_place, english)
        slug = normalised(name_en).upper()
        if not slug:  # a transliteration without Latin letters: key the code on the Hindi name
            slug = "HI-" + hashlib.sha1(row.name_hi.encode()).hexdigest()[:8].upper()
        code = unit_code(f"{district.code}-{slug}")
        if code in codes:
            column = (
                columns["name_en"]
                if row.name_en_source
                else (columns["name_hi"] or columns["name"])
            )
            raise source.error(
                f"station code {code} is also made from row {codes[code]}: the "
                "same station twice, or give the two different English names",
                row.number,
                column,
            )
        codes[code] = row.number
        planned.append((row, hq_place, name_en, generated or row.hi_generated, origin, code))

    stations = list(db.session.scalars(geo.units_under(district, UnitKind.STATION)))
    by_code = {s.code: s for s in stations}
    by_name_hi = {s.name_hi: s for s in stations}
    hq_of = station_headquarters(district)
    # Circles are named after places that stations are named after: reuse the sources' Hindi.
    hindi_by_name = {normalised(name_en): row.name_hi for row, _, name_en, _, _, _ in planned}
    hindi_by_name[normalised(district.name_en)] = district.name_hi
    for row, hq_place, name_en, generated, origin, code in planned:
        circle = _ensure_circle(district, row, hq_place, hindi_by_name, report)
        aliases = join_aliases(
            [row.other_hi, *_hq_spellings(row.hq_text), row.name_en_source], name_en, row.name_hi
        )
        fields = {
            "code": code,
            "name_en": name_en,
            "name_hi": row.name_hi,
            "name_generated": generated,
            "aliases": aliases,
            "search_key": geo.names_search_key(name_en, row.name_hi, aliases),
        }
        station = by_code.get(code) or next(
            (by_name_hi[name] for name in (row.name_hi, *row.earlier_hi) if name in by_name_hi),
            None,
        )
        if station is None:
            fields.pop("name_en")
            station = geo.create_unit(UnitKind.STATION, name_en, circle, **fields)
            outcome = "created"
        else:
            if station.code != code:
                report.note(
                    row.number,
                    "flagged",
                    row.name_hi,
                    f"code changed from {station.code} to {code}",
                )
            if station.name_hi != row.name_hi:
                report.note(
                    row.number, "flagged", row.name_hi, f"Hindi name changed from {station.name_hi}"
                )
            outcome = "updated" if _apply(station, fields) else "unchanged"
            if station.parent_id != circle.id:
                report.note(
                    row.number,
                    "flagged",
                    row.name_hi,
                    f"stays in its circle {station.parent.name_en} (the file's rule gives "
                    f"{circle.name_en})",
                )
        if (
            _link_headquarters(station, hq_place, hq_of.get(station.id), row, report)
            and outcome == "unchanged"
        ):
            outcome = "updated"
        report.tally(outcome)
        report.row_keys[row.number] = code
        _name_hq_place_in_hindi(station, hq_place, row, report)
        _flag_station(
            row,
            station,
            hq_place,
            hq_matches.get(row.number, ""),
            origin,
            district,
            bool(places.places),
            columns,
            report,
        )
    db.session.flush()
    _audit("geo.stations_imported", report, district)
    return report


def _station_columns(source: SourceFile) -> _StationColumns:
    """Which of the file's columns plays each role; a role given twice or a missing name or
    district column is an error naming row 1 and the column."""
    role_of = {
        _header_key(spelling): role
        for role, spellings in STATION_HEADERS.items()
        for spelling in spellings
    }
    by_role: dict[str, str] = {}
    for name in source.header:
        role = role_of.get(_header_key(name))
        if role is None:
            continue
        if role in by_role:
            raise source.error(
                f"gives the same thing as column {by_role[role]!r}: keep one of them", 1, name
            )
        by_role[role] = name
    if "district" not in by_role:
        raise source.error(
            "no column for the district's LGD code: name it district_code (or district_lgd_code)",
            1,
            "district_code",
        )
    if not any(role in by_role for role in STATION_NAME_ROLES):
        raise source.error(
            "no column for the station's name: name it name_hi (Hindi), thana or "
            "police_station (either script) or थाना, and name_en for English",
            1,
            "name_hi",
        )
    if "name_hi" in by_role and "name" in by_role:
        raise source.error(
            f"gives the station's name like column {by_role['name_hi']!r}: keep one of them",
            1,
            by_role["name"],
        )
    return _StationColumns(by_role)


def _parse_station_row(
    source: SourceFile, columns: _StationColumns, row: SourceRow, district_code, places: _PlaceNames
) -> _StationRow:
    def text(role: str) -> str:
        return source.text(row, columns[role]) if columns[role] else ""

    file_district = source.code(row, columns["district"])
    if not _same_code(file_district, district_code):
        raise source.error(
            f"district {file_district} in a file imported for district {district_code}",
            row.number,
            columns["district"],
        )
    name_hi, other_hi, name_en = text("name_hi"), text("other_hi"), text("name_en")
    for role, value in (("name_hi", name_hi), ("other_hi", other_hi)):
        if value and not DEVANAGARI.search(value):
            raise source.error(
                f"{value!r} is not written in Devanagari (give the English name in a name_en "
                "column)",
                row.number,
                columns[role],
            )
    if name_en and DEVANAGARI.search(name_en):
        raise source.error(
            f"{name_en!r} is not written in Roman letters", row.number, columns["name_en"]
        )
    either = text("name")
    if DEVANAGARI.search(either):
        name_hi = either
    elif either and not name_en:
        name_en = either
    elif either:
        raise source.error(
            f"{either!r} is not written in Devanagari, and the English name is in "
            f"column {columns['name_en']!r}",
            row.number,
            columns["name"],
        )

    notes: list[str] = []
    earlier: list[str] = []
    if name_hi:
        name_hi, kept, earlier = _without_station_word(name_hi, places)
        if kept:
            notes.append(kept)
    if other_hi:
        other_hi, _, other_forms = _without_station_word(other_hi, places)
        earlier += other_forms
    if name_en:
        name_en, kept_en, _ = _without_station_word(name_en, places)
        if kept_en and not name_hi:
            notes.append(kept_en)
    if not (name_hi or other_hi or name_en):
        column = columns["name_hi"] or columns["name"] or columns["name_en"]
        raise source.error("the station has no name", row.number, column)
    hi_generated = False
    if not (name_hi or other_hi):
        if name_en.lower() in WOMEN_STATION_NAMES_EN:
            name_hi, name_en = f"{WOMEN_STATION_WORD} {THANA_PREFIX}", WOMEN_STATION_NAME_EN
        else:
            name_hi, hi_generated = to_devanagari(name_en), True

    hq_code, hq_text = None, text("hq_name")
    if columns["hq_code"]:
        hq_code = source.code(row, columns["hq_code"], required=False)
    hq_value = text("hq")
    if hq_value and DIGITS.fullmatch(hq_value):
        if hq_code and hq_code != hq_value:
            raise source.error(
                f"HQ code {hq_value} differs from {hq_code} in column {columns['hq_code']!r}",
                row.number,
                columns["hq"],
            )
        hq_code = hq_value
    elif hq_value:
        hq_text = hq_text or hq_value
    return _StationRow(
        number=row.number,
        name_hi=name_hi or other_hi,
        other_hi=other_hi if name_hi and other_hi != name_hi else "",
        name_en_source=name_en,
        hq_text=hq_text,
        hq_code=hq_code,
        hq_subdistrict=text("hq_subdistrict"),
        circle=text("circle"),
        source_note=text("note"),
        hi_generated=hi_generated,
        earlier_hi=tuple(name for name in earlier if name != (name_hi or other_hi)),
        hq_names=_hq_spellings(hq_text),
        notes=notes,
    )


def _without_station_word(name: str, places: _PlaceNames) -> tuple[str, str, list[str]]:
    """``name`` without its leading station word(s), unless they belong to the name.

    Returns the name to use, why a station word was kept (or ""), and the other forms of the
    name (with more or fewer station words), under which the station may have been imported
    before. Of the forms with fewer and fewer leading station words, the shortest that matches
    one of the district's towns or villages wins; when none matches, the shortest that is more
    than generic words ("कोतवाली देहात" stays whole).
    """
    forms = [" ".join(name.split())]
    while (match := STATION_WORD_PREFIX.match(forms[-1])) and forms[-1][match.end() :].strip():
        forms.append(forms[-1][match.end() :].strip())
    shortest = forms[-1]
    # "नगर" alone is never the name, even where a village is called Nagar.
    named = [
        form for form in forms if not set(form.lower().split()) <= GENERIC_STATION_WORDS
    ] or forms[:1]
    chosen = next((form for form in reversed(named) if places.matches(form)), None)
    if chosen is not None:
        why = f"station word kept: {chosen} is the name of a town or village of the district"
    else:
        chosen = named[-1]
        why = f"station word kept: {shortest} alone names no place"
    return chosen, ("" if chosen == shortest else why), [form for form in forms if form != chosen]


def _hq_spellings(hq_text: str) -> list[str]:
    """Spellings of the HQ place in the file's free text: "KHEKRA / Khekada (ULB 297023)"."""
    bare = re.sub(r"\(.*", "", hq_text).strip()
    return [part.strip() for part in bare.split("/") if part.strip()]


def _spelling_keys(spelling: str) -> tuple[str, str]:
    """An exact key (slug, or the Devanagari with its spaces normalised) and the phonetic key."""
    if DEVANAGARI.search(spelling):
        exact = " ".join(unicodedata.normalize("NFC", spelling).split())
    else:
        exact = normalised(spelling)
    return exact, search_key(spelling)


class _PlaceNames:
    """The district's inhabited towns and villages by every spelling of their names, to find a
    station's HQ place and to tell a station word from a part of a place's name."""

    KINDS = (PlaceKind.TOWN, PlaceKind.VILLAGE)  # the order of preference

    def __init__(self, district: Unit):
        self.places = db.session.scalars(
            select(Place)
            .where(
                Place.district_id == district.id,
                Place.kind.in_(self.KINDS),
                Place.uninhabited.is_(False),
            )
            .order_by(Place.id)
        ).all()
        self.index: dict[tuple[PlaceKind, int, str], list[Place]] = defaultdict(list)
        for place in self.places:
            for spelling in (place.name_en, place.name_hi, *split_aliases(place.aliases)):
                for level, key in enumerate(_spelling_keys(spelling or "")):
                    bucket = self.index[(place.kind, level, key)] if key else None
                    if bucket is not None and place not in bucket:
                        bucket.append(place)

    def matches(self, name: str) -> bool:
        place, candidates = self.find([name])
        return place is not None or bool(candidates)

    def find(self, spellings: Iterable[str]) -> tuple[Place | None, list[Place]]:
        """(the one place the spellings name, else None; the places when they name several).

        Towns before villages, exact spellings before phonetic keys; the first rank and level
        with any match decides."""
        keys = [_spelling_keys(spelling) for spelling in spellings if spelling]
        for kind in self.KINDS:
            for level in (0, 1):
                found: list[Place] = []
                for spelling_keys in keys:
                    for place in self.index.get((kind, level, spelling_keys[level]), ()):
                        if place not in found:
                            found.append(place)
                if len(found) == 1:
                    return found[0], []
                if found:
                    return None, found
        return None, []


def _find_headquarters(
    district: Unit, rows: list[_StationRow], places: _PlaceNames, columns: _StationColumns
) -> tuple[dict[int, Place], dict[int, str]]:
    """Each row's HQ place by row number, and why a row got none when it is worth saying.

    A code wins; without one, the HQ's name from the file, else the station's own names, is
    matched (``_PlaceNames.find``). A place is the HQ of one row only: the first row that names
    it by code, else by name, keeps it."""
    by_code = _hq_places(district, {row.hq_code for row in rows if row.hq_code})
    found: dict[int, Place] = {}
    why: dict[int, str] = {}
    holder: dict[int, int] = {}  # place id -> row number
    for row in rows:
        if row.hq_code and row.hq_code in by_code:
            found[row.number] = by_code[row.hq_code]
            holder.setdefault(found[row.number].id, row.number)
    for row in rows:
        if row.hq_code or WOMEN_STATION_WORD in row.name_hi:
            continue
        spellings = row.hq_names or [row.name_hi, row.other_hi, row.name_en_source]
        named = " / ".join(name for name in spellings if name)
        place, candidates = places.find(spellings)
        if candidates:
            listed = ", ".join(_place_label(candidate) for candidate in candidates)
            why[row.number] = (
                f"HQ not chosen: {named} matches {len(candidates)} places of "
                f"{district.name_en} ({listed}); give the HQ's code in {columns.hq_hint()}"
            )
        elif place is not None and holder.get(place.id, row.number) != row.number:
            why[row.number] = (
                f"HQ not chosen: {named} matches {_place_label(place)}, the HQ of row "
                f"{holder[place.id]}; give this station's HQ code in {columns.hq_hint()}"
            )
        elif place is not None:
            found[row.number] = place
            holder[place.id] = row.number
            why[row.number] = f"HQ place {_place_label(place)} found by its name {named}"
        elif row.hq_names:
            why[row.number] = (
                f"HQ {named} matches no town or village of {district.name_en}: "
                f"correct it or give the HQ's code in {columns.hq_hint()}"
            )
    return found, why


def _place_label(place: Place) -> str:
    where = f", {place.subdistrict.name_en}" if place.subdistrict is not None else ""
    return f"{place.kind} {place.name_en} ({place.natural_key}{where})"


def _place_spellings(place: Place) -> list[str]:
    return [place.name_en, place.name_hi, *split_aliases(place.aliases)]


def _sound_alike(names: Iterable[str], others: Iterable[str]) -> bool:
    """True when a name of one list and a name of the other sound alike: their phonetic keys
    agree at least ``NAMED_AFTER_HQ_SIMILARITY`` (सिंघावली अहीर / Singauli Ahir)."""
    keys = {search_key(name) for name in names if name} - {""}
    other_keys = {search_key(name) for name in others if name} - {""}
    return any(
        SequenceMatcher(None, key, other).ratio() >= NAMED_AFTER_HQ_SIMILARITY
        for key in keys
        for other in other_keys
    )


class _EnglishNames:
    """Curated English spellings for Hindi station names, whole or word by word: the
    station-word table, the district's towns and villages, its sub-districts (LGD) and the
    districts, in that order. A spelling is used only when its source gives exactly one."""

    def __init__(self, district: Unit, places: _PlaceNames):
        self.sources: list[tuple[str, dict[tuple[int, str], set[str]]]] = []
        self._add("the station-word table", STATION_WORDS_EN.items())
        self._add(
            f"the places of {district.name_en}",
            (
                (spelling, place.name_en)
                for place in places.places
                for spelling in (
                    place.name_en,
                    "" if place.name_generated else place.name_hi,
                    *split_aliases(place.aliases),
                )
            ),
        )
        subdistricts = db.session.scalars(
            select(Subdistrict).where(Subdistrict.district_id == district.id)
        )
        self._add(
            "the sub-district list (LGD)",
            (
                (spelling, subdistrict.name_en)
                for subdistrict in subdistricts
                for spelling in (
                    subdistrict.name_en,
                    "" if subdistrict.name_generated else subdistrict.name_hi,
                )
            ),
        )
        districts = db.session.scalars(select(Unit).where(Unit.kind == UnitKind.DISTRICT))
        self._add(
            "the district list (LGD)",
            (
                (spelling, unit.name_en)
                for unit in districts
                for spelling in (
                    unit.name_en,
                    "" if unit.name_generated else unit.name_hi,
                    *split_aliases(unit.aliases),
                )
            ),
        )

    def _add(self, label: str, pairs) -> None:
        index: dict[tuple[int, str], set[str]] = defaultdict(set)
        for spelling, english in pairs:
            for level, key in enumerate(_spelling_keys(spelling or "")):
                if key:
                    index[(level, key)].add(english)
        self.sources.append((label, index))

    def _lookup(self, text: str) -> tuple[str, str] | None:
        keys = _spelling_keys(text)
        for label, index in self.sources:
            for level in (0, 1):
                spellings = index.get((level, keys[level]), set())
                if len(spellings) == 1:
                    return next(iter(spellings)), label
        return None

    def english(self, name_hi: str) -> tuple[str, str] | None:
        """(English name, where it comes from), or None when some word has no curated spelling."""
        whole = self._lookup(name_hi)
        words = name_hi.split()
        if whole is not None or len(words) < 2:
            return whole
        found = [self._lookup(word) for word in words]
        if any(one is None for one in found):
            return None
        labels = " and ".join(dict.fromkeys(label for _, label in found))
        return " ".join(english for english, _ in found), labels


def _station_name_en(
    row: _StationRow, hq_place: Place | None, english: _EnglishNames
) -> tuple[str, bool, str]:
    """(English name, generated, where it comes from when not from the file: flagged)."""
    if row.name_en_source:
        return row.name_en_source, False, ""
    if WOMEN_STATION_WORD in row.name_hi:
        return WOMEN_STATION_NAME_EN, False, ""
    station_names = (row.name_hi, row.other_hi)
    if hq_place is not None and _sound_alike(station_names, _place_spellings(hq_place)):
        return hq_place.name_en, False, f"its HQ place {hq_place.name_en}"
    if row.hq_names and _sound_alike(station_names, row.hq_names):
        # The file writes the usual English spelling last ("Badaut / Baraut").
        return display_name(row.hq_names[-1]), False, ""
    curated = english.english(row.name_hi)
    if curated is not None:
        return curated[0], False, curated[1]
    return to_roman(row.name_hi), True, ""


def _hq_places(district: Unit, codes: set[str]) -> dict[str, Place]:
    """HQ places by the file's code: a Census 2011 town code or an LGD village code."""
    if not codes:
        return {}
    found = {}
    for place in db.session.scalars(
        select(Place).where(
            Place.district_id == district.id,
            Place.census_2011_code.in_(codes) | Place.lgd_code.in_([_lgd(c) for c in codes]),
        )
    ):
        if place.census_2011_code in codes:
            found[place.census_2011_code] = place
        for code in codes:
            if place.lgd_code == _lgd(code) and code not in found:
                found[code] = place
    return found


UNIT_CODE_LENGTH = 32  # units.code


def unit_code(code: str) -> str:
    """``code`` as it fits ``units.code``: a long one (Pandit Deendayal Upadhyay Nagar) keeps
    its start and gets a digest of the whole, so it stays readable, stable and distinct."""
    if len(code) <= UNIT_CODE_LENGTH:
        return code
    digest = hashlib.sha1(code.encode()).hexdigest()[:8].upper()
    return f"{code[: UNIT_CODE_LENGTH - len(digest) - 1]}-{digest}"


def _ensure_circle(
    district: Unit,
    row: _StationRow,
    hq_place: Place | None,
    hindi_by_name: dict[str, str],
    report: ImportReport,
) -> Unit:
    hq_subdistrict = row.hq_subdistrict
    if not hq_subdistrict and hq_place is not None and hq_place.subdistrict is not None:
        hq_subdistrict = hq_place.subdistrict.name_en
    if row.circle:
        name_en, base = row.circle, row.circle
    else:
        base = hq_subdistrict or district.name_en
        name_en = f"{base} circle"
    code = unit_code(f"{district.code}-CIRCLE-{normalised(base).upper()}")
    circle = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.CIRCLE, Unit.code == code))
    if circle is not None:
        return circle
    if row.circle:
        name_hi, generated = to_devanagari(name_en), True
    elif hindi_by_name.get(normalised(base)):
        name_hi, generated = f"{hindi_by_name[normalised(base)]} {CIRCLE_WORD_HI}", False
    else:
        name_hi, generated = f"{to_devanagari(base)} {CIRCLE_WORD_HI}", True
    circle = geo.create_unit(
        UnitKind.CIRCLE,
        name_en,
        district,
        code=code,
        name_hi=name_hi,
        name_generated=generated,
        search_key=geo.names_search_key(name_en, name_hi),
    )
    rule = (
        "the file's circle column"
        if row.circle
        else (
            "its HQ sub-district"
            if row.hq_subdistrict
            else "its HQ place's sub-district"
            if hq_subdistrict
            else "the district (no HQ sub-district known)"
        )
    )
    report.note(row.number, "flagged", name_en, f"circle created, named after {rule}")
    return circle


def _link_headquarters(
    station: Unit,
    hq_place: Place | None,
    current_hq: Place | None,
    row: _StationRow,
    report: ImportReport,
) -> bool:
    """Attach the HQ place to its station, marked as HQ; True when something changed."""
    if hq_place is None or (current_hq is not None and current_hq.id == hq_place.id):
        return False
    station.hq_place = hq_place
    if hq_place.station_id == station.id:
        db.session.flush()
        return True
    if hq_place.station_id is not None:
        report.note(
            row.number,
            "flagged",
            row.name_hi,
            f"HQ place {hq_place.name_en} moved here from station {hq_place.station.name_en}",
        )
    geo.move_place(hq_place, station, reason=HQ_SPELL_REASON)
    return True


def _name_hq_place_in_hindi(
    station: Unit, hq_place: Place | None, row: _StationRow, report: ImportReport
) -> None:
    """A station named after its HQ place gives that place its sources' Hindi spelling.

    Only a transliterated name is replaced, and aliases are left alone, so the places import
    run again keeps the name and changes nothing.
    """
    if (
        hq_place is None
        or not hq_place.name_generated
        or station.name_generated
        or normalised(station.name_en) != normalised(hq_place.name_en)
    ):
        return
    hq_place.name_hi, hq_place.name_generated = station.name_hi, False
    hq_place.search_key = geo.names_search_key(hq_place.name_en, hq_place.name_hi, hq_place.aliases)
    search.reindex_places([hq_place])
    report.note(
        row.number,
        "flagged",
        hq_place.name_en,
        f"HQ place takes the station's Hindi name {station.name_hi} instead of a transliteration",
    )


def _flag_station(
    row: _StationRow,
    station: Unit,
    hq_place: Place | None,
    hq_why: str,
    origin: str,
    district: Unit,
    places_exist: bool,
    columns: _StationColumns,
    report: ImportReport,
) -> None:
    for reason in row.notes:
        report.note(row.number, "flagged", row.name_hi, reason)
    if row.other_hi:
        report.note(
            row.number,
            "flagged",
            row.name_hi,
            f"sources spell it differently ({row.name_hi} / {row.other_hi}): "
            f"{columns['name_hi'] or columns['name']} used, the other kept as an alias",
        )
    if hq_why:
        report.note(row.number, "flagged", row.name_hi, hq_why)
    if is_womens_station(station):
        report.note(
            row.number,
            "flagged",
            row.name_hi,
            "district women police station: no territorial jurisdiction, never receives places",
        )
    elif row.hq_code and hq_place is None:
        report.note(
            row.number,
            "flagged",
            row.name_hi,
            f"HQ place {row.hq_code} is not among the district's places (import places first: "
            f"`flask cplan geo places --district {district.code} FILE`, then this file again): no "
            "coordinates yet",
        )
    elif hq_place is None:
        why = ""
        if not hq_why:
            why = (
                " (no code given, and its name matches no town or village of the district)"
                if places_exist
                else " (no code given)"
            )
        extra = f" (source note: {row.source_note})" if row.source_note else ""
        report.note(
            row.number,
            "flagged",
            row.name_hi,
            f"no HQ place{why}: imported without coordinates, "
            f"receives no places from `flask cplan geo attach` until its HQ is given in "
            f"{columns.hq_hint()} and this file is imported again{extra}",
        )
    if row.hi_generated:
        report.note(
            row.number, "flagged", row.name_hi, f"Hindi name {station.name_hi!r} transliterated"
        )
    if origin:
        report.note(
            row.number, "flagged", row.name_hi, f"English name {station.name_en!r} from {origin}"
        )
    elif station.name_generated and not row.hi_generated:
        report.note(
            row.number, "flagged", row.name_hi, f"English name {station.name_en!r} transliterated"
        )


def _has_places(district: Unit) -> bool:
    return (
        db.session.scalar(select(Place.id).where(Place.district_id == district.id).limit(1))
        is not None
    )


def is_womens_station(station: Unit) -> bool:
    """The district women police station (महिला थाना) serves the district, not a territory."""
    return WOMEN_STATION_WORD in station.name_hi or station.name_en == WOMEN_STATION_NAME_EN


def station_headquarters(district: Unit) -> dict[int, Place]:
    """Each station's HQ place (``Unit.hq_place``), for the stations of ``district``."""
    rows = db.session.execute(
        select(Unit.id, Place)
        .join(Place, Place.id == Unit.hq_place_id)
        .where(district.covers(Unit.path), Unit.kind == UnitKind.STATION)
    )
    return {station_id: place for station_id, place in rows}


# ---- first assignment of places to stations --------------------------------------------------


def attach_places_to_nearest_station(district: Unit) -> ImportReport:
    """Give every unattached inhabited place of ``district`` to the station whose HQ is nearest.

    Distance is the haversine distance from the place to the station's HQ place. Wards go with
    their town's station, whatever their own distance. Stations without HQ coordinates and the
    women police station never receive places. Uninhabited places, and places without
    coordinates, stay with the district and are listed. Places already attached are left
    alone (counted unchanged), so running it again changes nothing. Attaching goes through
    ``services.geo.move_place``, so every place gets its opening history spell.

    The report names the stations that receive nothing and the command or column that fixes
    each; with no station able to receive places it refuses with the same advice.
    """
    report = ImportReport("attach to nearest station", district.name_en)
    stations = db.session.scalars(
        geo.units_under(district, UnitKind.STATION).order_by(Unit.code)
    ).all()
    if not stations:
        raise GeoImportError(
            f"{district.name_en} has no police stations: import them first with "
            f"`flask cplan geo stations --district {district.code} FILE`"
        )
    headquarters = station_headquarters(district)
    receiving = []
    without_hq: list[Unit] = []
    without_coordinates: list[tuple[Unit, Place]] = []
    for station in stations:
        hq_place = headquarters.get(station.id)
        subject = f"station {station.name_en} ({station.code})"
        if is_womens_station(station):
            report.note(
                None,
                "skipped",
                subject,
                "women police station: serves the whole district, receives no places",
            )
        elif hq_place is None:
            without_hq.append(station)
            report.note(None, "skipped", subject, "no HQ place: receives no places")
        elif hq_place.latitude is None or hq_place.longitude is None:
            without_coordinates.append((station, hq_place))
            report.note(
                None,
                "skipped",
                subject,
                f"its HQ place {hq_place.name_en} ({hq_place.natural_key}) has no coordinates: "
                "receives no places",
            )
        else:
            receiving.append((station, (hq_place.latitude, hq_place.longitude)))
    advice = _hq_advice(district, without_hq, without_coordinates)
    if not receiving:
        details = " ".join(f"{subject}: {fix}." for subject, fix in advice) or (
            "Only the women police station is imported: import the others with "
            f"`flask cplan geo stations --district {district.code} FILE`."
        )
        raise GeoImportError(
            f"no police station of {district.name_en} has HQ coordinates, so no "
            f"place can be attached. {details}"
        )
    for subject, fix in advice:
        report.note(None, "flagged", subject, fix)

    report.unchanged = db.session.scalar(
        select(func.count(Place.id)).where(
            Place.district_id == district.id, Place.station_id.is_not(None)
        )
    )
    unattached = db.session.scalars(
        select(Place).where(Place.district_id == district.id, Place.station_id.is_(None))
    ).all()
    # Towns and villages first, so each ward finds its town already attached.
    for place in sorted(unattached, key=lambda p: (p.kind == PlaceKind.WARD, p.natural_key)):
        subject = f"{place.name_en} ({place.natural_key})"
        if place.uninhabited:
            report.note(None, "skipped", subject, "uninhabited: not attached to a station")
            continue
        if place.kind == PlaceKind.WARD and place.town_id is not None:
            town = place.town
            if town.station_id is None:
                report.note(None, "skipped", subject, f"its town {town.name_en} has no station")
                continue
            station = town.station
            reason = f"ward of {town.name_en} (import)"
        elif place.latitude is None or place.longitude is None:
            report.note(None, "skipped", subject, "no coordinates: attach it by hand")
            continue
        else:
            point = (place.latitude, place.longitude)
            km, _, station = min((distance_km(point, hq), s.code, s) for s, hq in receiving)
            reason = f"nearest police station HQ, {km:.1f} km (import)"
        geo.move_place(place, station, reason=reason)
        report.tally("updated")
        label = f"{station.code} {station.name_en}"
        report.per_station[label] = report.per_station.get(label, 0) + 1
    report.per_station = dict(sorted(report.per_station.items()))
    db.session.flush()
    _audit("geo.places_attached", report, district)
    return report


def _hq_advice(
    district: Unit, without_hq: list[Unit], without_coordinates: list[tuple[Unit, Place]]
) -> list[tuple[str, str]]:
    """(which stations, what fixes it) for stations that cannot receive places."""

    def listed(stations: Iterable[Unit]) -> str:
        return ", ".join(f"{station.name_en} ({station.code})" for station in stations)

    advice = []
    move = (
        "or move places to them one by one with `flask cplan geo move-place --place CODE "
        "--station STATION_CODE --reason TEXT`"
    )
    if without_hq and not _has_places(district):
        advice.append(
            (
                f"stations without HQ coordinates: {listed(without_hq)}",
                f"{district.name_en} has no places yet: import them with `flask cplan geo places "
                f"--district {district.code} FILE`, then its stations again with `flask cplan geo "
                f"stations --district {district.code} FILE`",
            )
        )
    elif without_hq:
        advice.append(
            (
                f"stations without HQ coordinates: {listed(without_hq)}",
                "give their HQ place in the `hq_place_code` column of the stations file (a Census "
                "town or LGD village code; or its name in an `hq` column) and import it again with "
                f"`flask cplan geo stations --district {district.code} FILE`, {move}",
            )
        )
    if without_coordinates:
        places = ", ".join(
            f"{place.name_en} ({place.natural_key})" for _, place in without_coordinates
        )
        advice.append(
            (
                f"stations whose HQ place has no coordinates: "
                f"{listed(station for station, _ in without_coordinates)}",
                f"give {places} their coordinates (the `lat` and `lng` columns of the places file) "
                f"and import it again with `flask cplan geo places --district {district.code} "
                f"FILE`, {move}",
            )
        )
    return advice
