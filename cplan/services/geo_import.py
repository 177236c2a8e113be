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
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from cplan.data import MissingDataFile
from cplan.extensions import db
from cplan.models.geo import Place, PlaceKind, Subdistrict, Unit, UnitKind
from cplan.services import audit, geo, search
from cplan.services.errors import DomainError
from cplan.services.transliteration import search_key, to_devanagari, to_roman

# ---- facts shipped with the importer ---------------------------------------------------------

# Hindi names of states whose LGD code we know (the LGD district list has English names only).
STATE_NAMES_HI = {"9": "उत्तर प्रदेश"}

# Hindi names of the 75 districts of Uttar Pradesh, keyed by LGD district code, as the state
# government writes them. Districts missing here get a transliterated name, marked generated.
UP_DISTRICT_NAMES_HI = {
    "118": "आगरा", "119": "अलीगढ़", "120": "प्रयागराज", "121": "अम्बेडकर नगर",
    "122": "औरैया", "123": "आजमगढ़", "124": "बागपत", "125": "बहराइच", "126": "बलिया",
    "127": "बलरामपुर", "128": "बांदा", "129": "बाराबंकी", "130": "बरेली", "131": "बस्ती",
    "132": "बिजनौर", "133": "बदायूं", "134": "बुलंदशहर", "135": "चंदौली", "136": "चित्रकूट",
    "137": "देवरिया", "138": "एटा", "139": "इटावा", "140": "अयोध्या", "141": "फर्रुखाबाद",
    "142": "फतेहपुर", "143": "फिरोजाबाद", "144": "गौतम बुद्ध नगर", "145": "गाजियाबाद",
    "146": "गाजीपुर", "147": "गोंडा", "148": "गोरखपुर", "149": "हमीरपुर", "150": "हरदोई",
    "151": "जालौन", "152": "जौनपुर", "153": "झांसी", "154": "अमरोहा", "155": "कन्नौज",
    "156": "कानपुर देहात", "157": "कानपुर नगर", "158": "कौशाम्बी", "159": "खीरी",
    "160": "कुशीनगर", "161": "ललितपुर", "162": "लखनऊ", "163": "हाथरस", "164": "महराजगंज",
    "165": "महोबा", "166": "मैनपुरी", "167": "मथुरा", "168": "मऊ", "169": "मेरठ",
    "170": "मिर्जापुर", "171": "मुरादाबाद", "172": "मुजफ्फरनगर", "173": "पीलीभीत",
    "174": "प्रतापगढ़", "175": "रायबरेली", "176": "रामपुर", "177": "सहारनपुर",
    "178": "संत कबीर नगर", "179": "भदोही", "180": "शाहजहांपुर", "181": "श्रावस्ती",
    "182": "सिद्धार्थनगर", "183": "सीतापुर", "184": "सोनभद्र", "185": "सुलतानपुर",
    "186": "उन्नाव", "187": "वाराणसी", "633": "कासगंज", "640": "अमेठी", "659": "संभल",
    "660": "शामली", "661": "हापुड़",
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
KOTWALI_PREFIX = "Kotwali"
WOMEN_STATION_WORD = "महिला"
WOMEN_STATION_NAME_EN = "Mahila Thana"
CIRCLE_WORD_HI = "सर्किल"

# The reason recorded on the history spell that attaches a headquarters place to its station.
HQ_SPELL_REASON = "police station headquarters (station import)"

UTF8_BOM = b"\xef\xbb\xbf"
# ASCII digits only: Python's int() and \d also accept Devanagari and full-width digits.
DIGITS = re.compile(r"[0-9]+")
DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
EARTH_RADIUS_KM = 6371.0088


# ---- errors and reports ----------------------------------------------------------------------


class GeoImportError(DomainError):
    """A reference file is malformed or does not fit the database; nothing was imported."""

    def __init__(self, problem: str, *, source: str | None = None, row: int | None = None,
                 column: str | None = None):
        self.problem = problem
        self.source = source
        self.row = row
        self.column = column
        where = [part for part in (
            source,
            f"row {row}" if row is not None else None,
            f"column {column!r}" if column else None,
        ) if part]
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
        return (f"{self.what}{source}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged, {len(self.notes)} notes")

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


class SourceFile:
    """A CSV reference file read whole and checked for shape, so errors can name row and column."""

    def __init__(self, path, required: Iterable[str]):
        self.path = Path(path)
        self.name = self.path.name
        self.header, self.rows = self._read(tuple(required))

    def error(self, problem: str, row: int | None = None, column: str | None = None) -> GeoImportError:
        return GeoImportError(problem, source=self.name, row=row, column=column)

    def has(self, column: str) -> bool:
        return column in self.header

    def _read(self, required: tuple[str, ...]) -> tuple[list[str], list[SourceRow]]:
        try:
            raw = self.path.read_bytes()
        except OSError as error:
            raise GeoImportError(str(MissingDataFile(self.path.resolve(), error.strerror or "unreadable"))) from None
        if raw.startswith(UTF8_BOM):  # spreadsheet programs write one; it is still UTF-8
            raw = raw[len(UTF8_BOM):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            row, column = _locate_byte(raw, error.start)
            raise self.error(
                f"not UTF-8 text (byte 0x{raw[error.start]:02x}); save the file as UTF-8",
                row, column,
            ) from None
        if not text.strip():
            raise self.error("the file is empty", row=1)
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            records = list(reader)
        except csv.Error as error:
            raise self.error(f"unreadable CSV ({error})", row=reader.line_num) from None
        header = [name.strip() for name in records[0]]
        for column in required:
            if column not in header:
                raise self.error("required column is missing from the header", 1, column)
        seen = set()
        for name in header:
            if name and name in seen:
                raise self.error("column appears twice in the header", 1, name)
            seen.add(name)
        rows = []
        for number, fields in enumerate(records[1:], start=2):
            if not any(value.strip() for value in fields):
                continue  # blank lines (a trailing newline too many) carry nothing
            if len(fields) != len(header):
                raise self.error(f"{len(fields)} fields where the header has {len(header)}", number)
            rows.append(SourceRow(number, {n: v.strip() for n, v in zip(header, fields, strict=True)}))
        if not rows:
            raise self.error("no data rows after the header", row=2)
        return header, rows

    def text(self, row: SourceRow, column: str, required: bool = False) -> str:
        value = row.values.get(column, "")
        if required and not value:
            raise self.error("a value is required", row.number, column)
        return value

    def code(self, row: SourceRow, column: str, required: bool = True) -> str | None:
        value = row.values.get(column, "")
        if not value:
            if required:
                raise self.error("a code is required", row.number, column)
            return None
        if not DIGITS.fullmatch(value):
            raise self.error(f"{value!r} is not a number (digits 0-9 only)", row.number, column)
        return value

    def coordinate(self, row: SourceRow, column: str, limit: float) -> float | None:
        value = row.values.get(column, "")
        if not value:
            return None
        if not DECIMAL.fullmatch(value):
            raise self.error(f"{value!r} is not a decimal number", row.number, column)
        number = float(value)
        if abs(number) > limit:
            raise self.error(f"{value} is out of range (-{limit:g} to {limit:g})", row.number, column)
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
        audit.record(action, unit=unit, detail={
            "file": report.source, "created": report.created, "updated": report.updated,
            "unchanged": report.unchanged, "notes": len(report.notes)})


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


def _close_parentheses(name: str) -> str:
    return name + ")" * (name.count("(") - name.count(")")) if name.count("(") > name.count(")") else name


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
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (round(sum(p[0] for p in points) / len(points), 6),
            round(sum(p[1] for p in points) / len(points), 6))


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
    source = SourceFile(path, ("state_code", "state_name", "district_code", "district_name",
                                "census_2011_code"))
    records = []
    state_code = state_name = None
    seen: dict[str, int] = {}
    for row in source.rows:
        row_state = source.code(row, "state_code")
        if state_code is None:
            state_code, state_name = _lgd(row_state), source.text(row, "state_name", required=True)
        elif not _same_code(row_state, state_code):
            raise source.error(f"state {row_state} in a file of state {state_code}: one state per file",
                               row.number, "state_code")
        code = _lgd(source.code(row, "district_code"))
        if code in seen:
            raise source.error(f"district {code} is also on row {seen[code]}", row.number, "district_code")
        seen[code] = row.number
        records.append((row.number, code, source.text(row, "district_name", required=True),
                        source.code(row, "census_2011_code", required=False)))

    report = ImportReport("districts", source.name)
    state = _ensure_state(state_code, state_name, report)
    existing = {unit.code: unit for unit in db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code.in_(list(seen))))}
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
        fields = {"name_en": name_en, "name_hi": name_hi, "name_generated": generated,
                  "census_2011_code": census_code, "aliases": aliases,
                  "search_key": geo.names_search_key(name_en, name_hi, aliases)}
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
    state = geo.create_unit(UnitKind.STATE, name_en, None, code=code, name_hi=name_hi,
                            name_generated=generated,
                            search_key=geo.names_search_key(name_en, name_hi))
    report.note(None, "flagged", name_en, f"state unit created (LGD state code {code})")
    return state


# ---- sub-districts ---------------------------------------------------------------------------


def import_subdistricts(path) -> ImportReport:
    """Import LGD sub-districts (tehsils, ``up_subdistricts.csv``); their districts must exist.

    A sub-district whose district code is not in the database is an error naming the row.
    Hindi names are transliterated and marked generated.
    """
    source = SourceFile(path, ("district_code", "subdistrict_code", "subdistrict_name"))
    districts = {unit.code: unit for unit in db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT))}
    records = []
    seen: dict[str, int] = {}
    for row in source.rows:
        district_code = _lgd(source.code(row, "district_code"))
        if district_code not in districts:
            raise source.error(f"district {district_code} is not in the database: import the districts first",
                               row.number, "district_code")
        code = _lgd(source.code(row, "subdistrict_code"))
        if code in seen:
            raise source.error(f"sub-district {code} is also on row {seen[code]}", row.number, "subdistrict_code")
        seen[code] = row.number
        village_count = source.code(row, "village_count", required=False)
        records.append((row.number, code, districts[district_code],
                        source.text(row, "subdistrict_name", required=True),
                        source.code(row, "census_2011_code", required=False),
                        int(village_count) if village_count is not None else None))

    report = ImportReport("sub-districts", source.name)
    existing = {s.lgd_code: s for s in db.session.scalars(select(Subdistrict))}
    for number, code, district, name_en, census_code, village_count in records:
        subdistrict = existing.get(code)
        name_hi, generated = _hindi_name(subdistrict, to_devanagari(name_en), True)
        fields = {"district_id": district.id, "name_en": name_en, "name_hi": name_hi,
                  "name_generated": generated, "census_2011_code": census_code,
                  "village_count": village_count}
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
        select(Subdistrict).where(Subdistrict.district_id == district.id).order_by(Subdistrict.lgd_code))
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


@dataclass
class _PlaceRow:
    number: int
    name: str
    sub: str
    type: str
    latitude: float | None
    longitude: float | None
    code: str | None

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
    flags: list[str] = field(default_factory=list)  # kept in Place.import_note


def import_places(path, district_code) -> ImportReport:
    """Import one district's villages, towns and town wards (shaped like ``baghpat_villages.csv``).

    Rows of type ``village`` are LGD villages (natural key ``lgd:<code>``); ``city`` rows are
    OpenStreetMap towns, ``ward`` and ``locality`` rows their wards, whose ``sub`` column holds
    the town's name (for villages it holds the sub-district). Quirks handled, each reported:

    - A Census 2011 *town* code (six digits starting with 8) in ``lgd_code`` marks a town, not a
      village: it becomes a TOWN place ``census:<code>`` merged with the OSM town of the same
      name (also matching a name in parentheses), else with the nearest OSM town within
      ``CENSUS_TOWN_MERGE_KM`` (names differ: flagged to verify). A census town with no OSM
      town that close stays a separate town without wards, flagged.
    - A village row without a code is imported under a key built from district, sub-district
      and normalised name; when its name marks a river-bed (KHADER), forest (RF) or deserted
      (VIRAN) parcel it is uninhabited; either way it is flagged.
    - A town whose coordinates equal another town's (copied from a neighbour) gets the centre
      of its wards instead, flagged.
    - Ward names repeated within one town are one place (at the mid-point of the rows); a ward
      or locality listed under two towns at the same point is one place, under the town whose
      centre is nearest. Both are reported as merged.
    - Names written in capitals are title-cased for display; the official spelling is kept as
      an alias. An unclosed parenthesis in a town name is closed.

    Wards hang on their town (``Place.town_id``) with key ``ward:<town key>:<name>``. Hindi
    names are transliterated (marked generated). Stations are not touched here: new places
    wait in their district until ``attach_places_to_nearest_station``.
    """
    source = SourceFile(path, PLACE_COLUMNS)
    district = _require_district(district_code)
    rows = [_parse_place_row(source, row, district_code) for row in source.rows]
    _check_unique_codes(source, rows)

    report = ImportReport("places", source.name)
    match_subdistrict = _subdistrict_matcher(district)
    villages, census_rows = _village_drafts(rows, district, match_subdistrict, report)
    towns, wards = _town_drafts(rows, district, report)
    census_towns = _merge_census_towns(census_rows, towns, district, match_subdistrict, report)
    _give_towns_subdistricts(towns, rows, villages, match_subdistrict, report)
    for ward in wards:  # town keys are final only once census codes are merged in
        ward.subdistrict = ward.town.subdistrict
        ward.key = f"ward:{ward.town.key}:{normalised(ward.name_en)}"

    drafts = [*villages, *census_towns, *towns.values(), *wards]
    existing = {place.natural_key: place for place in db.session.scalars(
        select(Place).where(Place.natural_key.in_([d.key for d in drafts])))}
    for draft in drafts:
        place = existing.get(draft.key)
        if place is not None and place.district_id != district.id:
            raise source.error(f"{draft.key} already belongs to another district", draft.rows[0], "lgd_code")

    saved: dict[str, Place] = {}
    # Towns are flushed before their wards, so that a ward can point at its town's id.
    for group in ([d for d in drafts if d.kind != PlaceKind.WARD], wards):
        for draft in group:
            saved[draft.key] = _save_place(draft, district, existing.get(draft.key), saved, report)
            for number in draft.rows:
                report.row_keys[number] = draft.key
        db.session.flush()
    # Names made searchable in bulk; only tokens that differ are written, so a re-run with
    # nothing changed leaves the index exactly as it was.
    search.reindex_places(saved.values())
    report.notes.sort(key=lambda note: (note.row is None, note.row or 0))
    db.session.flush()
    _audit("geo.places_imported", report, district)
    return report


def _parse_place_row(source: SourceFile, row: SourceRow, district_code) -> _PlaceRow:
    file_district = source.code(row, "district_code")
    if not _same_code(file_district, district_code):
        raise source.error(f"district {file_district} in a file imported for district {district_code}",
                           row.number, "district_code")
    row_type = source.text(row, "type", required=True).lower()
    if row_type not in PLACE_ROW_TYPES:
        raise source.error(f"unknown type {row_type!r} (expected {', '.join(sorted(PLACE_ROW_TYPES))})",
                           row.number, "type")
    return _PlaceRow(
        number=row.number,
        name=source.text(row, "name", required=True),
        sub=source.text(row, "sub", required=row_type != "village"),
        type=row_type,
        latitude=source.coordinate(row, "lat", 90),
        longitude=source.coordinate(row, "lng", 180),
        code=source.code(row, "lgd_code", required=False),
    )


def _check_unique_codes(source: SourceFile, rows: list[_PlaceRow]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.code is None:
            continue
        if row.code in seen:
            raise source.error(f"code {row.code} is also on row {seen[row.code]}", row.number, "lgd_code")
        seen[row.code] = row.number


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
            report.note(row.number, "flagged", row.name,
                        f"sub-district {row.sub!r} matches none of {district.name_en}'s; left blank")
        name_en = display_name(row.name)
        draft = _PlaceDraft(key="", kind=PlaceKind.VILLAGE, name_en=name_en, rows=[row.number],
                            point=row.point, subdistrict=subdistrict, aliases=[row.name])
        if row.code:
            draft.key, draft.lgd_code = f"lgd:{_lgd(row.code)}", _lgd(row.code)
            deserted = _uninhabited_reason(row.name)
            if deserted:
                report.note(row.number, "flagged", row.name,
                            f"name marks a {deserted}, but LGD lists it as village {row.code}: "
                            "kept inhabited; verify")
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
            report.note(row.number, "flagged", row.name,
                        f"no LGD code; {reason}: imported as uninhabited, never attached to a station")
        else:
            draft.flags.append("no LGD code: kept as an inhabited village; verify against LGD")
            report.note(row.number, "flagged", row.name,
                        "no LGD code and no river-bed/forest/deserted marker in the name: "
                        "kept as an inhabited village; verify against LGD")
        if draft.key in uncoded:
            uncoded[draft.key].rows.append(row.number)
            report.note(row.number, "merged", row.name,
                        f"same name and sub-district as row {uncoded[draft.key].rows[0]}: one place")
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
            report.note(row.number, "merged", row.name, f"town already listed on row {towns[slug].rows[0]}")
            continue
        name_en = _close_parentheses(row.name)
        draft = _PlaceDraft(key=f"town:{district.code}:{normalised(name_en)}", kind=PlaceKind.TOWN,
                            name_en=name_en, rows=[row.number], point=row.point)
        if name_en != row.name:
            report.note(row.number, "flagged", row.name, f"unclosed parenthesis in the name: shown as {name_en!r}")
        towns[slug] = draft
        town_rows[slug] = row

    ward_rows: dict[str, list[_PlaceRow]] = defaultdict(list)
    for row in rows:
        if row.type in {"ward", "locality"}:
            if normalised(row.sub) not in towns:
                report.note(row.number, "skipped", row.name, f"its town {row.sub!r} has no 'city' row in the file")
                continue
            ward_rows[normalised(row.sub)].append(row)

    _correct_copied_town_coordinates(towns, town_rows, ward_rows, report)
    return towns, _ward_drafts(towns, ward_rows, report)


def _correct_copied_town_coordinates(towns, town_rows, ward_rows, report) -> None:
    """Towns sharing one point were given a neighbour's coordinates: use their wards' centre."""
    by_point: dict[tuple[float, float], list[str]] = defaultdict(list)
    for slug, town in towns.items():
        if town.point is not None:
            by_point[town.point].append(slug)
    for point, slugs in by_point.items():
        if len(slugs) < 2:
            continue
        for slug in slugs:
            town = towns[slug]
            others = ", ".join(f"{towns[o].name_en} (row {towns[o].rows[0]})" for o in slugs if o != slug)
            ward_points = [r.point for r in ward_rows.get(slug, []) if r.type == "ward" and r.point]
            if not ward_points:
                report.note(town.rows[0], "flagged", town.name_en,
                            f"coordinates {point[0]}, {point[1]} are also given for {others}, "
                            "and it has no wards to correct them from: kept; verify")
                town.flags.append("coordinates shared with another town; verify")
                continue
            town.point = _centre(ward_points)
            report.note(town.rows[0], "flagged", town.name_en,
                        f"coordinates {point[0]}, {point[1]} are also given for {others}: replaced by "
                        f"the centre of its {len(ward_points)} wards ({town.point[0]}, {town.point[1]})")
            town.flags.append(f"source coordinates {point[0]}, {point[1]} belonged to another town: "
                              "centre of its wards used")


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
        chosen = min(town_slugs, key=lambda s: (distance_km(point, towns[s].point) if towns[s].point else math.inf, s))
        where = " and ".join(f"{towns[s].name_en} (row {r.number})" for s, r in listed)
        for _, row in listed:
            home[row.number] = chosen
            report.note(row.number, "merged", row.name,
                        f"listed under {where} at the same point: one place, under "
                        f"{towns[chosen].name_en} (nearest town centre)")

    drafts: dict[tuple[str, str], _PlaceDraft] = {}
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    rows_by_number = {row.number: row for rows in ward_rows.values() for row in rows}
    for number in sorted(home):
        row, slug = rows_by_number[number], home[number]
        identity = (slug, normalised(row.name))
        if row.point:
            points[identity].append(row.point)
        if identity in drafts:
            draft = drafts[identity]
            if number not in draft.rows:
                if row.sub == rows_by_number[draft.rows[0]].sub:  # not the cross-town case above
                    report.note(number, "merged", row.name,
                                f"ward name repeated in {towns[slug].name_en} (first on row "
                                f"{draft.rows[0]}): one place at the mid-point of the rows")
                    draft.flags.append("listed twice in the source: mid-point of the rows used")
                draft.rows.append(number)
            continue
        drafts[identity] = _PlaceDraft(key="", kind=PlaceKind.WARD, name_en=row.name, rows=[number],
                                       point=row.point, town=towns[slug])
    for identity, draft in drafts.items():
        if len(points[identity]) > 1:
            draft.point = _centre(points[identity])
    return list(drafts.values())


def _merge_census_towns(census_rows, towns, district, match_subdistrict, report) -> list[_PlaceDraft]:
    """Give each Census 2011 town row to its OSM town; unmatched ones become towns of their own."""
    matched: dict[str, _PlaceRow] = {}
    pending = []
    for row in census_rows:  # names first: the strongest evidence
        slug = next((s for s, town in towns.items()
                     if s not in matched and _names_agree(row.name, town.name_en)), None)
        if slug is None:
            pending.append(row)
        else:
            matched[slug] = row
    # Then by distance: closest pairs first, so the file's order cannot steal a town.
    pairs = sorted(
        (distance_km(row.point, town.point), row.number, slug, row)
        for row in pending for slug, town in towns.items()
        if slug not in matched and town.point and row.point)
    placed: set[int] = set()
    for km, number, slug, row in pairs:
        if km <= CENSUS_TOWN_MERGE_KM and number not in placed and slug not in matched:
            matched[slug] = row
            placed.add(number)
    leftovers = []
    for row in pending:
        if row.number not in placed:
            nearest = min(((km, slug) for km, number, slug, _ in pairs if number == row.number),
                          default=None)
            leftovers.append((row, nearest))

    for slug, row in matched.items():
        town = towns[slug]
        apart = (f"{distance_km(row.point, town.point):.1f} km apart"
                 if row.point and town.point else "no coordinates to compare")
        town.key = f"census:{row.code}"
        town.census_2011_code = row.code
        town.aliases.append(row.name)
        town.rows.append(row.number)
        town.subdistrict = match_subdistrict(row.sub)
        if town.point is None:
            town.point = row.point
        if _names_agree(row.name, town.name_en):
            reason = (f"Census 2011 town code {row.code} in the lgd_code column: a town, not a village; "
                      f"merged with town {town.name_en} (row {town.rows[0]}), {apart}")
        else:
            reason = (f"Census 2011 town code {row.code} in the lgd_code column: a town, not a village; "
                      f"names differ, merged with the nearest town {town.name_en} (row {town.rows[0]}), "
                      f"{apart}; verify")
            town.flags.append(f"Census 2011 town {row.code} ({row.name}) merged by proximity; verify")
        report.note(row.number, "merged", row.name, reason)

    drafts = []
    for row, nearest in leftovers:
        nearest_text = (f"nearest town {towns[nearest[1]].name_en} is {nearest[0]:.1f} km away"
                        if nearest else "no town with coordinates to compare")
        draft = _PlaceDraft(key=f"census:{row.code}", kind=PlaceKind.TOWN, name_en=display_name(row.name),
                            rows=[row.number], point=row.point, subdistrict=match_subdistrict(row.sub),
                            census_2011_code=row.code, aliases=[row.name])
        draft.flags.append("Census 2011 town with no matching OpenStreetMap town: no wards")
        report.note(row.number, "flagged", row.name,
                    f"Census 2011 town code {row.code} in the lgd_code column: a town, not a village; "
                    f"no town of the file matches it by name and the {nearest_text} "
                    f"(over {CENSUS_TOWN_MERGE_KM:g} km): kept as a separate town without wards; verify")
        drafts.append(draft)
    for slug, town in towns.items():
        if slug not in matched:
            report.note(town.rows[0], "flagged", town.name_en,
                        "no Census 2011 town row matches it: kept as a town without a census code")
    return drafts


def _names_agree(official: str, town_name: str) -> bool:
    """True when an official name equals the town's name or a part of it in parentheses."""
    variants = {town_name, *re.findall(r"\(([^)]*)\)?", town_name), re.sub(r"\(.*", "", town_name)}
    wanted = _name_keys(official)
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
            report.note(town.rows[0], "flagged", town.name_en,
                        f"sub-district taken from the nearest village {nearest.name_en} "
                        f"({nearest.subdistrict.name_en})")


def _save_place(draft: _PlaceDraft, district: Unit, place: Place | None, saved: dict[str, Place],
                report: ImportReport) -> Place:
    if normalised(draft.name_en) == normalised(district.name_en) and not district.name_generated:
        # The district HQ town is written as the district is (बागपत), not transliterated.
        name_hi, generated = district.name_hi, False
    else:
        name_hi, generated = _hindi_name(place, to_devanagari(draft.name_en), True)
    aliases = join_aliases(draft.aliases, draft.name_en)
    fields = {
        "kind": draft.kind,
        "lgd_code": draft.lgd_code,
        "census_2011_code": draft.census_2011_code,
        "name_en": draft.name_en,
        "name_hi": name_hi,
        "name_generated": generated,
        "aliases": aliases,
        "search_key": geo.names_search_key(draft.name_en, name_hi, aliases),
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
    else:
        report.tally("updated" if _apply(place, fields) else "unchanged")
    return place


# ---- police stations -------------------------------------------------------------------------

STATION_COLUMNS = ("district_lgd_code", "thana_hi_source_B", "thana_hi_source_A", "thana_en_source_C",
                   "hq_place_lgd_or_census_name", "hq_place_code", "hq_subdistrict")


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


def import_stations(path, district_code) -> ImportReport:
    """Import one district's police stations (shaped like ``baghpat_police_stations.csv``).

    Names: Hindi from source B, else source A without the "थाना" prefix, the other spelling kept
    as an alias; English from source C without "Kotwali", else the HQ place's name, else
    transliterated. The file carries no official station code, so the code is a stable slug
    ``<district LGD code>-<ENGLISH NAME>`` (``124-BARAUT``); a station already imported under
    another code is recognised by its Hindi name and re-coded.

    Circles: a ``circle`` column wins when the file has one. Otherwise each station goes under
    the circle named after its HQ sub-district ("Baraut circle"), and a station with no HQ
    sub-district under the circle named after the district ("Baghpat circle"), where the
    district HQ's stations sit. A station already imported stays in its circle.

    HQ place: ``hq_place_code`` is a Census 2011 town code or an LGD village code of a place
    already imported (import places first). The HQ place is attached to its station with the
    reason ``HQ_SPELL_REASON``, which is how the station's coordinates are found later.
    Stations without an HQ (and the women police station) are imported and flagged.
    """
    source = SourceFile(path, STATION_COLUMNS)
    district = _require_district(district_code)
    rows = [_parse_station_row(source, row, district_code) for row in source.rows]
    report = ImportReport("police stations", source.name)

    hq_places = _hq_places(district, {row.hq_code for row in rows if row.hq_code})
    planned = []
    codes: dict[str, int] = {}
    for row in rows:
        hq_place = hq_places.get(row.hq_code) if row.hq_code else None
        name_en, generated = _station_name_en(row, hq_place)
        slug = normalised(name_en).upper()
        if not slug:  # a transliteration without Latin letters: key the code on the Hindi name
            slug = "HI-" + hashlib.sha1(row.name_hi.encode()).hexdigest()[:8].upper()
        code = unit_code(f"{district.code}-{slug}")
        if code in codes:
            raise source.error(f"station code {code} is also made from row {codes[code]}",
                               row.number, "thana_en_source_C")
        codes[code] = row.number
        planned.append((row, hq_place, name_en, generated, code))

    stations = list(db.session.scalars(geo.units_under(district, UnitKind.STATION)))
    by_code = {s.code: s for s in stations}
    by_name_hi = {s.name_hi: s for s in stations}
    hq_of = station_headquarters(district)
    # Circles are named after places that stations are named after: reuse the sources' Hindi.
    hindi_by_name = {normalised(name_en): row.name_hi for row, _, name_en, _, _ in planned}
    hindi_by_name[normalised(district.name_en)] = district.name_hi
    for row, hq_place, name_en, generated, code in planned:
        circle = _ensure_circle(district, row, hindi_by_name, report)
        aliases = join_aliases([row.other_hi, *_hq_spellings(row.hq_text), row.name_en_source],
                               name_en, row.name_hi)
        fields = {"code": code, "name_en": name_en, "name_hi": row.name_hi,
                  "name_generated": generated, "aliases": aliases,
                  "search_key": geo.names_search_key(name_en, row.name_hi, aliases)}
        station = by_code.get(code) or by_name_hi.get(row.name_hi)
        if station is None:
            fields.pop("name_en")
            station = geo.create_unit(UnitKind.STATION, name_en, circle, **fields)
            outcome = "created"
        else:
            if station.code != code:
                report.note(row.number, "flagged", row.name_hi, f"code changed from {station.code} to {code}")
            outcome = "updated" if _apply(station, fields) else "unchanged"
            if station.parent_id != circle.id:
                report.note(row.number, "flagged", row.name_hi,
                            f"stays in its circle {station.parent.name_en} (the file's rule gives {circle.name_en})")
        if _link_headquarters(station, hq_place, hq_of.get(station.id), row, report) and outcome == "unchanged":
            outcome = "updated"
        report.tally(outcome)
        report.row_keys[row.number] = code
        _name_hq_place_in_hindi(station, hq_place, row, report)
        _flag_station(row, station, hq_place, generated, report)
    db.session.flush()
    _audit("geo.stations_imported", report, district)
    return report


def _parse_station_row(source: SourceFile, row: SourceRow, district_code) -> _StationRow:
    file_district = source.code(row, "district_lgd_code")
    if not _same_code(file_district, district_code):
        raise source.error(f"district {file_district} in a file imported for district {district_code}",
                           row.number, "district_lgd_code")
    source_b = _without_thana(source.text(row, "thana_hi_source_B"))
    source_a = _without_thana(source.text(row, "thana_hi_source_A"))
    if not (source_b or source_a):
        raise source.error("no Hindi name in source B or source A", row.number, "thana_hi_source_B")
    name_en = source.text(row, "thana_en_source_C")
    if name_en.startswith(KOTWALI_PREFIX + " "):
        name_en = name_en[len(KOTWALI_PREFIX):].strip()
    return _StationRow(
        number=row.number,
        name_hi=source_b or source_a,
        other_hi=source_a if source_b and source_a != source_b else "",
        name_en_source=name_en,
        hq_text=source.text(row, "hq_place_lgd_or_census_name"),
        hq_code=source.code(row, "hq_place_code", required=False),
        hq_subdistrict=source.text(row, "hq_subdistrict"),
        circle=source.text(row, "circle") if source.has("circle") else "",
        source_note=source.text(row, "note") if source.has("note") else "",
    )


def _without_thana(name: str) -> str:
    if name.startswith(THANA_PREFIX + " "):
        return name[len(THANA_PREFIX):].strip()
    return name


def _hq_spellings(hq_text: str) -> list[str]:
    """Spellings of the HQ place in the file's free text: "KHEKRA / Khekada (ULB 297023)"."""
    bare = re.sub(r"\(.*", "", hq_text).strip()
    return [part.strip() for part in bare.split("/") if part.strip()]


def _station_name_en(row: _StationRow, hq_place: Place | None) -> tuple[str, bool]:
    if row.name_en_source:
        return row.name_en_source, False
    if WOMEN_STATION_WORD in row.name_hi:
        return WOMEN_STATION_NAME_EN, False
    if hq_place is not None:
        return hq_place.name_en, False
    spellings = _hq_spellings(row.hq_text)
    if spellings:
        # The file writes the usual English spelling last ("Badaut / Baraut").
        return display_name(spellings[-1]), False
    return to_roman(row.name_hi), True


def _hq_places(district: Unit, codes: set[str]) -> dict[str, Place]:
    """HQ places by the file's code: a Census 2011 town code or an LGD village code."""
    if not codes:
        return {}
    found = {}
    for place in db.session.scalars(select(Place).where(
            Place.district_id == district.id,
            Place.census_2011_code.in_(codes) | Place.lgd_code.in_([_lgd(c) for c in codes]))):
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
    return f"{code[:UNIT_CODE_LENGTH - len(digest) - 1]}-{digest}"


def _ensure_circle(district: Unit, row: _StationRow, hindi_by_name: dict[str, str],
                   report: ImportReport) -> Unit:
    if row.circle:
        name_en, base = row.circle, row.circle
    else:
        base = row.hq_subdistrict or district.name_en
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
    circle = geo.create_unit(UnitKind.CIRCLE, name_en, district, code=code, name_hi=name_hi,
                             name_generated=generated, search_key=geo.names_search_key(name_en, name_hi))
    rule = "the file's circle column" if row.circle else (
        "its HQ sub-district" if row.hq_subdistrict else "the district (no HQ sub-district given)")
    report.note(row.number, "flagged", name_en, f"circle created, named after {rule}")
    return circle


def _link_headquarters(station: Unit, hq_place: Place | None, current_hq: Place | None,
                       row: _StationRow, report: ImportReport) -> bool:
    """Attach the HQ place to its station, marked as HQ; True when something changed."""
    if hq_place is None or (current_hq is not None and current_hq.id == hq_place.id):
        return False
    station.hq_place = hq_place
    if hq_place.station_id == station.id:
        db.session.flush()
        return True
    if hq_place.station_id is not None:
        report.note(row.number, "flagged", row.name_hi,
                    f"HQ place {hq_place.name_en} moved here from station {hq_place.station.name_en}")
    geo.move_place(hq_place, station, reason=HQ_SPELL_REASON)
    return True


def _name_hq_place_in_hindi(station: Unit, hq_place: Place | None, row: _StationRow,
                            report: ImportReport) -> None:
    """A station named after its HQ place gives that place its sources' Hindi spelling.

    Only a transliterated name is replaced, and aliases are left alone, so the places import
    run again keeps the name and changes nothing.
    """
    if (hq_place is None or not hq_place.name_generated or station.name_generated
            or normalised(station.name_en) != normalised(hq_place.name_en)):
        return
    hq_place.name_hi, hq_place.name_generated = station.name_hi, False
    hq_place.search_key = geo.names_search_key(hq_place.name_en, hq_place.name_hi, hq_place.aliases)
    search.reindex_places([hq_place])
    report.note(row.number, "flagged", hq_place.name_en,
                f"HQ place takes the station's Hindi name {station.name_hi} instead of a transliteration")


def _flag_station(row: _StationRow, station: Unit, hq_place: Place | None, generated: bool,
                  report: ImportReport) -> None:
    if row.other_hi:
        report.note(row.number, "flagged", row.name_hi,
                    f"sources spell it differently ({row.name_hi} / {row.other_hi}): source B used, "
                    "the other kept as an alias")
    if is_womens_station(station):
        report.note(row.number, "flagged", row.name_hi,
                    "district women police station: no territorial jurisdiction, never receives places")
    elif row.hq_code is None:
        extra = f" (source note: {row.source_note})" if row.source_note else ""
        report.note(row.number, "flagged", row.name_hi,
                    f"no HQ place in the file: imported without coordinates, receives no places{extra}")
    elif hq_place is None:
        report.note(row.number, "flagged", row.name_hi,
                    f"HQ place {row.hq_code} is not among the district's places (import places "
                    "first): no coordinates yet")
    if generated:
        report.note(row.number, "flagged", row.name_hi, f"English name {station.name_en!r} transliterated")


def is_womens_station(station: Unit) -> bool:
    """The district women police station (महिला थाना) serves the district, not a territory."""
    return WOMEN_STATION_WORD in station.name_hi or station.name_en == WOMEN_STATION_NAME_EN


def station_headquarters(district: Unit) -> dict[int, Place]:
    """Each station's HQ place (``Unit.hq_place``), for the stations of ``district``."""
    rows = db.session.execute(
        select(Unit.id, Place)
        .join(Place, Place.id == Unit.hq_place_id)
        .where(geo.in_subtree(Unit.path, district), Unit.kind == UnitKind.STATION)
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
    """
    report = ImportReport("attach to nearest station", district.name_en)
    stations = db.session.scalars(geo.units_under(district, UnitKind.STATION).order_by(Unit.code)).all()
    headquarters = station_headquarters(district)
    receiving = []
    for station in stations:
        hq_place = headquarters.get(station.id)
        if is_womens_station(station):
            report.note(None, "skipped", f"station {station.name_en}",
                        "women police station: receives no places")
        elif hq_place is None or hq_place.latitude is None or hq_place.longitude is None:
            report.note(None, "skipped", f"station {station.name_en}",
                        "no HQ coordinates: receives no places; attach its places by hand")
        else:
            receiving.append((station, (hq_place.latitude, hq_place.longitude)))
    if not receiving:
        raise GeoImportError(f"no police station of {district.name_en} has HQ coordinates: "
                             "import its places, then its stations, first")

    report.unchanged = db.session.scalar(select(func.count(Place.id)).where(
        Place.district_id == district.id, Place.station_id.is_not(None)))
    unattached = db.session.scalars(select(Place).where(
        Place.district_id == district.id, Place.station_id.is_(None))).all()
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
