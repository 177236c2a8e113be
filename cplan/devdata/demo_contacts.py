"""Demo contacts: 6-14 respected citizens for every inhabited place of Baghpat attached to a
station.

A realistic spread, deterministic: each place draws from its own seeded random generator (seeded
with the place's natural key), so the same place always gets the same people whatever else
exists. About a third of the places end below the coverage target of 10 active contacts; most
contacts are active (approved by the demo ASP), some are pending, a few inactive; a few numbers
recur across neighbouring places (the duplicates page has something to show). Names are drawn
from ``names_hi_en.csv``, written in Devanagari or Roman, with the other script generated.

Numbers are **fictional**: ``+91 70000 NNNNN`` (the place's position times 20 plus the contact's,
so every demo number is unique unless duplicated on purpose). They pass the Indian mobile rules
(ten digits starting with 7) so the pages and links work, but belong to nobody we know of;
never send SMS to them from a real gateway.

Contacts are enrolled by the station's demo officers where the station has some (Baraut:
124000004-124000006, Khekada: 124000007), else by the SP office (124000001); approved ones were
decided by the demo ASP (124000002). Idempotent: a place that already has any contact is left
alone, so running the step again adds nothing. Inserted in bulk (a few thousand rows in one
statement per table; search tokens as ``roster.index_contact`` writes them); flushes, never commits.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, insert, select

from cplan.data import NAMES_FILE, data_file
from cplan.extensions import db
from cplan.models.accounts import Officer, Post, PostAssignment
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.roster import (
    Contact,
    ContactCategory,
    ContactStatus,
    Gender,
    InactiveReason,
    Script,
)
from cplan.models.search import SearchToken
from cplan.services import audit, search
from cplan.services.roster import CONTACT_SEARCH_KIND
from cplan.services.transliteration import to_devanagari, to_roman

NUMBER_BASE = 7000000000  # +91 70000 00000: the fictional demo range
PER_PLACE_SLOTS = 20  # numbers reserved per place (at most 14 are used)
COUNT_WEIGHTS = {6: 1, 7: 1, 8: 2, 9: 3, 10: 4, 11: 6, 12: 6, 13: 4, 14: 2}
PENDING_SHARE = 0.08
INACTIVE_SHARE = 0.03
DUPLICATE_SHARE = 0.04  # places where one contact carries a number from the place before
DEVANAGARI_SHARE = 0.5
FIRST_ENROLMENT = date(2024, 6, 1)
ENROLMENT_DAYS = 540
SP_OFFICE_PNO = "124000001"
ASP_PNO = "124000002"
# The categories' spread after the first contact (always the pradhan).
CATEGORY_WEIGHTS = {
    ContactCategory.FORMER_PRADHAN: 6,
    ContactCategory.BDC_WARD_MEMBER: 8,
    ContactCategory.TEACHER: 12,
    ContactCategory.DOCTOR: 5,
    ContactCategory.EX_SERVICEMAN: 8,
    ContactCategory.ADVOCATE: 4,
    ContactCategory.TRADER: 10,
    ContactCategory.RELIGIOUS_LEADER: 6,
    ContactCategory.RETIRED_GOVERNMENT: 7,
    ContactCategory.SOCIAL_WORKER: 6,
    ContactCategory.JOURNALIST: 2,
    ContactCategory.YOUTH_REPRESENTATIVE: 6,
    ContactCategory.WOMEN_REPRESENTATIVE: 7,
    ContactCategory.OTHER: 3,
}


@dataclass
class NameLists:
    """First names by gender and surnames, per script."""

    female: dict[Script, list[str]] = field(default_factory=lambda: defaultdict(list))
    male: dict[Script, list[str]] = field(default_factory=lambda: defaultdict(list))
    last: dict[Script, list[str]] = field(default_factory=lambda: defaultdict(list))


def read_names(path: Path) -> NameLists:
    lists = NameLists()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            script = Script.DEVANAGARI if row["script"] == "Devanagari" else Script.LATIN
            kind = row["kind"]
            target = {
                "first_name_female": lists.female,
                "first_name_male": lists.male,
                "last_name": lists.last,
            }.get(kind)
            if target is not None and row["name"].strip():
                target[script].append(row["name"].strip())
    for group in (lists.female, lists.male, lists.last):
        for names in group.values():
            names.sort()
    return lists


def demo_places(district: Unit) -> list[Place]:
    """Inhabited places of the district attached to a station, in a stable order."""
    return list(
        db.session.scalars(
            select(Place)
            .where(
                Place.district_id == district.id,
                Place.station_id.is_not(None),
                Place.uninhabited.is_(False),
                district.covers(Place.unit_path),
            )
            .order_by(Place.natural_key)
        )
    )


def _enrollers(
    district: Unit,
) -> tuple[dict[int, list[tuple[int, int]]], tuple[int, int] | None, int | None]:
    """(officer id, post id) pairs of the demo officers by station id, the SP office's pair, and
    the ASP's officer id (who decided the approved contacts)."""
    by_station: dict[int, list[tuple[int, int]]] = defaultdict(list)
    sp_office = asp_id = None
    rows = db.session.execute(
        select(Officer.id, Officer.pno, Post.id, Unit.id, Unit.kind)
        .join(PostAssignment, PostAssignment.officer_id == Officer.id)
        .join(Post, Post.id == PostAssignment.post_id)
        .join(Unit, Unit.id == Post.unit_id)
        .where(PostAssignment.ended_at.is_(None), district.covers(Unit.path))
        .order_by(Officer.pno)
    )
    for officer_id, pno, post_id, unit_id, unit_kind in rows:
        if pno == SP_OFFICE_PNO:
            sp_office = (officer_id, post_id)
        elif pno == ASP_PNO:
            asp_id = officer_id
        elif unit_kind == UnitKind.STATION:
            by_station[unit_id].append((officer_id, post_id))
    return by_station, sp_office, asp_id


def _name(rng: random.Random, names: NameLists, gender: Gender) -> tuple[str, Script]:
    script = Script.DEVANAGARI if rng.random() < DEVANAGARI_SHARE else Script.LATIN
    firsts = (names.female if gender == Gender.FEMALE else names.male)[script]
    return f"{rng.choice(firsts)} {rng.choice(names.last[script])}", script


def plan_place(
    index: int, place: Place, names: NameLists, enrollers: list[tuple[int, int]], asp_id: int | None
) -> list[dict]:
    """The contacts of one place as insert rows (deterministic for the place)."""
    rng = random.Random(f"cplan-demo-contacts:{place.natural_key}")
    count = rng.choices(list(COUNT_WEIGHTS), weights=list(COUNT_WEIGHTS.values()))[0]
    duplicate_slot = (
        rng.randrange(1, count) if index > 0 and rng.random() < DUPLICATE_SHARE else None
    )
    rows = []
    for slot in range(count):
        category = (
            ContactCategory.PRADHAN
            if slot == 0
            else rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        )
        if category == ContactCategory.WOMEN_REPRESENTATIVE:
            gender = Gender.FEMALE
        else:
            gender = Gender.FEMALE if rng.random() < 0.22 else Gender.MALE
        name, script = _name(rng, names, gender)
        other = to_roman(name) if script == Script.DEVANAGARI else to_devanagari(name)
        serial = (
            (index - 1) * PER_PLACE_SLOTS
            if slot == duplicate_slot
            else index * PER_PLACE_SLOTS + slot
        )
        enrolled_on = FIRST_ENROLMENT + timedelta(days=rng.randrange(ENROLMENT_DAYS))
        enrolled_at = datetime(
            enrolled_on.year, enrolled_on.month, enrolled_on.day, 5, 30, tzinfo=UTC
        ) + timedelta(minutes=rng.randrange(600))
        roll = rng.random()
        status = (
            ContactStatus.PENDING
            if roll < PENDING_SHARE
            else ContactStatus.INACTIVE
            if roll < PENDING_SHARE + INACTIVE_SHARE
            else ContactStatus.ACTIVE
        )
        officer_id, post_id = enrollers[slot % len(enrollers)] if enrollers else (None, None)
        decided = status != ContactStatus.PENDING
        decided_at = enrolled_at + timedelta(days=rng.randrange(1, 10)) if decided else None
        rows.append(
            {
                "place_id": place.id,
                "unit_path": place.unit_path,
                "name": name,
                "name_script": script,
                "name_other": other,
                "name_other_generated": True,
                "mobile": f"+91{NUMBER_BASE + serial}",
                "mobile_alt": None,
                "whatsapp": rng.random() < 0.75,
                "category": category,
                "gender": gender,
                "address": "",
                "notes": "",
                "confidential": False,
                "status": status,
                "inactive_reason": rng.choice(list(InactiveReason))
                if status == ContactStatus.INACTIVE
                else None,
                "version": 2 if decided else 1,
                "consent_on": enrolled_on,
                "consent_by_officer_id": officer_id,
                "consent_language": "hi" if rng.random() < 0.8 else "en",
                "enrolled_at": enrolled_at,
                "enrolled_by_officer_id": officer_id,
                "enrolled_by_post_id": post_id,
                "decided_at": decided_at,
                "decided_by_officer_id": asp_id if decided else None,
                "decision_reason": "",
                "decision_note": "",
                "last_verified_at": decided_at
                if status == ContactStatus.ACTIVE and rng.random() < 0.6
                else None,
                "unreachable_count": 0,
                "updated_at": decided_at or enrolled_at,
                "erased_at": None,
            }
        )
    return rows


@lru_cache(maxsize=8192)
def _name_keys(name: str) -> frozenset[str]:
    """``search.word_start_keys`` of one name (the same keys ``roster.index_contact`` writes),
    cached: surnames recur on thousands of demo contacts."""
    return frozenset(search.word_start_keys(name))


def ensure_demo_contacts(district: Unit, data_dir: Path) -> list[str]:
    """Enrol the demo contacts of every place that has none yet; returns what was done."""
    places = demo_places(district)
    if not places:
        return ["contacts: no attached places"]
    has_contacts = set(
        db.session.scalars(
            select(Contact.place_id).where(district.covers(Contact.unit_path)).distinct()
        )
    )
    names = read_names(data_file(NAMES_FILE, data_dir))
    by_station, sp_office, asp_id = _enrollers(district)
    rows: list[dict] = []
    for index, place in enumerate(places):
        if place.id in has_contacts:
            continue
        enrollers = by_station.get(place.station_id) or ([sp_office] if sp_office else [])
        rows += plan_place(index, place, names, enrollers, asp_id)
    if not rows:
        return []
    # Core inserts (the ORM's bulk path with RETURNING regroups rows and is far slower).
    ids = list(
        db.session.scalars(
            insert(Contact.__table__).returning(
                Contact.__table__.c.id, sort_by_parameter_order=True
            ),
            rows,
        )
    )
    tokens = [
        {
            "kind": CONTACT_SEARCH_KIND,
            "record_id": contact_id,
            "key": key,
            "unit_path": row["unit_path"],
        }
        for contact_id, row in zip(ids, rows, strict=True)
        for key in sorted(_name_keys(row["name"]) | _name_keys(row["name_other"]))
    ]
    db.session.execute(insert(SearchToken.__table__), tokens)
    places_done = len({row["place_id"] for row in rows})
    audit.record(
        "demo.contacts_loaded", unit=district, detail={"created": len(rows), "places": places_done}
    )
    return [
        f"contacts: {len(rows)} enrolled in {places_done} places (fictional numbers +91 70000 "
        "xxxxx)"
    ]


def contact_counts(district: Unit) -> dict[int, dict[ContactStatus, int]]:
    """Contacts per place and status within the district (for the summary and the tests)."""
    counts: dict[int, dict[ContactStatus, int]] = defaultdict(lambda: defaultdict(int))
    for place_id, status, number in db.session.execute(
        select(Contact.place_id, Contact.status, func.count())
        .where(district.covers(Contact.unit_path))
        .group_by(Contact.place_id, Contact.status)
    ):
        counts[place_id][ContactStatus(status)] += number
    return counts
