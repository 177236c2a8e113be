"""The state-scale generator: an empty database filled with a realistic Uttar Pradesh-sized data
set.

``flask cplan generate --scale 1.0`` lays out the real shape of UP and fills it: 75 districts
with their LGD codes and names, 350 sub-districts with their real village counts, about 1,500
police stations, 110,274 villages plus town wards, about 1.1 million contacts, 100,000
incidents with their timelines, posts and officers for every unit, and an audit trail that
tells the same story. Smaller scales (``--scale 0.002``) give the same shape in miniature for
tests. The run is deterministic: the same ``--seed`` and ``--until`` give the same rows.

Decisions:

- **Real shape, fictional detail.** District names, LGD codes, Census codes and Hindi names come
  from the reference files and the importer's tables (``geo_import.UP_DISTRICT_NAMES_HI``...);
  sub-districts and their village counts are LGD's. Village names are invented from common
  name parts (Rampur, Nagla Sher, Fatehpur Khurd: names recur within a district, as real ones
  do) and carry codes from 9000001 up, which no LGD village code reaches, so a generated
  village can never be mistaken for a real one. Each sub-district has a town named after it
  (the tehsil headquarters) with mohalla wards; the district's own town has the most.
- **Police hierarchy**: the 8 zones and 18 ranges are modelled on UP Police's arrangement
  (commissionerates folded into their ranges; check the current notification before relying on
  it). Stations per district grow with the district's village count (about 1,500 in all,
  scaled); each district's places are split into contiguous blocks by sub-district, one block per
  station, and stations hang under a circle named after their block's sub-district, as the
  station importer names circles. A station is named after its headquarters place; the one in
  the district's town is its Kotwali.
- **Posts and officers**: a state administrator and six control-room posts (UP-112 and DGP
  control room, three shifts each); per district an SP office and an ASP; a CO per circle; per
  station an SHO and a station desk held by three constables. Every generated officer has the
  same known password (``GENERATED_PASSWORD``), hashed once, and a Hindi name transliterated from
  the English one. CUG numbers are fictional (+91 90001 xxxxx) as in the demo, never the real
  UP Police CUG series.
- **Contacts** (6-14 per place, about 9.6 on average): names from ``names_hi_en.csv`` written in
  Devanagari or Roman, the other script transliterated, exactly as the demo makes them; numbers are
  fictional, ``+91 7001 xxxxxx`` (the contact's id added to 7001000000; alternate numbers from
  7101000000), with a few shared numbers for the duplicates page. Each village is enrolled on one
  day ("campaign") between June 2024 and the end of the history, by a constable of its station; the
  ASP (sometimes the SP office) decides 1-10 days later. Enrolments of the last 30 days are mostly
  still pending; a few older ones too; about 2% were rejected and 3.5% later left the roster through
  an approved removal proposal. Their search tokens are written as ``roster.index_contact`` writes
  them.
- **Incidents**: spread over the last two years (busier around the 2026 panchayat elections),
  each in one district, at one to three places of one station. Each gets a whole timeline
  (verification, calls to active contacts enrolled before it, verdict, action, closure, review)
  cut at the end of the history, and its status, ``first_call_at``, ``verdict_at``, version and
  ``last_entry_seq`` are what that timeline says. Serials count per district and IST year in
  report order, and ``incident_serials`` holds the last one handed out.
- **The audit trail is written in time order**: every stream of events (geography and accounts
  at the start, enrolments and decisions, incidents, the last 30 days of sign-ins) is generated
  in time order and merged (``heapq.merge``), and each event is chained on the previous event's
  hash exactly as ``cplan.models.audit.event_hash`` computes it (the same canonical JSON,
  assembled directly for speed and checked against ``event_hash`` on the first event), so
  ``flask cplan audit verify`` passes and the trail reads chronologically. Rows that other rows
  refer to are written before them in every batch (contacts before timeline entries...).
- **Speed**: rows go out ~10,000 at a time through the driver (``executemany`` on SQLite with
  the values SQLAlchemy would store, ``COPY`` on PostgreSQL), with primary keys assigned here
  (the database is empty) and no ORM unit of work; the history tables' secondary indexes are
  dropped for the load and built once at its end (the same ``Index`` objects the migrations
  create); SQLite gets a 128 MB page cache for the run. Names are transliterated and tokenised
  once per distinct name (a bounded pool per script and gender). Nothing holds all contacts at
  once: the history stage keeps a few numbers per place and streams rows out. On PostgreSQL the
  id sequences are moved past the generated ids at the end.
- **Transactions**: services flush and never commit; the CLI commits after each stage (four
  transactions for the whole run) so a state-scale load is not one multi-gigabyte transaction.
  A failed run leaves a database that is not empty: drop it and start again.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import heapq
import itertools
import json
import operator
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Date, bindparam, case, func, select, text, update
from werkzeug.security import generate_password_hash

from cplan.data import DISTRICTS_FILE, NAMES_FILE, SUBDISTRICTS_FILE, data_file
from cplan.data import data_dir as data_dir_of
from cplan.devdata.demo_contacts import CATEGORY_WEIGHTS, read_names
from cplan.extensions import db
from cplan.formats import IST, ist_day
from cplan.models import contact_counts
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.audit import GENESIS_HASH, AuditEvent, AuditOutcome, event_hash
from cplan.models.base import UTCDateTime
from cplan.models.drives import TaskState, VerificationDrive, VerificationMethod, VerificationTask
from cplan.models.geo import Place, PlaceKind, PlaceStationSpell, Subdistrict, Unit, UnitKind
from cplan.models.incidents import (
    ANSWERED_OUTCOMES,
    VERDICT_STATUSES,
    CallOutcome,
    EntryKind,
    Incident,
    IncidentKind,
    IncidentPlace,
    IncidentSerial,
    IncidentSource,
    IncidentStatus,
    Severity,
    TimelineEntry,
)
from cplan.models.roster import (
    Contact,
    ContactCategory,
    ContactProposal,
    ContactStatus,
    Gender,
    InactiveReason,
    ProposalKind,
    ProposalStatus,
    Script,
)
from cplan.models.search import SearchToken
from cplan.pipelines.geo_import import (
    STATE_NAMES_HI,
    UP_DISTRICT_NAMES_HI,
    UP_DISTRICT_OTHER_NAMES,
    join_aliases,
    normalised,
    unit_code,
)
from cplan.services import drives, incidents
from cplan.services.errors import DomainError
from cplan.services.geo import names_search_key
from cplan.services.phone import log_safe
from cplan.services.search import PLACE, word_start_keys
from cplan.services.transliteration import to_devanagari, to_roman

GENERATED_PASSWORD = "cplan-state-scale-2026"
DEFAULT_SEED = 2026
BATCH_SIZE = 10_000


# Sizes at scale 1.0.
STATIONS_IN_STATE = 1500
DRIVE_DAYS = 8  # the generated drive opened this many days before the end of the history
DRIVE_MAX_AGE_DAYS = 30
INCIDENTS_IN_STATE = 100_000
MIN_STATIONS, MAX_STATIONS = 8, 45
VILLAGE_CODE_BASE = 9_000_000  # generated "LGD" village codes: above any real one
CONTACT_NUMBER_BASE = 7_001_000_000  # +91 7001 xxxxxx, fictional
ALT_NUMBER_BASE = 7_101_000_000
CUG_BASE = 9_000_100_000  # +91 90001 xxxxx, fictional
CONTACT_COUNT_WEIGHTS = {6: 3, 7: 4, 8: 6, 9: 8, 10: 9, 11: 7, 12: 4, 13: 2, 14: 1}
NAME_POOL = 6_000  # distinct (first, last) pairs per script and gender
DEVANAGARI_SHARE = 0.5
PENDING_DAYS = 30  # enrolments this recent are mostly still pending
STALE_PENDING_SHARE = 0.005
REJECTED_SHARE = 0.02
INACTIVE_SHARE = 0.035
CONFIDENTIAL_SHARE = 0.002
SHARED_NUMBER_SHARE = 0.005
FIRST_ENROLMENT = date(2024, 6, 1)
INCIDENT_YEARS = 2
SIGN_IN_DAYS = 30
REJECT_REASONS = ("incomplete", "wrong_number", "not_suitable", "duplicate")

# UP Police zones > ranges > districts (LGD codes); see the module docstring.
POLICE_ZONES = {
    ("AGRA", "आगरा"): {
        ("AGRA", "आगरा"): ("118", "143", "166", "167"),
        ("ALIGARH", "अलीगढ़"): ("119", "138", "163", "633"),
    },
    ("BAREILLY", "बरेली"): {
        ("BAREILLY", "बरेली"): ("130", "133", "173", "180"),
        ("MORADABAD", "मुरादाबाद"): ("171", "132", "154", "176", "659"),
    },
    ("GORAKHPUR", "गोरखपुर"): {
        ("GORAKHPUR", "गोरखपुर"): ("148", "137", "160", "164"),
        ("BASTI", "बस्ती"): ("131", "178", "182"),
    },
    ("KANPUR", "कानपुर"): {
        ("KANPUR", "कानपुर"): ("157", "156", "139", "122", "141", "155"),
        ("JHANSI", "झांसी"): ("153", "151", "161"),
        ("CHITRAKOOT DHAM", "चित्रकूट धाम"): ("128", "136", "149", "165"),
    },
    ("LUCKNOW", "लखनऊ"): {
        ("LUCKNOW", "लखनऊ"): ("162", "186", "175", "183", "150", "159"),
        ("AYODHYA", "अयोध्या"): ("140", "121", "129", "185", "640"),
        ("DEVIPATAN", "देवीपाटन"): ("147", "125", "127", "181"),
    },
    ("MEERUT", "मेरठ"): {
        ("MEERUT", "मेरठ"): ("169", "124", "134", "661", "145", "144"),
        ("SAHARANPUR", "सहारनपुर"): ("177", "172", "660"),
    },
    ("PRAYAGRAJ", "प्रयागराज"): {("PRAYAGRAJ", "प्रयागराज"): ("120", "158", "142", "174")},
    ("VARANASI", "वाराणसी"): {
        ("VARANASI", "वाराणसी"): ("187", "152", "146", "135"),
        ("MIRZAPUR", "मिर्जापुर"): ("170", "184", "179"),
        ("AZAMGARH", "आजमगढ़"): ("123", "126", "168"),
    },
}

VILLAGE_STEMS = (
    "Ram",
    "Shyam",
    "Madho",
    "Fateh",
    "Sultan",
    "Shah",
    "Kishan",
    "Gopal",
    "Hasan",
    "Alam",
    "Daulat",
    "Bahadur",
    "Chand",
    "Dev",
    "Har",
    "Jagat",
    "Kalyan",
    "Lal",
    "Mohan",
    "Narayan",
    "Prem",
    "Rasul",
    "Sikandar",
    "Bhawani",
    "Durga",
    "Indra",
    "Jalal",
    "Kamal",
    "Nawab",
    "Raj",
    "Sher",
    "Sona",
    "Tara",
    "Udai",
    "Bhim",
    "Chandan",
    "Dharam",
    "Ganesh",
    "Hira",
    "Jamal",
    "Karan",
    "Lakhan",
    "Mahesh",
    "Nand",
    "Param",
    "Rahim",
    "Shiv",
    "Sukh",
    "Tilak",
    "Bir",
    "Deo",
    "Khan",
    "Mir",
    "Pir",
    "Badal",
    "Anand",
    "Basant",
    "Dayal",
    "Ganga",
    "Hamir",
    "Jahangir",
    "Kesho",
    "Manik",
    "Bhagwan",
    "Salim",
    "Akbar",
    "Bilas",
    "Chatur",
    "Dhan",
    "Gokul",
)
VILLAGE_SUFFIXES = ("pur", "pur", "pura", "nagar", "ganj", "garh", "abad", "gaon", "khera", "puri")
VILLAGE_PREFIXES = ("Nagla", "Majra", "Gadhi", "Chak")
VILLAGE_QUALIFIERS = ("Khurd", "Kalan")
MOHALLAS = (
    "Civil Lines",
    "Sadar Bazar",
    "Kotwali",
    "Purani Basti",
    "Gandhi Nagar",
    "Subhash Nagar",
    "Rajendra Nagar",
    "Shastri Nagar",
    "Nehru Nagar",
    "Azad Nagar",
    "Kidwai Nagar",
    "Station Road",
    "Chowk",
    "Qazi Tola",
    "Pathanpura",
    "Sarai",
    "Kasaban",
    "Mandi",
    "Naya Ganj",
    "Purana Ganj",
    "Lohiya Nagar",
    "Ambedkar Nagar",
    "Tilak Nagar",
    "Patel Nagar",
    "Indira Nagar",
    "Jawahar Nagar",
    "Krishna Nagar",
    "Ram Nagar",
    "Shiv Puri",
    "Idgah",
    "Jama Masjid",
    "Bazar Khas",
    "Khatikana",
    "Brahmpuri",
    "Vaishali Colony",
    "Awas Vikas",
    "Tehsil Road",
    "Kachahri Road",
    "Mission Compound",
    "Railway Colony",
    "Chandra Nagar",
    "Vijay Nagar",
    "Prem Nagar",
    "Sant Nagar",
    "Ashok Nagar",
    "Malviya Nagar",
    "Moti Bagh",
    "Lal Kurti",
    "Begum Bagh",
    "Sheikhpura",
    "Sultanpura",
    "Katra",
    "Gudri Bazar",
    "Saraswati Vihar",
    "Panchsheel Colony",
    "Nai Basti",
    "Hanuman Chowk",
    "Kanungoyan",
    "Ghosiyan",
    "Shanti Nagar",
)
OFFICER_RANKS = {
    Role.STATE_ADMIN: "Superintendent of Police",
    Role.CONTROL_ROOM: "Inspector",
    Role.SP_OFFICE: "Inspector",
    Role.ASP: "Additional SP",
    Role.CIRCLE_OFFICER: "Deputy SP",
    Role.STATION_OFFICER: "Inspector",
    Role.CONSTABLE: "Constable",
}
INCIDENT_KIND_WEIGHTS = {
    IncidentKind.RUMOUR: 30,
    IncidentKind.DISPUTE_CLASH: 22,
    IncidentKind.CRIME: 18,
    IncidentKind.COMMUNAL_TENSION: 8,
    IncidentKind.PROTEST_GATHERING: 10,
    IncidentKind.ELECTION: 6,
    IncidentKind.OTHER: 6,
}
SUMMARIES = {
    IncidentKind.RUMOUR: (
        "Rumour on WhatsApp of child lifters seen near {place}",
        "Message circulating that a shrine was damaged in {place}",
        "Video shared claiming a clash in {place}; origin unknown",
    ),
    IncidentKind.DISPUTE_CLASH: (
        "Land boundary dispute between two families in {place}",
        "Quarrel over irrigation water turned violent in {place}",
    ),
    IncidentKind.CRIME: (
        "Cattle theft reported from {place}",
        "House burglary reported in {place}",
    ),
    IncidentKind.COMMUNAL_TENSION: (
        "Tension over a procession route in {place}",
        "Objectionable post shared, crowd gathering in {place}",
    ),
    IncidentKind.PROTEST_GATHERING: (
        "Villagers blocking the road at {place} over power cuts",
        "Crowd gathered at {place} after a road accident",
    ),
    IncidentKind.ELECTION: (
        "Complaint of voters being threatened in {place}",
        "Liquor distribution reported before polling in {place}",
    ),
    IncidentKind.OTHER: (
        "Missing person reported from {place}",
        "Fire in a thatched house in {place}",
    ),
}
PANCHAYAT_POLLS = (datetime(2026, 4, 10, tzinfo=UTC), datetime(2026, 5, 25, tzinfo=UTC))


class GenerateError(DomainError):
    """The generator cannot run (the database is not empty, a wrong scale...)."""


# ---- small helpers ---------------------------------------------------------------------------


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (integers that add up to ``total``)."""
    weight_sum = sum(weights) or 1
    exact = [total * weight / weight_sum for weight in weights]
    parts = [int(value) for value in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _unit_code(text: str, taken: set[str] | None) -> str:
    """A unit code as the importers make it (``geo_import.unit_code``: long ones shortened with
    a digest), made unique among ``taken`` (and added to it)."""
    code, number = unit_code(text), 2
    while taken is not None and code in taken:
        code, number = unit_code(f"{text}-{number}"), number + 1
    if taken is not None:
        taken.add(code)
    return code


def _detail(detail: dict | None) -> str:
    """An audit detail as ``audit.canonical_detail`` writes it (generated details hold no
    names, numbers or secrets, so its safety checks are not repeated row by row)."""
    if not detail:
        return "{}"
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _ist_noon_to_utc(day: date, minutes_after_ten: int) -> datetime:
    """A time on ``day`` between 10:00 and 17:00 IST, in UTC."""
    return datetime(day.year, day.month, day.day, 4, 30, tzinfo=UTC) + timedelta(
        minutes=minutes_after_ten
    )


class _Inserter:
    """Multi-row INSERTs through the driver's ``executemany``, without SQLAlchemy's per-row
    parameter processing (the one cost that grows with millions of rows).

    Rows are dicts holding every column but an autoincrement id; values are what the models
    take (aware UTC datetimes, dates, enum members). The two conversions SQLAlchemy would make
    on SQLite are made here the same way: datetimes become ``YYYY-MM-DD HH:MM:SS.ffffff`` in
    UTC and dates ``YYYY-MM-DD``. On PostgreSQL rows go through ``COPY ... FROM STDIN``, whose
    driver (psycopg) adapts those values itself.
    """

    def __init__(self, connection):
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.plans: dict = {}

    def _plan(self, table, row: dict):
        key = (table.name, tuple(row))
        plan = self.plans.get(key)
        if plan is None:
            columns = list(row)
            missing = [
                column.name
                for column in table.columns
                if column.name not in row
                and not (column.primary_key and column.autoincrement in (True, "auto"))
            ]
            if missing:
                raise GenerateError(f"rows for {table.name} lack {', '.join(missing)}")
            marker = "?" if self.sqlite else "%s"
            quoted = ", ".join(f'"{column}"' for column in columns)
            sql = (
                f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join([marker] * len(columns))})"
            )
            conversions = []
            if self.sqlite:
                for index, name in enumerate(columns):
                    column_type = table.c[name].type
                    if isinstance(column_type, UTCDateTime):
                        conversions.append((index, _sqlite_datetime))
                    elif isinstance(column_type, Date):
                        conversions.append((index, date.isoformat))
            getter = operator.itemgetter(*columns)  # rows have several columns: a tuple
            plan = self.plans[key] = (sql, getter, conversions)
        return plan

    def insert(self, table, rows: list[dict]) -> None:
        if not rows:
            return
        sql, getter, conversions = self._plan(table, rows[0])
        if conversions:
            values = []
            for row in rows:
                value = list(getter(row))
                for index, convert in conversions:
                    if value[index] is not None:
                        value[index] = convert(value[index])
                values.append(tuple(value))
        else:
            values = [getter(row) for row in rows]
        if self.sqlite:
            self.connection.exec_driver_sql(sql, values)
            return
        # PostgreSQL: COPY on the session's own connection (same transaction); psycopg's
        # executemany would pay a round trip per row.
        columns = ", ".join(f'"{column}"' for column in rows[0])
        with self.connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)


def _sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite storage form of an aware UTC datetime (always with microseconds)."""
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


class _Batches:
    """Rows waiting to be inserted, written table by table in an order that satisfies the
    foreign keys whenever ~``size`` rows have piled up."""

    ORDER = (
        Contact.__table__,
        ContactProposal.__table__,
        SearchToken.__table__,
        Incident.__table__,
        IncidentPlace.__table__,
        TimelineEntry.__table__,
        AuditEvent.__table__,
    )

    def __init__(self, size: int):
        self.size = size
        self.inserter = _Inserter(db.session.connection())
        self.rows: dict = {table: [] for table in self.ORDER}
        self.pending = 0
        self.written: Counter = Counter()

    def add(self, table, row: dict) -> None:
        self.rows[table].append(row)
        self.pending += 1
        if self.pending >= self.size:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.rows[table]
            if rows:
                self.inserter.insert(table, rows)
                self.written[table.name] += len(rows)
                self.rows[table] = []
        self.pending = 0


def _insert(table, rows: list[dict], size: int = BATCH_SIZE) -> int:
    inserter = _Inserter(db.session.connection())
    for start in range(0, len(rows), size):
        inserter.insert(table, rows[start : start + size])
    return len(rows)


def _tune_connection() -> None:
    """Settings for this bulk load, for the current transaction: a 128 MB page cache on SQLite
    (instead of 2 MB); on PostgreSQL no statement timeout (the app's ``DB_STATEMENT_TIMEOUT_MS``
    guards requests, not a load whose index builds and set-based updates take minutes)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size=-131072")
    else:
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")


_ascii = json.encoder.encode_basestring_ascii


def _json_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _ascii(value)
    return str(int(value))


def _audit_hash(fields: dict, canonical_occurred_at: str) -> str:
    """``cplan.models.audit.event_hash`` of ``fields``, assembled directly (the same bytes:
    sorted keys, no spaces, ASCII escapes), about three times faster for millions of events."""
    f = fields
    text_ = (
        '{"action":'
        + _ascii(f["action"])
        + ',"detail":'
        + _ascii(f["detail"])
        + ',"ip_address":'
        + _ascii(f["ip_address"])
        + ',"occurred_at":"'
        + canonical_occurred_at
        + '","officer_id":'
        + _json_value(f["officer_id"])
        + ',"officer_pno":'
        + _ascii(f["officer_pno"])
        + ',"outcome":'
        + _ascii(f["outcome"].value)
        + ',"post_id":'
        + _json_value(f["post_id"])
        + ',"post_title":'
        + _ascii(f["post_title"])
        + ',"prev_hash":'
        + _ascii(f["prev_hash"])
        + ',"seq":'
        + str(f["seq"])
        + ',"target_id":'
        + _json_value(f["target_id"])
        + ',"target_type":'
        + _json_value(f["target_type"])
        + ',"unit_path":'
        + _json_value(f["unit_path"])
        + "}"
    )
    return hashlib.sha256(text_.encode("ascii")).hexdigest()


# ---- what the stages share -------------------------------------------------------------------


@dataclass
class _Staff:
    """(officer id, post id) pairs of a unit's posts."""

    sho: tuple[int, int] | None = None
    desk: list[tuple[int, int]] = field(default_factory=list)
    asp: tuple[int, int] | None = None
    sp_office: tuple[int, int] | None = None
    co: tuple[int, int] | None = None


@dataclass
class _Places:
    """Per place (list index = place id - 1): what the history stage needs, nothing more."""

    name: list[str] = field(default_factory=list)
    station: list[int] = field(default_factory=list)  # station unit id
    district: list[int] = field(default_factory=list)  # district unit id
    path: list[str] = field(default_factory=list)
    # Filled by the contacts stream: first contact id, count, campaign time, active slots (bits).
    first_contact: list[int] = field(default_factory=list)
    contact_count: list[int] = field(default_factory=list)
    campaign: list[datetime | None] = field(default_factory=list)
    active_bits: list[int] = field(default_factory=list)


class StateGenerator:
    """Builds the data set stage by stage; see the module docstring for the decisions.

    ``stages()`` lists ``(name, callable)`` pairs; each callable flushes and never commits (the
    CLI commits after each). ``echo`` receives progress lines.
    """

    def __init__(
        self,
        scale: float = 1.0,
        seed: int = DEFAULT_SEED,
        until: date | None = None,
        data_dir: Path | str | None = None,
        batch_size: int = BATCH_SIZE,
        echo: Callable[[str], None] | None = None,
    ):
        if not (0 < scale <= 1.0):
            raise GenerateError("the scale must be above 0 and at most 1.0")
        self.scale = scale
        self.seed = seed
        self.until = until or datetime.now(UTC).date()
        self.end = datetime(self.until.year, self.until.month, self.until.day, tzinfo=UTC)
        self.start = datetime(2024, 5, 1, 4, 30, tzinfo=UTC)
        if self.end < datetime(2025, 1, 1, tzinfo=UTC):
            raise GenerateError("the history must end on 2025-01-01 or later")
        self.data_dir = data_dir_of(data_dir)
        # The statewide verification drive: opened by the control room eight days before the end
        # of the history, at 10:00 IST (its "drive.opened" event is in the merged audit trail).
        self.drive_opened_at = (
            self.end - timedelta(days=DRIVE_DAYS) + timedelta(hours=4, minutes=30)
        )
        for name in (DISTRICTS_FILE, SUBDISTRICTS_FILE, NAMES_FILE):
            data_file(name, self.data_dir)  # a missing file stops the run before any stage
        self.batch_size = batch_size
        self.echo = echo or (lambda line: None)
        self.counts: Counter = Counter()  # places by kind, for the progress lines
        self.units: dict[int, dict] = {}  # id -> {kind, path, code, name_en, parent_id}
        self.district_ids: list[int] = []
        self.district_places: dict[int, list[int]] = defaultdict(list)  # district id -> place ids
        self.station_places: dict[int, list[int]] = defaultdict(list)
        self.staff: dict[int, _Staff] = defaultdict(_Staff)
        self.control_room: list[tuple[int, int]] = []
        self.state_admin: tuple[int, int] | None = None
        self.officer_pno: dict[int, str] = {}
        self.post_info: dict[int, tuple[str, str, str]] = {}  # id -> (title, unit path, cug)
        self.places = _Places()
        self.setup_events: list[tuple] = []
        self._names = None
        self._name_cache: dict = {}

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"cplan-generate:{self.seed}:{stream}")

    def stages(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("geography", self.build_geography),
            ("posts and officers", self.build_people),
            ("contacts, incidents and audit trail", self.build_history),
            ("counters and statistics", self.finish),
            ("verification drive", self.build_drive),
        ]

    # ---- refusing a non-empty database ------------------------------------------------------

    def check_empty(self) -> None:
        """Raise GenerateError unless every table the generator fills is empty."""
        filled = []
        for model in (Unit, Place, Officer, Post, Contact, Incident, AuditEvent, SearchToken):
            if db.session.scalar(select(model.__table__.c.id).limit(1)) is not None:
                filled.append(model.__tablename__)
        if filled:
            raise GenerateError(
                f"the database is not empty ({', '.join(filled)} hold rows): generate fills an "
                "empty, migrated database only; create a new one and run 'flask db upgrade' first"
            )

    # ---- stage 1: geography -----------------------------------------------------------------

    def build_geography(self) -> None:
        _tune_connection()
        rng = self.rng("geography")
        with open(self.data_dir / DISTRICTS_FILE, encoding="utf-8-sig", newline="") as handle:
            district_rows = list(csv.DictReader(handle))
        with open(self.data_dir / SUBDISTRICTS_FILE, encoding="utf-8-sig", newline="") as handle:
            subdistrict_rows = list(csv.DictReader(handle))
        subs_by_district: dict[str, list[dict]] = defaultdict(list)
        for row in subdistrict_rows:
            subs_by_district[row["district_code"].strip()].append(row)

        unit_rows: list[dict] = []
        ids = itertools.count(1)
        created = self.start

        def unit(
            kind: UnitKind,
            parent: int | None,
            code: str,
            name_en: str,
            name_hi: str,
            generated: bool = False,
            aliases: str = "",
            census: str | None = None,
        ) -> int:
            unit_id = next(ids)
            path = (self.units[parent]["path"] if parent else "/") + f"{unit_id}/"
            self.units[unit_id] = {
                "kind": kind,
                "path": path,
                "code": code,
                "name_en": name_en,
                "parent_id": parent,
                "name_hi": name_hi,
            }
            unit_rows.append(
                {
                    "id": unit_id,
                    "kind": kind,
                    "parent_id": parent,
                    "path": path,
                    "code": code,
                    "census_2011_code": census,
                    "name_en": name_en,
                    "name_hi": name_hi,
                    "name_generated": generated,
                    "aliases": aliases,
                    "search_key": names_search_key(name_en, name_hi, aliases),
                    "hq_place_id": None,
                    "active": True,
                    "created_at": created,
                }
            )
            return unit_id

        state_code = district_rows[0]["state_code"].strip()
        state_name = district_rows[0]["state_name"].strip()
        state_id = unit(
            UnitKind.STATE,
            None,
            state_code,
            state_name,
            STATE_NAMES_HI.get(state_code) or to_devanagari(state_name),
            generated=state_code not in STATE_NAMES_HI,
        )
        range_of: dict[str, int] = {}
        for (zone_code, zone_hi), ranges in POLICE_ZONES.items():
            zone_id = unit(
                UnitKind.ZONE, state_id, zone_code, f"{zone_code.title()} zone", f"{zone_hi} ज़ोन"
            )
            for (range_code, range_hi), district_codes in ranges.items():
                range_id = unit(
                    UnitKind.RANGE,
                    zone_id,
                    range_code,
                    f"{range_code.title()} range",
                    f"{range_hi} परिक्षेत्र",
                )
                for code in district_codes:
                    range_of[code] = range_id
        by_code = {row["district_code"].strip(): row for row in district_rows}
        missing = sorted(set(by_code) - set(range_of))
        if missing:
            raise GenerateError(
                f"districts {', '.join(missing)} have no police range in POLICE_ZONES"
            )

        subdistrict_rows_out: list[dict] = []
        place_rows: list[dict] = []
        spell_rows: list[dict] = []
        token_rows: list[dict] = []
        hq_updates: list[dict] = []
        station_total = STATIONS_IN_STATE * self.scale
        village_weights = [int(row["village_count"]) ** 0.6 for row in district_rows]
        weight_sum = sum(village_weights)
        village_code = VILLAGE_CODE_BASE
        subdistrict_id = 0
        place_id = 0

        for row, weight in zip(district_rows, village_weights, strict=True):
            code = row["district_code"].strip()
            name_en = row["district_name"].strip()
            name_hi = UP_DISTRICT_NAMES_HI.get(code) or to_devanagari(name_en)
            aliases = join_aliases(UP_DISTRICT_OTHER_NAMES.get(code, ()), name_en)
            district_id = unit(
                UnitKind.DISTRICT,
                range_of[code],
                code,
                name_en,
                name_hi,
                generated=code not in UP_DISTRICT_NAMES_HI,
                aliases=aliases,
                census=(row.get("census_2011_code") or "").strip() or None,
            )
            self.district_ids.append(district_id)
            district_path = self.units[district_id]["path"]
            centre = (rng.uniform(24.5, 29.8), rng.uniform(77.6, 84.0))

            # Sub-districts, with the real village counts scaled (largest remainder, >= 1 in all).
            subs = subs_by_district[code]
            real_counts = [int(sub["village_count"]) for sub in subs]
            village_total = max(1, round(sum(real_counts) * self.scale))
            village_counts = _largest_remainder(village_total, real_counts)
            sub_ids = []
            for sub in subs:
                subdistrict_id += 1
                sub_ids.append(subdistrict_id)
                sub_name = sub["subdistrict_name"].strip()
                subdistrict_rows_out.append(
                    {
                        "id": subdistrict_id,
                        "lgd_code": sub["subdistrict_code"].strip(),
                        "district_id": district_id,
                        "name_en": sub_name,
                        "name_hi": to_devanagari(sub_name),
                        "name_generated": True,
                        "census_2011_code": (sub.get("census_2011_code") or "").strip() or None,
                        "village_count": int(sub["village_count"]),
                    }
                )

            # Towns (one per sub-district at full scale, the district's own first) and wards.
            hq_sub = next(
                (
                    i
                    for i, sub in enumerate(subs)
                    if normalised(sub["subdistrict_name"]) == normalised(name_en)
                ),
                0,
            )
            town_order = [hq_sub] + [i for i in range(len(subs)) if i != hq_sub]
            town_count = min(len(subs), max(1, round(len(subs) * self.scale)))
            # Drafts of this district's places: (sub-district index, kind, name, town draft index).
            drafts: list[tuple[int, PlaceKind, str, int | None]] = []
            for rank, sub_index in enumerate(town_order[:town_count]):
                town_name = name_en if rank == 0 else subs[sub_index]["subdistrict_name"].strip()
                town_draft = len(drafts)
                drafts.append((sub_index, PlaceKind.TOWN, town_name, None))
                full_wards = (
                    min(len(MOHALLAS), max(15, round(int(row["village_count"]) / 40)))
                    if rank == 0
                    else rng.randint(8, 20)
                )
                wards = max(1, round(full_wards * self.scale))
                for mohalla in rng.sample(MOHALLAS, min(wards, len(MOHALLAS))):
                    drafts.append((sub_index, PlaceKind.WARD, mohalla, town_draft))
            for sub_index, count in enumerate(village_counts):
                for _ in range(count):
                    drafts.append((sub_index, PlaceKind.VILLAGE, self._village_name(rng), None))
            # Group by sub-district (stable: a town stays before its wards), renumbering the wards'
            # towns.
            order = sorted(range(len(drafts)), key=lambda i: drafts[i][0])
            moved_to = {old: new for new, old in enumerate(order)}
            drafts = [
                (sub_index, kind, place_name, None if town is None else moved_to[town])
                for sub_index, kind, place_name, town in (drafts[i] for i in order)
            ]

            # Stations: contiguous blocks of the district's places, one block per station.
            stations = max(1, min(len(drafts), round(station_total * weight / weight_sum)))
            if self.scale == 1.0:
                stations = max(MIN_STATIONS, min(MAX_STATIONS, stations))
            blocks = _largest_remainder(len(drafts), [1] * stations)
            circles: dict[int, int] = {}
            taken_codes: set[str] = set()
            first_place_id = place_id + 1
            draft_place_ids: dict[int, int] = {}
            position = 0
            for block_size in blocks:
                block = list(range(position, position + block_size))
                position += block_size
                middle_sub = drafts[block[len(block) // 2]][0]
                if middle_sub not in circles:
                    base = subs[middle_sub]["subdistrict_name"].strip()
                    circle_hi = f"{to_devanagari(base)} सर्किल"
                    circle_code = _unit_code(
                        f"{code}-CIRCLE-{normalised(base).upper()}", taken_codes
                    )
                    circles[middle_sub] = unit(
                        UnitKind.CIRCLE,
                        district_id,
                        circle_code,
                        f"{base} circle",
                        circle_hi,
                        generated=True,
                    )
                hq_draft = next((i for i in block if drafts[i][1] == PlaceKind.TOWN), block[0])
                hq_name = drafts[hq_draft][2]
                station_name = (
                    f"Kotwali {hq_name}" if drafts[hq_draft][1] == PlaceKind.TOWN else hq_name
                )
                suffix = 2
                while _unit_code(f"{code}-{normalised(station_name).upper()}", None) in taken_codes:
                    station_name = f"{hq_name} {suffix}"  # villages share names: Rampur, Rampur 2
                    suffix += 1
                station_code = _unit_code(f"{code}-{normalised(station_name).upper()}", taken_codes)
                station_id = unit(
                    UnitKind.STATION,
                    circles[middle_sub],
                    station_code,
                    station_name,
                    self._hindi(station_name),
                    generated=True,
                )
                station_path = self.units[station_id]["path"]
                for draft_index in block:
                    sub_index, kind, place_name, town_draft = drafts[draft_index]
                    place_id += 1
                    draft_place_ids[draft_index] = place_id
                    if draft_index == hq_draft:
                        hq_updates.append({"unit_id": station_id, "hq": place_id})
                    place_hi = (
                        name_hi
                        if kind == PlaceKind.TOWN and place_name == name_en
                        else self._hindi(place_name)
                    )
                    lgd = None
                    if kind == PlaceKind.VILLAGE:
                        village_code += 1
                        lgd = str(village_code)
                        key = f"lgd:{lgd}"
                    elif kind == PlaceKind.TOWN:
                        key = f"town:{code}:{normalised(place_name)}"
                    else:
                        town_key = place_rows[draft_place_ids[town_draft] - 1]["natural_key"]
                        key = f"ward:{town_key}:{normalised(place_name)}"
                    spread = 0.05 if kind == PlaceKind.WARD else 0.35
                    place_rows.append(
                        {
                            "id": place_id,
                            "kind": kind,
                            "natural_key": key,
                            "lgd_code": lgd,
                            "census_2011_code": None,
                            "name_en": place_name,
                            "name_hi": place_hi,
                            "name_generated": place_hi != name_hi,
                            "name_corrected": False,
                            "aliases": "",
                            "search_key": self._names_key(place_name, place_hi),
                            "district_id": district_id,
                            "subdistrict_id": sub_ids[sub_index],
                            "town_id": draft_place_ids[town_draft]
                            if town_draft is not None
                            else None,
                            "station_id": station_id,
                            "unit_path": station_path,
                            "latitude": round(centre[0] + rng.uniform(-spread, spread), 6),
                            "longitude": round(centre[1] + rng.uniform(-spread, spread), 6),
                            "uninhabited": False,
                            "active_contacts": 0,
                            "active_confidential": 0,
                            "import_note": "generated (state-scale data set)",
                            "created_at": created,
                        }
                    )
                    spell_rows.append(
                        {
                            "place_id": place_id,
                            "station_id": station_id,
                            "started_at": created,
                            "ended_at": None,
                            "reason": "generated (state-scale data set)",
                        }
                    )
                    token_rows.extend(
                        {
                            "kind": PLACE,
                            "record_id": place_id,
                            "key": key_,
                            "unit_path": station_path,
                        }
                        for key_ in sorted(self._keys(place_name, place_hi))
                    )
                    self.places.name.append(place_name)
                    self.places.station.append(station_id)
                    self.places.district.append(district_id)
                    self.places.path.append(station_path)
                    self.station_places[station_id].append(place_id)
                    self.district_places[district_id].append(place_id)
            self.counts["villages"] += sum(village_counts)
            self.counts["towns"] += sum(1 for draft in drafts if draft[1] == PlaceKind.TOWN)
            self.counts["wards"] += sum(1 for draft in drafts if draft[1] == PlaceKind.WARD)
            for hours, action, created_here in (
                (1, "geo.places_imported", place_id - first_place_id + 1),
                (2, "geo.stations_imported", stations),
            ):
                self.setup_events.append(
                    (
                        self.start + timedelta(hours=hours, minutes=len(self.district_ids)),
                        action,
                        district_path,
                        None,
                        None,
                        {
                            "file": f"generated:{code}",
                            "created": created_here,
                            "updated": 0,
                            "unchanged": 0,
                            "notes": 0,
                        },
                    )
                )

        _insert(Unit.__table__, unit_rows)
        _insert(Subdistrict.__table__, subdistrict_rows_out)
        _insert(Place.__table__, place_rows)
        db.session.connection().execute(
            update(Unit.__table__)
            .where(Unit.__table__.c.id == bindparam("unit_id"))
            .values(hq_place_id=bindparam("hq")),
            hq_updates,
        )
        _insert(PlaceStationSpell.__table__, spell_rows)
        _insert(SearchToken.__table__, token_rows)
        self.setup_events[:0] = [
            (
                self.start,
                "geo.districts_imported",
                self.units[state_id]["path"],
                None,
                None,
                {
                    "file": DISTRICTS_FILE,
                    "created": len(district_rows),
                    "updated": 0,
                    "unchanged": 0,
                    "notes": 1,
                },
            ),
            (
                self.start + timedelta(minutes=5),
                "geo.subdistricts_imported",
                None,
                None,
                None,
                {
                    "file": SUBDISTRICTS_FILE,
                    "created": len(subdistrict_rows_out),
                    "updated": 0,
                    "unchanged": 0,
                    "notes": 0,
                },
            ),
        ]
        self.places.first_contact = [0] * place_id
        self.places.contact_count = [0] * place_id
        self.places.campaign = [None] * place_id
        self.places.active_bits = [0] * place_id
        kinds = Counter(unit_["kind"] for unit_ in self.units.values())
        self.echo(
            f"  {len(self.district_ids)} districts, {kinds[UnitKind.CIRCLE]} circles, "
            f"{kinds[UnitKind.STATION]} stations, {place_id:,} places "
            f"({self.counts['villages']:,} villages, {self.counts['towns']} towns, "
            f"{self.counts['wards']:,} wards)"
        )

    def _village_name(self, rng: random.Random) -> str:
        roll = rng.random()
        stem = rng.choice(VILLAGE_STEMS)
        if roll < 0.12:
            return f"{rng.choice(VILLAGE_PREFIXES)} {stem}"
        name = stem + rng.choice(VILLAGE_SUFFIXES)
        if roll > 0.9:
            name = f"{name} {rng.choice(VILLAGE_QUALIFIERS)}"
        return name

    def _hindi(self, name: str) -> str:
        cached = self._name_cache.get(("hi", name))
        if cached is None:
            cached = self._name_cache[("hi", name)] = to_devanagari(name)
        return cached

    def _names_key(self, name_en: str, name_hi: str) -> str:
        cache_key = ("names-key", name_en, name_hi)
        cached = self._name_cache.get(cache_key)
        if cached is None:
            cached = self._name_cache[cache_key] = names_search_key(name_en, name_hi)
        return cached

    def _keys(self, *names: str) -> frozenset[str]:
        cache_key = ("keys", *names)
        cached = self._name_cache.get(cache_key)
        if cached is None:
            cached = self._name_cache[cache_key] = frozenset(word_start_keys(*names))
        return cached

    # ---- stage 2: posts and officers --------------------------------------------------------

    def build_people(self) -> None:
        _tune_connection()
        rng = self.rng("people")
        names = self._name_lists()
        password_hash = generate_password_hash(GENERATED_PASSWORD)
        post_rows: list[dict] = []
        officer_rows: list[dict] = []
        assignment_rows: list[dict] = []
        events = self.setup_events
        post_ids = itertools.count(1)
        officer_ids = itertools.count(1)
        serial_by_home: Counter = Counter()
        created = self.start + timedelta(days=3)
        state_id = next(uid for uid, unit in self.units.items() if unit["kind"] == UnitKind.STATE)

        def make_post(
            role: Role, unit_id: int, title_en: str, title_hi: str, holders: int
        ) -> list[tuple[int, int]]:
            post_id = next(post_ids)
            cug = f"+91{CUG_BASE + post_id}"
            unit = self.units[unit_id]
            when = created + timedelta(seconds=post_id * 7)
            post_rows.append(
                {
                    "id": post_id,
                    "title_en": title_en,
                    "title_hi": title_hi,
                    "role": role,
                    "unit_id": unit_id,
                    "cug_number": cug,
                    "active": True,
                    "created_at": when,
                    "cug_changed_at": None,
                }
            )
            self.post_info[post_id] = (title_en, unit["path"], cug)
            events.append(
                (
                    when,
                    "admin.post_created",
                    unit["path"],
                    "posts",
                    post_id,
                    {"role": role.value, "cug": log_safe(cug)},
                )
            )
            home = (
                unit_id
                if unit["kind"] in (UnitKind.STATE, UnitKind.DISTRICT)
                else self._district_above(unit_id)
            )
            home_code = self.units[home]["code"] if home != state_id else "100"
            pairs = []
            for _ in range(holders):
                officer_id = next(officer_ids)
                serial_by_home[home_code] += 1
                pno = f"{home_code}{serial_by_home[home_code]:06d}"
                gender_names = names.female if rng.random() < 0.15 else names.male
                first, last = (
                    rng.choice(gender_names[Script.LATIN]),
                    rng.choice(names.last[Script.LATIN]),
                )
                name = f"{first} {last}"
                officer_rows.append(
                    {
                        "id": officer_id,
                        "pno": pno,
                        "name": name,
                        "name_hi": self._hindi(name),
                        "rank": OFFICER_RANKS[role],
                        "unit_id": home,
                        "password_hash": password_hash,
                        "password_set_at": when,
                        "setup_code_hash": None,
                        "setup_code_expires_at": None,
                        "totp_secret": None,
                        "totp_confirmed": False,
                        "totp_last_step": 0,
                        "language": "hi" if rng.random() < 0.6 else "en",
                        "active": True,
                        "created_at": when,
                    }
                )
                assignment_rows.append(
                    {
                        "post_id": post_id,
                        "officer_id": officer_id,
                        "started_at": when,
                        "ended_at": None,
                    }
                )
                self.officer_pno[officer_id] = pno
                events.append(
                    (
                        when + timedelta(seconds=1),
                        "admin.officer_created",
                        self.units[home]["path"],
                        "officers",
                        officer_id,
                        {"pno": pno},
                    )
                )
                events.append(
                    (
                        when + timedelta(seconds=2),
                        "admin.officer_assigned",
                        unit["path"],
                        "officers",
                        officer_id,
                        {"post_id": post_id},
                    )
                )
                pairs.append((officer_id, post_id))
            return pairs

        self.state_admin = make_post(
            Role.STATE_ADMIN,
            state_id,
            "State administrator, C-Plan cell",
            "राज्य प्रशासक, सी-प्लान प्रकोष्ठ",
            1,
        )[0]
        for shift, shift_hi in (("A", "ए"), ("B", "बी"), ("C", "सी")):
            self.control_room += make_post(
                Role.CONTROL_ROOM,
                state_id,
                f"UP-112 supervisor, shift {shift}",
                f"यूपी-112 पर्यवेक्षक, पाली {shift_hi}",
                1,
            )
            self.control_room += make_post(
                Role.CONTROL_ROOM,
                state_id,
                f"DGP control room, shift {shift}",
                f"डीजीपी नियंत्रण कक्ष, पाली {shift_hi}",
                1,
            )
        for unit_id, unit in self.units.items():
            name_en, name_hi = unit["name_en"], unit["name_hi"]
            staff = self.staff[unit_id]
            if unit["kind"] == UnitKind.DISTRICT:
                staff.sp_office = make_post(
                    Role.SP_OFFICE,
                    unit_id,
                    f"SP office {name_en}",
                    f"पुलिस अधीक्षक कार्यालय {name_hi}",
                    1,
                )[0]
                staff.asp = make_post(
                    Role.ASP, unit_id, f"ASP {name_en}", f"अपर पुलिस अधीक्षक {name_hi}", 1
                )[0]
            elif unit["kind"] == UnitKind.CIRCLE:
                base = name_en.removesuffix(" circle")
                staff.co = make_post(
                    Role.CIRCLE_OFFICER,
                    unit_id,
                    f"CO {base}",
                    f"क्षेत्राधिकारी {name_hi.removesuffix(' सर्किल')}",
                    1,
                )[0]
            elif unit["kind"] == UnitKind.STATION:
                staff.sho = make_post(
                    Role.STATION_OFFICER, unit_id, f"SHO {name_en}", f"थाना प्रभारी {name_hi}", 1
                )[0]
                staff.desk = make_post(
                    Role.CONSTABLE, unit_id, f"{name_en} station desk", f"थाना {name_hi} डेस्क", 3
                )
        _insert(Post.__table__, post_rows)
        _insert(Officer.__table__, officer_rows)
        _insert(PostAssignment.__table__, assignment_rows)
        self.echo(
            f"  {len(post_rows):,} posts, {len(officer_rows):,} officers "
            f"(password hashed once: {GENERATED_PASSWORD})"
        )

    def _district_above(self, unit_id: int) -> int:
        unit = self.units[unit_id]
        while unit["kind"] != UnitKind.DISTRICT:
            if unit["parent_id"] is None:
                return unit_id
            unit_id = unit["parent_id"]
            unit = self.units[unit_id]
        return unit_id

    def _name_lists(self):
        if self._names is None:
            self._names = read_names(self.data_dir / NAMES_FILE)
        return self._names

    # ---- stage 3: the history ---------------------------------------------------------------

    def build_history(self) -> None:
        _tune_connection()
        # Secondary indexes are built once after the load: much faster than keeping them up to
        # date row by row when they no longer fit in memory.
        connection = db.session.connection()
        indexes = [
            index
            for table in _Batches.ORDER
            for index in sorted(table.indexes, key=lambda i: i.name)
        ]
        for index in indexes:
            index.drop(connection)
        # Likewise the places' contact counts: one recount after the load, not a trigger per row.
        contact_counts.drop_triggers(connection)
        batches = _Batches(self.batch_size)
        self._progress_at = time.perf_counter()
        tiebreak = itertools.count()
        streams = [
            self._setup_stream(tiebreak),
            self._contact_stream(batches, tiebreak),
            self._incident_stream(batches, tiebreak),
            self._sign_in_stream(tiebreak),
            self._drive_stream(tiebreak),
        ]
        prev_hash, seq = GENESIS_HASH, 0
        audit_table = AuditEvent.__table__
        for when, _order, event in heapq.merge(*streams):
            if event is None:  # a stream's marker: nothing to record
                continue
            action, outcome, officer_id, post_id, unit_path, target_type, target_id, detail, ip = (
                event
            )
            seq += 1
            fields = {
                "seq": seq,
                "occurred_at": when,
                "action": action,
                "outcome": outcome,
                "officer_id": officer_id,
                "officer_pno": self.officer_pno.get(officer_id, "") if officer_id else "",
                "post_id": post_id,
                "post_title": self.post_info[post_id][0] if post_id else "",
                "unit_path": unit_path,
                "target_type": target_type,
                "target_id": target_id,
                "detail": detail,
                "ip_address": ip,
                "prev_hash": prev_hash,
            }
            iso = when.isoformat("T", "microseconds")
            prev_hash = fields["hash"] = _audit_hash(fields, iso[:26] + "Z")
            if seq == 1 and prev_hash != event_hash(fields):  # the fast path must never drift
                raise GenerateError(
                    "the generator's audit hash differs from cplan.models.audit.event_hash"
                )
            batches.add(audit_table, fields)
            if seq % 250_000 == 0:
                self.echo(
                    f"  {seq:,} audit events, {batches.written['contacts']:,} contacts, "
                    f"{batches.written['incidents']:,} incidents written "
                    f"(history at {when:%Y-%m-%d}, {time.perf_counter() - self._progress_at:.0f} s)"
                )
        batches.flush()
        started = time.perf_counter()
        for index in indexes:
            index.create(connection)
        self.echo(f"  {len(indexes)} indexes built in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        contact_counts.recount(connection)
        contact_counts.install_triggers(connection)
        self.echo(f"  places' active contacts counted in {time.perf_counter() - started:.1f} s")
        self.echo(f"  {seq:,} audit events, last hash {prev_hash[:16]}...")

    def _event(
        self,
        action: str,
        officer_post: tuple[int, int] | None,
        unit_path: str | None,
        target_type: str | None = None,
        target_id: int | None = None,
        detail: dict | None = None,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        ip: str = "",
    ) -> tuple:
        officer_id, post_id = officer_post if officer_post else (None, None)
        return (
            action,
            outcome,
            officer_id,
            post_id,
            unit_path,
            target_type,
            target_id,
            _detail(detail),
            ip,
        )

    def _setup_stream(self, tiebreak) -> Iterator[tuple]:
        """Geography imports and accounts, all done by the state administrator before enrolment
        began."""
        for when, action, path, target_type, target_id, detail in sorted(
            self.setup_events, key=lambda e: e[0]
        ):
            yield (
                when,
                next(tiebreak),
                self._event(action, self.state_admin, path, target_type, target_id, detail),
            )

    @staticmethod
    def _drain(heap: list, until: datetime | None) -> Iterator[tuple]:
        while heap and (until is None or heap[0][0] <= until):
            yield heapq.heappop(heap)

    # -- contacts --

    def _contact_stream(self, batches: _Batches, tiebreak) -> Iterator[tuple]:
        """Enrolments village by village in campaign order; decisions and removals follow."""
        rng = self.rng("contacts")
        names = self._name_lists()
        pools = self._name_pools(names)
        place_count = len(self.places.name)
        span_days = (self.end.date() - FIRST_ENROLMENT).days - 1
        campaign = sorted(
            (rng.randrange(span_days * 360), place_index) for place_index in range(place_count)
        )
        heap: list = []
        contact_id = 0
        proposal_id = 0
        pending_after = self.end - timedelta(days=PENDING_DAYS)
        contact_table, token_table = Contact.__table__, SearchToken.__table__
        proposal_table = ContactProposal.__table__
        categories, category_weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
        counts, count_weights = list(CONTACT_COUNT_WEIGHTS), list(CONTACT_COUNT_WEIGHTS.values())
        for slot_of_day, place_index in campaign:
            day, minute = divmod(slot_of_day, 360)
            started = _ist_noon_to_utc(FIRST_ENROLMENT + timedelta(days=day), minute)
            yield from self._drain(heap, started)
            place_id = place_index + 1
            station_id = self.places.station[place_index]
            district_id = self.places.district[place_index]
            path = self.places.path[place_index]
            staff = self.staff[station_id]
            district_staff = self.staff[district_id]
            enroller = rng.choice(staff.desk)
            count = rng.choices(counts, weights=count_weights)[0]
            self.places.first_contact[place_index] = contact_id + 1
            self.places.contact_count[place_index] = count
            self.places.campaign[place_index] = started
            active_bits = 0
            enrolled_at = started
            for slot in range(count):
                contact_id += 1
                enrolled_at += timedelta(minutes=rng.randint(2, 9), seconds=rng.randrange(60))
                category = (
                    ContactCategory.PRADHAN
                    if slot == 0
                    else rng.choices(categories, category_weights)[0]
                )
                if category == ContactCategory.WOMEN_REPRESENTATIVE or rng.random() < 0.22:
                    gender = Gender.FEMALE
                else:
                    gender = Gender.MALE
                script = Script.DEVANAGARI if rng.random() < DEVANAGARI_SHARE else Script.LATIN
                name, other, keys = self._contact_name(pools, script, gender, rng)
                decided_at = enrolled_at + timedelta(
                    days=rng.randint(1, 10), minutes=rng.randrange(480)
                )
                roll = rng.random()
                if (
                    decided_at >= self.end
                    or (enrolled_at > pending_after and roll < 0.85)
                    or roll < STALE_PENDING_SHARE
                ):
                    status = ContactStatus.PENDING
                elif roll < STALE_PENDING_SHARE + REJECTED_SHARE:
                    status = ContactStatus.REJECTED
                elif roll < STALE_PENDING_SHARE + REJECTED_SHARE + INACTIVE_SHARE:
                    status = ContactStatus.INACTIVE
                else:
                    status = ContactStatus.ACTIVE
                removal_at = None
                if status == ContactStatus.INACTIVE:
                    latest = self.end - timedelta(days=6)
                    earliest = decided_at + timedelta(days=30)
                    if earliest >= latest:
                        status = ContactStatus.ACTIVE
                    else:
                        removal_at = earliest + (latest - earliest) * rng.random()
                decided = status != ContactStatus.PENDING
                decider = district_staff.asp if rng.random() < 0.8 else district_staff.sp_office
                mobile = CONTACT_NUMBER_BASE + contact_id
                if contact_id > 20 and rng.random() < SHARED_NUMBER_SHARE:
                    mobile = CONTACT_NUMBER_BASE + contact_id - rng.randint(11, 20)
                reason = rng.choice(REJECT_REASONS) if status == ContactStatus.REJECTED else ""
                inactive_reason = rng.choice(list(InactiveReason)) if removal_at else None
                last_verified = (
                    decided_at if status == ContactStatus.ACTIVE and rng.random() < 0.6 else None
                )
                batches.add(
                    contact_table,
                    {
                        "id": contact_id,
                        "place_id": place_id,
                        "unit_path": path,
                        "name": name,
                        "name_script": script,
                        "name_other": other,
                        "name_other_generated": True,
                        "search_key": "",
                        "mobile": f"+91{mobile}",
                        "mobile_alt": f"+91{ALT_NUMBER_BASE + contact_id}"
                        if rng.random() < 0.08
                        else None,
                        "whatsapp": rng.random() < 0.75,
                        "category": category,
                        "gender": gender,
                        "address": "",
                        "notes": "",
                        "confidential": status == ContactStatus.ACTIVE
                        and rng.random() < CONFIDENTIAL_SHARE,
                        "status": status,
                        "inactive_reason": inactive_reason,
                        "version": 1 + decided + (removal_at is not None),
                        "consent_on": enrolled_at.astimezone(IST).date(),
                        "consent_by_officer_id": enroller[0],
                        "consent_language": "hi" if rng.random() < 0.8 else "en",
                        "enrolled_at": enrolled_at,
                        "enrolled_by_officer_id": enroller[0],
                        "enrolled_by_post_id": enroller[1],
                        "decided_at": decided_at if decided else None,
                        "decided_by_officer_id": decider[0] if decided else None,
                        "decision_reason": reason,
                        "decision_note": "",
                        "last_verified_at": last_verified,
                        "unreachable_count": 0,
                        "updated_at": removal_at or (decided_at if decided else enrolled_at),
                        "erased_at": None,
                        "opted_out_at": None,
                        "opted_out_by_officer_id": None,
                        "opt_out_channel": "",
                    },
                )
                for key in sorted(keys):
                    batches.add(
                        token_table,
                        {"kind": "contact", "record_id": contact_id, "key": key, "unit_path": path},
                    )
                heapq.heappush(
                    heap,
                    (
                        enrolled_at,
                        next(tiebreak),
                        self._event(
                            "roster.contact_enrolled",
                            enroller,
                            path,
                            "contacts",
                            contact_id,
                            {"place_id": place_id, "category": category.value},
                            ip=self._ip(station_id, 1),
                        ),
                    ),
                )
                if decided:
                    action = (
                        "enrolment.rejected"
                        if status == ContactStatus.REJECTED
                        else "enrolment.approved"
                    )
                    heapq.heappush(
                        heap,
                        (
                            decided_at,
                            next(tiebreak),
                            self._event(
                                action,
                                decider,
                                path,
                                "contacts",
                                contact_id,
                                {"reason": reason} if reason else None,
                                ip=self._ip(district_id, 2),
                            ),
                        ),
                    )
                if removal_at is not None:
                    proposal_id += 1
                    proposed_by = rng.choice(staff.desk)
                    removal_decided = removal_at + timedelta(
                        days=rng.randint(1, 5), minutes=rng.randrange(300)
                    )
                    batches.add(
                        proposal_table,
                        {
                            "id": proposal_id,
                            "contact_id": contact_id,
                            "unit_path": path,
                            "kind": ProposalKind.REMOVAL,
                            "status": ProposalStatus.APPROVED,
                            "version": 2,
                            "changes": "{}",
                            "inactive_reason": inactive_reason,
                            "note": "",
                            "proposed_at": removal_at,
                            "proposed_by_officer_id": proposed_by[0],
                            "proposed_by_post_id": proposed_by[1],
                            "decided_at": removal_decided,
                            "decided_by_officer_id": district_staff.asp[0],
                            "decision_reason": "",
                            "decision_note": "",
                        },
                    )
                    heapq.heappush(
                        heap,
                        (
                            removal_at,
                            next(tiebreak),
                            self._event(
                                "roster.removal_proposed",
                                proposed_by,
                                path,
                                "contacts",
                                contact_id,
                                {"proposal_id": proposal_id, "fields": []},
                                ip=self._ip(station_id, 1),
                            ),
                        ),
                    )
                    heapq.heappush(
                        heap,
                        (
                            removal_decided,
                            next(tiebreak),
                            self._event(
                                "roster.removal_approved",
                                district_staff.asp,
                                path,
                                "contacts",
                                contact_id,
                                {"proposal_id": proposal_id},
                                ip=self._ip(district_id, 2),
                            ),
                        ),
                    )
                if status == ContactStatus.ACTIVE or removal_at is not None:
                    active_bits |= 1 << slot
            self.places.active_bits[place_index] = active_bits
        yield from self._drain(heap, None)

    def _name_pools(self, names) -> dict:
        rng = self.rng("name-pools")
        pools = {}
        for script in Script:
            for gender, firsts in (
                (Gender.FEMALE, names.female[script]),
                (Gender.MALE, names.male[script]),
            ):
                pairs = [(first, last) for first in firsts for last in names.last[script]]
                if len(pairs) > NAME_POOL:
                    pairs = rng.sample(pairs, NAME_POOL)
                pools[script, gender] = pairs
        return pools

    def _contact_name(self, pools: dict, script: Script, gender: Gender, rng: random.Random):
        """(name, the other script's spelling, search keys), computed once per pool entry."""
        pool = pools[script, gender]
        index = rng.randrange(len(pool))
        cache_key = (script, gender, index)
        cached = self._name_cache.get(cache_key)
        if cached is None:
            first, last = pool[index]
            name = f"{first} {last}"
            other = to_roman(name) if script == Script.DEVANAGARI else to_devanagari(name)
            keys = frozenset(word_start_keys(name)) | frozenset(word_start_keys(other))
            cached = self._name_cache[cache_key] = (name, other, keys)
        return cached

    @staticmethod
    def _ip(unit_id: int, desk: int) -> str:
        return f"10.{(unit_id >> 8) & 255}.{unit_id & 255}.{10 + desk}"

    # -- incidents --

    def _incident_times(self, rng: random.Random, count: int) -> list[datetime]:
        # Two years back, but not before the roster and the accounts existed.
        first = max(
            self.end - timedelta(days=365 * INCIDENT_YEARS), datetime(2024, 7, 1, tzinfo=UTC)
        )
        span = (self.end - first).total_seconds()
        polls_from, polls_to = PANCHAYAT_POLLS
        polls = polls_from >= first and polls_to <= self.end
        times = []
        for _ in range(count):
            if polls and rng.random() < 0.12:
                when = polls_from + (polls_to - polls_from) * rng.random()
            else:
                when = first + timedelta(seconds=span * rng.random())
            times.append(when.replace(microsecond=rng.randrange(1_000_000)))
        times.sort()
        return times

    def _incident_stream(self, batches: _Batches, tiebreak) -> Iterator[tuple]:
        """Incidents in report order, each with its whole timeline (cut at the end of history)."""
        rng = self.rng("incidents")
        total = max(1, round(INCIDENTS_IN_STATE * self.scale))
        times = self._incident_times(rng, total)
        district_weights = [
            len(self.district_places[district_id]) for district_id in self.district_ids
        ]
        cumulative = list(itertools.accumulate(district_weights))
        kinds, kind_weights = list(INCIDENT_KIND_WEIGHTS), list(INCIDENT_KIND_WEIGHTS.values())
        serials: Counter = Counter()
        heap: list = []
        entry_id = 0
        incident_table, place_table = Incident.__table__, IncidentPlace.__table__
        entry_table = TimelineEntry.__table__
        polls_from, polls_to = PANCHAYAT_POLLS
        for incident_id, reported_at in enumerate(times, start=1):
            yield from self._drain(heap, reported_at)
            # The marker: when the merge takes it, every contact enrolled before now is written.
            yield reported_at, next(tiebreak), None
            district_id = self.district_ids[
                bisect.bisect_right(cumulative, rng.randrange(cumulative[-1]))
            ]
            district = self.units[district_id]
            place_id = rng.choice(self.district_places[district_id])
            station_id = self.places.station[place_id - 1]
            place_ids = [place_id]
            extra = rng.choices((0, 1, 2), weights=(80, 15, 5))[0]
            neighbours = self.station_places[station_id]
            for _ in range(extra):
                other = rng.choice(neighbours)
                if other not in place_ids:
                    place_ids.append(other)
            election_time = polls_from <= reported_at <= polls_to
            kind = (
                IncidentKind.ELECTION
                if election_time and rng.random() < 0.4
                else rng.choices(kinds, weights=kind_weights)[0]
            )
            severity = rng.choices(list(Severity), weights=(35, 40, 20, 5))[0]
            # The sources named before WhatsApp joined them: the same seed, the same data set.
            source = rng.choices(list(IncidentSource)[:5], weights=(35, 20, 30, 8, 7))[0]
            staff = self.staff[station_id]
            callable_contacts = self._callable_contacts(place_ids, reported_at)
            tip_contact = None
            if source == IncidentSource.CONTACT_TIP:
                if callable_contacts:
                    tip_contact = rng.choice(callable_contacts)
                else:
                    source = IncidentSource.FIELD_REPORT
            creator = (
                rng.choice(self.control_room)
                if source in (IncidentSource.UP112_CALL, IncidentSource.CONTROL_ROOM)
                else staff.sho
            )
            confidential = tip_contact is not None and rng.random() < 0.5
            year = reported_at.astimezone(IST).year
            serials[district_id, year] += 1
            serial = serials[district_id, year]
            reference = f"{district['code']}/{year}/{serial}"
            summary = rng.choice(SUMMARIES[kind]).format(place=self.places.name[place_id - 1])
            entries, final = self._timeline(
                rng, reported_at, staff, callable_contacts, tip_contact, kind, confidential
            )
            status = final["status"]
            district_path = district["path"]
            up112 = (
                f"P{reported_at.astimezone(IST):%y%m%d}{rng.randrange(100000):05d}"
                if source == IncidentSource.UP112_CALL
                else None
            )
            handling = final.get("handling")
            review = final.get("review")
            batches.add(
                incident_table,
                {
                    "id": incident_id,
                    "reference": reference,
                    "district_id": district_id,
                    "year": year,
                    "serial": serial,
                    "up112_number": up112,
                    "kind": kind,
                    "severity": severity,
                    "source": source,
                    "occurred_at": reported_at - timedelta(minutes=rng.randrange(180)),
                    "reported_at": reported_at,
                    "summary": summary,
                    "status": status,
                    "confidential": confidential,
                    "handling_by_officer_id": handling[1][0] if handling else None,
                    "handling_since": handling[0] if handling else None,
                    "reviewed_at": review[0] if review else None,
                    "reviewed_by_officer_id": review[1][0] if review else None,
                    "review_comment": review[2] if review else "",
                    "first_call_at": final.get("first_call_at"),
                    "verdict_at": final.get("verdict_at"),
                    "version": final["version"],
                    "last_entry_seq": len(entries),
                    "created_at": reported_at,
                    "created_by_officer_id": creator[0],
                    "created_by_post_id": creator[1],
                    "updated_at": entries[-1]["at"] if entries else reported_at,
                },
            )
            for incident_place in place_ids:
                batches.add(
                    place_table,
                    {
                        "incident_id": incident_id,
                        "place_id": incident_place,
                        "unit_path": self.places.path[incident_place - 1],
                    },
                )
            heapq.heappush(
                heap,
                (
                    reported_at,
                    next(tiebreak),
                    self._event(
                        "incident.created",
                        creator,
                        district_path,
                        "incidents",
                        incident_id,
                        {
                            "reference": reference,
                            "kind": kind.value,
                            "severity": severity.value,
                            "source": source.value,
                            "places": place_ids,
                            "confidential": confidential,
                        },
                        ip=self._ip(station_id, 3),
                    ),
                ),
            )
            for seq, entry in enumerate(entries, start=1):
                entry_id += 1
                actor = entry.pop("actor")
                action, detail = entry.pop("audit")
                batches.add(
                    entry_table,
                    {
                        "id": entry_id,
                        "incident_id": incident_id,
                        "seq": seq,
                        "officer_id": actor[0],
                        "post_id": actor[1],
                        "contact_id": None,
                        "call_outcome": None,
                        "corrects_entry_id": None,
                        "from_status": None,
                        "to_status": None,
                        "escalated_to_unit_id": None,
                        "text": "",
                        **entry,
                    },
                )
                if action:
                    detail = (
                        {"entry": seq, **detail} if action != "incident.tip_recorded" else detail
                    )
                    heapq.heappush(
                        heap,
                        (
                            entry["at"],
                            next(tiebreak),
                            self._event(
                                action,
                                actor,
                                district_path,
                                "incidents",
                                incident_id,
                                detail,
                                ip=self._ip(station_id, 3),
                            ),
                        ),
                    )
            if handling:
                heapq.heappush(
                    heap,
                    (
                        handling[0],
                        next(tiebreak),
                        self._event(
                            "incident.claimed",
                            handling[1],
                            district_path,
                            "incidents",
                            incident_id,
                            ip=self._ip(station_id, 3),
                        ),
                    ),
                )
        self._serials = serials
        yield from self._drain(heap, None)

    def _callable_contacts(self, place_ids: list[int], when: datetime) -> list[int]:
        """Active contacts of these places whose approval certainly came before ``when``."""
        ids = []
        for place_id in place_ids:
            index = place_id - 1
            campaign = self.places.campaign[index]
            if campaign is None or campaign + timedelta(days=12) > when:
                continue
            bits, first = self.places.active_bits[index], self.places.first_contact[index]
            ids.extend(
                first + slot for slot in range(self.places.contact_count[index]) if bits >> slot & 1
            )
        return ids

    def _timeline(
        self,
        rng: random.Random,
        reported_at: datetime,
        staff: _Staff,
        contacts: list[int],
        tip_contact: int | None,
        kind: IncidentKind,
        confidential: bool,
    ) -> tuple[list[dict], dict]:
        """The incident's entries (in order, none after the end of history) and its final state."""
        S = IncidentStatus
        age = self.end - reported_at
        if age < timedelta(hours=6):
            plan = rng.choices(
                (S.NEW, S.VERIFYING, S.VERIFIED_TRUE, S.FOUND_FALSE), weights=(40, 40, 10, 10)
            )[0]
        else:
            plan = rng.choices(
                (
                    S.CLOSED,
                    S.ACTION_TAKEN,
                    S.VERIFIED_TRUE,
                    S.FOUND_FALSE,
                    S.UNCONFIRMED,
                    S.VERIFYING,
                    S.NEW,
                ),
                weights=(55, 12, 8, 10, 8, 5, 2),
            )[0]
        verdict = plan if plan in VERDICT_STATUSES else None
        if plan == S.ACTION_TAKEN:
            verdict = rng.choices(
                (S.VERIFIED_TRUE, S.UNCONFIRMED, S.FOUND_FALSE), weights=(70, 20, 10)
            )[0]
        elif plan == S.CLOSED:
            verdict = rng.choices(
                (S.FOUND_FALSE, S.VERIFIED_TRUE, S.UNCONFIRMED), weights=(50, 35, 15)
            )[0]
        sho = staff.sho
        callers = staff.desk + [sho]
        entries: list[dict] = []
        now = reported_at
        state = {"status": S.NEW, "version": 1}

        def add(at: datetime, actor, audit_action, detail=None, **fields) -> bool:
            if at >= self.end:
                return False
            entries.append(
                {"at": at, "actor": actor, "audit": (audit_action, detail or {}), **fields}
            )
            return True

        def move(at: datetime, to_status: IncidentStatus, note: str = "") -> bool:
            from_status = state["status"]
            incidents.check_transition(from_status, to_status)  # the app's own workflow
            if not add(
                at,
                sho,
                "incident.status_changed",
                {"from": from_status.value, "to": to_status.value},
                kind=EntryKind.STATUS_CHANGE,
                from_status=from_status,
                to_status=to_status,
                text=note,
            ):
                return False
            state["status"] = to_status
            state["version"] += 1
            if to_status in VERDICT_STATUSES and "verdict_at" not in state:
                state["verdict_at"] = at
            return True

        if tip_contact is not None:
            add(
                now,
                sho,
                "incident.tip_recorded",
                {"contact_id": tip_contact, "confidential": confidential},
                kind=EntryKind.NOTE,
                text="Tip received from a contact.",
                contact_id=tip_contact,
            )
        if plan == S.NEW:
            return entries, state
        now += timedelta(minutes=rng.randint(3, 45))
        if not move(now, S.VERIFYING):
            return entries, state
        if rng.random() < 0.5:
            state["handling"] = (now, sho)
        called = rng.sample(contacts, min(len(contacts), rng.randint(2, 6))) if contacts else []
        weights = {
            S.VERIFIED_TRUE: (60, 5, 15, 12, 5, 3),
            S.FOUND_FALSE: (5, 60, 15, 12, 5, 3),
            S.UNCONFIRMED: (15, 15, 35, 25, 7, 3),
        }.get(verdict, (30, 30, 20, 12, 5, 3))
        for contact_id in called:
            now += timedelta(minutes=rng.randint(2, 20), seconds=rng.randrange(60))
            outcome = rng.choices(list(CallOutcome), weights=weights)[0]
            said = (
                ""
                if outcome not in ANSWERED_OUTCOMES
                else rng.choice(
                    (
                        "Says the report is true.",
                        "Says nothing of the sort happened.",
                        "Has not heard of it.",
                    )
                )
            )
            if not add(
                now,
                rng.choice(callers),
                "incident.call_logged",
                {"contact_id": contact_id, "outcome": outcome.value},
                kind=EntryKind.CALL,
                contact_id=contact_id,
                call_outcome=outcome,
                text=said,
            ):
                return entries, state
            state.setdefault("first_call_at", now)
        if plan == S.VERIFYING or verdict is None:
            return entries, state
        now += timedelta(minutes=rng.randint(10, 90))
        if not move(now, verdict):
            return entries, state
        state.pop("handling", None)
        if verdict == S.FOUND_FALSE and kind == IncidentKind.RUMOUR and rng.random() < 0.6:
            now += timedelta(minutes=rng.randint(10, 60))
            add(
                now,
                sho,
                "incident.public_message_added",
                kind=EntryKind.PUBLIC_MESSAGE,
                text="The message is false. Do not forward it; inform the police of such posts.",
            )
        if plan in (S.ACTION_TAKEN, S.CLOSED) and not (
            plan == S.CLOSED and verdict == S.FOUND_FALSE
        ):
            now += timedelta(hours=rng.randint(1, 12))
            if not move(now, S.ACTION_TAKEN, "Action taken as per law."):
                return entries, state
        if plan == S.CLOSED:
            now += timedelta(days=rng.randint(1, 7), minutes=rng.randrange(600))
            if not move(now, S.CLOSED, "Situation normal."):
                return entries, state
        if state["status"] in (S.CLOSED, S.ACTION_TAKEN) and rng.random() < 0.6:
            now += timedelta(hours=rng.randint(2, 48))
            reviewer = rng.choice(self.control_room)
            comment = rng.choice(("Handled well.", "Calls made in time.", ""))
            if add(now, reviewer, "incident.reviewed", kind=EntryKind.REVIEW, text=comment):
                state["review"] = (now, reviewer, comment)
        return entries, state

    # -- sign-ins --

    def _sign_in_stream(self, tiebreak) -> Iterator[tuple]:
        """The last days' sign-ins: an OTP sent to the post's CUG, then the officer signs in."""
        rng = self.rng("sign-ins")
        holders: dict[int, list[int]] = defaultdict(list)
        for staff in list(self.staff.values()):
            for pair in [staff.sho, staff.asp, staff.sp_office, staff.co, *staff.desk]:
                if pair:
                    holders[pair[1]].append(pair[0])
        for officer_id, post_id in [*self.control_room, self.state_admin]:
            holders[post_id].append(officer_id)
        posts = sorted(holders)
        # Every day of the last month at scales from 0.1 up; a few days in miniature data sets.
        for day in range(max(3, round(SIGN_IN_DAYS * min(1.0, self.scale * 10))), 0, -1):
            day_start = self.end - timedelta(days=day)
            events = []
            for post_id in posts:
                if rng.random() > 0.7:
                    continue
                title, path, cug = self.post_info[post_id]
                at = day_start + timedelta(hours=3, seconds=rng.randrange(14 * 3600))
                ip = f"10.200.{post_id >> 8 & 255}.{post_id & 255}"
                officer = (rng.choice(holders[post_id]), post_id)
                events.append(
                    (
                        at,
                        self._event(
                            "auth.otp_sent",
                            (None, post_id),
                            path,
                            detail={"cug": log_safe(cug)},
                            ip=ip,
                        ),
                    )
                )
                at += timedelta(seconds=rng.randint(30, 150))
                if rng.random() < 0.03:
                    events.append(
                        (
                            at,
                            self._event(
                                "auth.sign_in",
                                (None, post_id),
                                path,
                                detail={"step": "officer"},
                                outcome=AuditOutcome.FAILURE,
                                ip=ip,
                            ),
                        )
                    )
                    at += timedelta(seconds=rng.randint(20, 90))
                events.append((at, self._event("auth.sign_in", officer, path, ip=ip)))
            events.sort(key=lambda item: item[0])
            for at, event in events:
                yield at, next(tiebreak), event

    # ---- stage 4: counters, derived columns, statistics --------------------------------------

    def finish(self) -> None:
        _tune_connection()
        connection = db.session.connection()
        serial_rows = [
            {"district_id": district_id, "year": year, "last_serial": last}
            for (district_id, year), last in sorted(self._serials.items())
        ]
        _insert(IncidentSerial.__table__, serial_rows)
        # What the verification calls did to the contacts (as ``incidents.log_call`` does).
        entries, contacts = TimelineEntry.__table__, Contact.__table__
        answered = sorted(ANSWERED_OUTCOMES)
        last_answer = (
            select(func.max(entries.c.at))
            .where(
                entries.c.contact_id == contacts.c.id,
                entries.c.kind == EntryKind.CALL,
                entries.c.call_outcome.in_(answered),
            )
            .scalar_subquery()
        )
        missed = (
            select(func.count(entries.c.id))
            .where(
                entries.c.contact_id == contacts.c.id,
                entries.c.kind == EntryKind.CALL,
                entries.c.call_outcome.not_in(answered),
            )
            .scalar_subquery()
        )
        last_call = (
            select(func.max(entries.c.at))
            .where(entries.c.contact_id == contacts.c.id, entries.c.kind == EntryKind.CALL)
            .scalar_subquery()
        )
        called = select(entries.c.contact_id).where(entries.c.contact_id.is_not(None))
        # updated_at is given explicitly, else the column's onupdate would stamp the time of the
        # run.
        connection.execute(
            update(contacts)
            .where(contacts.c.id.in_(called))
            .values(
                last_verified_at=func.coalesce(last_answer, contacts.c.last_verified_at),
                unreachable_count=missed,
                updated_at=case(
                    (last_call > contacts.c.updated_at, last_call), else_=contacts.c.updated_at
                ),
            )
        )
        if connection.dialect.name == "postgresql":
            for table in (
                "units",
                "subdistricts",
                "places",
                "posts",
                "officers",
                "contacts",
                "contact_proposals",
                "incidents",
                "timeline_entries",
            ):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("PRAGMA analysis_limit=2000"))
            connection.execute(text("ANALYZE"))

    # ---- stage 5: a statewide verification drive in progress --------------------------------

    def _state(self) -> tuple[int, str]:
        state_id = next(uid for uid, unit in self.units.items() if unit["kind"] == UnitKind.STATE)
        return state_id, self.units[state_id]["path"]

    def _drive_stream(self, tiebreak) -> Iterator[tuple]:
        """The drive's opening, in the trail at its time (the drive is written by build_drive
        with id 1: the database was empty)."""
        if not self.control_room:
            return
        _state_id, path = self._state()
        detail = {"phase_id": None, "max_age_days": DRIVE_MAX_AGE_DAYS}
        event = self._event(
            "drive.opened", self.control_room[0], path, "verification_drives", 1, detail
        )
        yield (self.drive_opened_at, next(tiebreak), event)

    def build_drive(self) -> None:
        """A statewide drive opened eight days before the end: every active contact not verified
        in the 30 days before gets a task (the app's own set-based statement, ``drives.fill``);
        about a quarter were confirmed since (by call, a few by visit), 2% were unreachable on
        three days and 5% tried once. The outcomes are written set-based, a statement per day,
        with the contacts' last-verified dates, and the counters are counted from them
        (``drives.recount``). Outcomes are not in the audit trail (a million events for data
        nobody recorded); changes and removals, which need proposals, are left to the demo."""
        if not self.control_room:
            return
        _tune_connection()
        state_id, path = self._state()
        officer_id, _post_id = self.control_room[0]
        opened = self.drive_opened_at
        drive = VerificationDrive(
            id=1,
            name="Statewide re-verification before the polls",
            scope_unit_id=state_id,
            scope_path=path,
            opens_on=ist_day(opened),
            due_on=ist_day(opened) + timedelta(days=30),
            max_age_days=DRIVE_MAX_AGE_DAYS,
            opened_by_id=officer_id,
            opened_at=opened,
        )
        db.session.add(drive)
        db.session.flush()
        drives.fill(drive, [path], opened)
        tasks, contacts = VerificationTask.__table__, Contact.__table__
        connection = db.session.connection()
        bucket = tasks.c.id % 100
        for day in range(DRIVE_DAYS):
            done_at = opened + timedelta(days=day, hours=2)
            on_day = (tasks.c.drive_id == drive.id, tasks.c.id % DRIVE_DAYS == day)
            for condition, values in (
                (bucket < 22, {"state": TaskState.CONFIRMED, "method": VerificationMethod.CALL}),
                (
                    bucket.between(22, 24),
                    {"state": TaskState.CONFIRMED, "method": VerificationMethod.VISIT},
                ),
                (
                    bucket.between(25, 26),
                    {"state": TaskState.UNREACHABLE, "attempts": 3, "unreachable_days": 3},
                ),
                (bucket.between(27, 31), {"attempts": 1, "unreachable_days": 1}),
            ):
                connection.execute(
                    update(tasks)
                    .where(*on_day, condition)
                    .values(
                        version=2,
                        done_at=done_at,
                        last_attempt_on=ist_day(done_at) if "attempts" in values else None,
                        **{key: getattr(value, "value", value) for key, value in values.items()},
                    )
                )
        confirmed = select(tasks.c.done_at).where(
            tasks.c.contact_id == contacts.c.id,
            tasks.c.drive_id == drive.id,
            tasks.c.state == TaskState.CONFIRMED.value,
        )
        connection.execute(
            update(contacts)
            .where(
                contacts.c.id.in_(
                    select(tasks.c.contact_id).where(
                        tasks.c.drive_id == drive.id, tasks.c.state == TaskState.CONFIRMED.value
                    )
                )
            )
            .values(
                last_verified_at=confirmed.scalar_subquery(),
                updated_at=case(
                    (
                        confirmed.scalar_subquery() > contacts.c.updated_at,
                        confirmed.scalar_subquery(),
                    ),
                    else_=contacts.c.updated_at,
                ),
            )
        )
        drives.recount(drive)
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('verification_drives', 'id'), "
                    "(SELECT COALESCE(MAX(id), 1) FROM verification_drives))"
                )
            )
        connection.execute(text("ANALYZE"))
        self.echo(f"  drive opened with {drive.task_count:,} tasks")

    # ---- the summary ------------------------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        """Rows per table, counted in the database."""
        models = (
            Unit,
            Subdistrict,
            Place,
            PlaceStationSpell,
            Post,
            Officer,
            PostAssignment,
            Contact,
            ContactProposal,
            SearchToken,
            Incident,
            IncidentPlace,
            TimelineEntry,
            IncidentSerial,
            AuditEvent,
        )
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in models
        }

    def status_counts(self) -> dict[str, dict[str, int]]:
        contacts = dict(
            db.session.execute(select(Contact.status, func.count()).group_by(Contact.status)).all()
        )
        incident_counts = dict(
            db.session.execute(
                select(Incident.status, func.count()).group_by(Incident.status)
            ).all()
        )
        return {
            "contacts": {str(getattr(k, "value", k)): v for k, v in contacts.items()},
            "incidents": {str(getattr(k, "value", k)): v for k, v in incident_counts.items()},
        }


def summary_lines(generator: StateGenerator) -> list[str]:
    """The final counts, for the console."""
    lines = ["rows per table:"]
    lines += [f"  {table:<22} {count:>12,}" for table, count in generator.table_counts().items()]
    for kind, counts in generator.status_counts().items():
        lines.append(
            f"{kind} by status: "
            + ", ".join(f"{status} {count:,}" for status, count in sorted(counts.items()))
        )
    lines.append(
        f"history until {generator.until.isoformat()} (seed {generator.seed}, scale "
        f"{generator.scale:g})"
    )
    return lines


def expected_villages(data_dir: Path, scale: float) -> int:
    """How many villages ``scale`` gives (the real per-district counts, scaled, at least one
    each)."""
    with open(Path(data_dir) / DISTRICTS_FILE, encoding="utf-8-sig", newline="") as handle:
        return sum(
            max(1, round(int(row["village_count"]) * scale)) for row in csv.DictReader(handle)
        )
