"""Name search through the ``search_tokens`` index, in either script, within the scope.

``index_names`` stores one key per word start of every spelling of a record's name;
``reindex`` does the same for many records at once and touches only the tokens that differ
(so an import run twice leaves the index exactly as it was). ``ids_for_key`` reads matching
record ids by an index range scan (``key >= q AND key < q_upper``) restricted to the scope's
subtree in the same query, never ``LIKE '%..%'``.

``find`` is the portal-wide search: places and contacts by name, contacts by mobile number in
any accepted format, places by LGD code, results grouped (places first) on one paginated list.

Limits (issue 14): a name needs at least ``MIN_NAME_CHARACTERS`` (3) letters, so a search cannot
list a district's contacts two letters at a time. A query typed as a phone number (digits, with
or without +91, spaces and dashes) is a number look-up and needs at least ``MIN_NUMBER_DIGITS``
(8): a whole number matches exactly; 8 or 9 digits match the numbers that *begin* with them (at
most 100 numbers, read by a range on the number indexes); fewer are refused, except that bare
ASCII digits still look up an LGD code (a place, never a contact). Every number look-up, from
any post and whatever it finds, is audited by ``roster.record_number_lookup`` with the query masked
(``+91 ******3210``): the trail never holds a full number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import joinedload

from cplan.extensions import db
from cplan.models.geo import Place, Unit
from cplan.models.roster import Contact
from cplan.models.search import SearchToken
from cplan.services.phone import DEVANAGARI_DIGITS, InvalidMobile, mask_mobile, normalise_mobile
from cplan.services.transliteration import normalise_query, search_key

KEY_LENGTH = 64
PLACE = "place"
CONTACT = "contact"
_WORD_SPLIT = re.compile(r"[\s\-/,.()|]+")
# ASCII digits only: ``\d`` and ``str.isdigit`` also accept Devanagari and full-width digits.
LGD_CODE = re.compile(r"[0-9]{1,16}")
MAX_QUERY_LENGTH = 100
PER_PAGE = 50
MAX_PER_PAGE = 100
# Rows per statement when reading or writing tokens in bulk (SQLite allows 32,766 parameters).
CHUNK = 500


MIN_NAME_CHARACTERS = 3
MIN_NUMBER_DIGITS = 8
# A query typed as a phone number: digits (ASCII or Devanagari), a leading +, spaces and dashes.
_NUMBER_LIKE = re.compile(r"\+?[0-9\u0966-\u096f\s\-().]+")


class QueryTooShort(ValueError):
    """The search text is neither a name of ``MIN_NAME_CHARACTERS`` letters, nor a number of
    ``MIN_NUMBER_DIGITS`` digits, nor an LGD code; ``number`` when it was typed as a number."""

    def __init__(self, query: str, number: bool = False):
        super().__init__(query)
        self.number = number


# ---- the index -------------------------------------------------------------------------------


def word_start_keys(*names: str) -> set[str]:
    """The key of every word-start suffix of every name ("Ram Kishore" -> "Ram Kishore",
    "Kishore")."""
    keys: set[str] = set()
    for name in names:
        words = [word for word in _WORD_SPLIT.split(name or "") if word]
        for start in range(len(words)):
            key = search_key(" ".join(words[start:]))[:KEY_LENGTH]
            if key:
                keys.add(key)
    return keys


def place_names(place: Place) -> list[str]:
    """Every spelling a place is searched by: English, Hindi and each alias on its own."""
    aliases = [alias.strip() for alias in (place.aliases or "").split("|") if alias.strip()]
    return [place.name_en, place.name_hi or "", *aliases]


def index_names(kind: str, record_id: int, unit_path: str, *names: str) -> None:
    """(Re)write the search tokens of one record."""
    db.session.execute(
        delete(SearchToken).where(SearchToken.kind == kind, SearchToken.record_id == record_id)
    )
    rows = [
        {"kind": kind, "record_id": record_id, "key": key, "unit_path": unit_path}
        for key in sorted(word_start_keys(*names))
    ]
    if rows:
        db.session.execute(insert(SearchToken), rows)


def index_place(place: Place) -> None:
    """Make a place findable by any of its names (after it has an id and a unit path)."""
    index_names(PLACE, place.id, place.unit_path, *place_names(place))


def reindex(kind: str, records: Iterable[tuple[int, str, Iterable[str]]]) -> int:
    """Bring the tokens of many records (``(id, unit_path, names)``) up to date in bulk.

    Only the difference is written: tokens no longer wanted are deleted, missing ones inserted,
    the rest left alone, so running it twice changes nothing. Returns the number of tokens
    inserted or deleted.
    """
    wanted = {}
    for record_id, unit_path, names in records:
        wanted[record_id] = {(key, unit_path) for key in word_start_keys(*names)}
    changes = 0
    ids = sorted(wanted)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        existing: dict[int, dict[tuple[str, str], list[int]]] = {
            record_id: {} for record_id in chunk
        }
        for token_id, record_id, key, unit_path in db.session.execute(
            select(
                SearchToken.id, SearchToken.record_id, SearchToken.key, SearchToken.unit_path
            ).where(SearchToken.kind == kind, SearchToken.record_id.in_(chunk))
        ):
            existing[record_id].setdefault((key, unit_path), []).append(token_id)
        stale: list[int] = []
        fresh: list[dict] = []
        for record_id in chunk:
            have = existing[record_id]
            for pair, token_ids in have.items():
                # Duplicates of a wanted token go too: one row per key is enough.
                stale.extend(token_ids if pair not in wanted[record_id] else token_ids[1:])
            fresh.extend(
                {"kind": kind, "record_id": record_id, "key": key, "unit_path": unit_path}
                for key, unit_path in sorted(wanted[record_id] - have.keys())
            )
        for part in range(0, len(stale), CHUNK):
            db.session.execute(
                delete(SearchToken).where(SearchToken.id.in_(stale[part : part + CHUNK]))
            )
        if fresh:
            db.session.execute(insert(SearchToken), fresh)
        changes += len(stale) + len(fresh)
    return changes


def reindex_places(places: Iterable[Place]) -> int:
    """``reindex`` for places (the importers' bulk path)."""
    return reindex(PLACE, ((place.id, place.unit_path, place_names(place)) for place in places))


def forget(kind: str, record_id: int) -> None:
    """Remove a record from the search index (e.g. on erasure)."""
    db.session.execute(
        delete(SearchToken).where(SearchToken.kind == kind, SearchToken.record_id == record_id)
    )


# ---- reading the index -----------------------------------------------------------------------


def key_upper_bound(key: str) -> str:
    """The smallest key greater than every key starting with ``key`` (keys are ASCII)."""
    return key[:-1] + chr(ord(key[-1]) + 1)


def ids_for_key(kind: str, key: str, scope: Unit):
    """A query of record ids with a name word starting with ``key`` (already a search key).

    One range scan of ``ix_search_tokens_kind_key_path``: ``kind`` equal, ``key`` in the prefix
    range, ``unit_path`` checked inside the index.
    """
    key = key[:KEY_LENGTH]
    return (
        select(SearchToken.record_id)
        .where(
            SearchToken.kind == kind,
            SearchToken.key >= key,
            SearchToken.key < key_upper_bound(key),
            scope.covers(SearchToken.unit_path),
        )
        .distinct()
    )


def matching_ids(kind: str, query: str, scope: Unit):
    """A subquery of record ids whose name has a word starting with ``query``, within ``scope``.

    Returns None when the query is too short to search (fewer than 2 meaningful characters).
    """
    key = normalise_query(query)
    if not key:
        return None
    return ids_for_key(kind, key, scope)


def count_matches(kind: str, query: str, scope: Unit) -> int:
    ids = matching_ids(kind, query, scope)
    if ids is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(ids.subquery()))


# ---- the portal-wide search ------------------------------------------------------------------


def lgd_code_in(query: str) -> str | None:
    """The query itself when it is an LGD code (ASCII digits only), else None."""
    text = query.strip()
    return text if LGD_CODE.fullmatch(text) else None


def mobile_in(query: str) -> str | None:
    """The E.164 number when the query is an Indian mobile number in any accepted format."""
    try:
        return normalise_mobile(query, allow_devanagari_digits=True)
    except InvalidMobile:
        return None


def number_digits(query: str) -> str | None:
    """The digits of a query typed as a phone number (digits, +, spaces, dashes), else None."""
    text = (query or "").strip()
    if not _NUMBER_LIKE.fullmatch(text):
        return None
    digits = "".join(ch for ch in text.translate(DEVANAGARI_DIGITS) if ch in "0123456789")
    return digits or None


def number_start_in(query: str) -> str | None:
    """The first 8 or 9 digits of a mobile number (after +91 or a leading 0), when that is what
    the query holds; None otherwise."""
    digits = number_digits(query)
    if digits is None:
        return None
    if query.strip().startswith("+91"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    if MIN_NUMBER_DIGITS <= len(digits) < 10 and digits[0] in "6789":
        return digits
    return None


def _after_start(digits: str) -> str | None:
    """The smallest number of the same length above every number beginning with ``digits``
    (digits only, so the range is the same under any collation); None after all nines."""
    following = str(int(digits) + 1)
    return following if len(following) == len(digits) else None


def page_size(per_page: int | None) -> int:
    """``PER_PAGE`` by default, never more than ``MAX_PER_PAGE``, never less than one."""
    return max(1, min(per_page or PER_PAGE, MAX_PER_PAGE))


class SearchResults(Pagination):
    """One page of a grouped result list: the places first, then the contacts.

    ``places`` and ``contacts`` are this page's share of each group; ``place_total`` and
    ``contact_total`` count the whole groups (two COUNT queries, then at most two page queries).
    """

    # The number looked up (E.164, or the digits a number begins with), for the audit trail.
    number: str | None = None
    number_start: str | None = None

    def __init__(self, places_query, contacts_query, page: int, per_page: int):
        self._places_query, self._contacts_query = places_query, contacts_query
        self.place_total = self._count(places_query)
        self.contact_total = self._count(contacts_query)
        self.places: list[Place] = []
        self.contacts: list[Contact] = []
        super().__init__(page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)

    @staticmethod
    def _count(query) -> int:
        if query is None:
            return 0
        return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))

    def _query_items(self) -> list:
        start, stop = (self.page - 1) * self.per_page, self.page * self.per_page
        if start < self.place_total:
            self.places = list(
                db.session.scalars(
                    self._places_query.offset(start).limit(min(stop, self.place_total) - start)
                ).unique()
            )
        if stop > self.place_total and self._contacts_query is not None:
            offset = max(0, start - self.place_total)
            self.contacts = list(
                db.session.scalars(
                    self._contacts_query.offset(offset).limit(stop - self.place_total - offset)
                ).unique()
            )
        return [*self.places, *self.contacts]

    def _query_count(self) -> int:
        return self.place_total + self.contact_total


def place_name_order(language: str):
    """Sort places by their name in the reader's script (Hindi falls back to English)."""
    if language == "hi":
        return (
            func.coalesce(func.nullif(Place.name_hi, ""), Place.name_en),
            Place.name_en,
            Place.id,
        )
    return (Place.name_en, Place.id)


def places_query(key: str | None, code: str | None, scope: Unit, language: str = "en"):
    """Places in ``scope`` with a name word starting with ``key`` or with LGD code ``code``."""
    conditions = []
    if key is not None:
        conditions.append(Place.id.in_(ids_for_key(PLACE, key, scope)))
    if code is not None:
        conditions.append(Place.lgd_code == code)
    if not conditions:
        return None
    return (
        select(Place)
        .options(joinedload(Place.station), joinedload(Place.district))
        .where(or_(*conditions), scope.covers(Place.unit_path))
        .order_by(*place_name_order(language))
    )


def _number_range(column, start: str):
    """``column`` (E.164) begins with +91 and the digits ``start``: a range on its index."""
    condition = column >= "+91" + start
    upper = _after_start(start)
    return and_(condition, column < "+91" + upper) if upper else condition


def contacts_query(
    key: str | None, mobile: str | None, scope: Unit, visible, number_start: str | None = None
):
    """Contacts passing ``visible`` (the roster's visibility rule) by name key or by number.

    A number is matched exactly on ``mobile`` or ``mobile_alt`` (stored E.164), never by LIKE;
    ``number_start`` (8 or 9 digits) matches the numbers beginning with it, by a range.
    """
    conditions = []
    if key is not None:
        conditions.append(Contact.id.in_(ids_for_key(CONTACT, key, scope)))
    if mobile is not None:
        conditions.append(
            Contact.id.in_(
                select(Contact.id)
                .where(Contact.mobile == mobile)
                .union(select(Contact.id).where(Contact.mobile_alt == mobile))
                .scalar_subquery()
            )
        )
    if number_start is not None:
        conditions.append(
            Contact.id.in_(
                select(Contact.id)
                .where(_number_range(Contact.mobile, number_start))
                .union(select(Contact.id).where(_number_range(Contact.mobile_alt, number_start)))
                .scalar_subquery()
            )
        )
    if not conditions:
        return None
    return (
        select(Contact)
        .options(joinedload(Contact.place))
        .where(or_(*conditions), visible, Contact.erased_at.is_(None))
        .order_by(Contact.name, Contact.id)
    )


def find(
    query: str,
    scope: Unit,
    visible_contacts,
    page: int = 1,
    per_page: int | None = None,
    language: str = "en",
) -> SearchResults:
    """Search places and contacts of ``scope``: by name (either script), number or LGD code.

    ``visible_contacts`` is the SQL condition of contacts the reader may see
    (``roster.visible_condition``): it carries the confidential rule as well as the scope.
    Raises ``QueryTooShort`` when the query is neither a name of three meaningful characters,
    nor a number of at least eight digits, nor an LGD code (see the module's docstring).
    """
    query = (query or "")[:MAX_QUERY_LENGTH]
    key = mobile = start = code = None
    if number_digits(query) is not None:
        # Typed as a number: a number look-up (or an LGD code), never a name.
        mobile = mobile_in(query)
        start = None if mobile else number_start_in(query)
        code = lgd_code_in(query)
        if mobile is None and start is None and code is None:
            raise QueryTooShort(query, number=True)
    else:
        key = normalise_query(query, MIN_NAME_CHARACTERS)
        if key is None:
            raise QueryTooShort(query)
    results = SearchResults(
        places_query(key, code, scope, language),
        contacts_query(key, mobile, scope, visible_contacts, number_start=start),
        page=max(1, page),
        per_page=page_size(per_page),
    )
    results.number, results.number_start = mobile, start
    return results


def masked_number_query(results: SearchResults) -> str | None:
    """The number looked up, masked for the audit trail (``+91 ******3210``; the beginning of a
    number as ``+91 ****5432…``), or None when the search was no number look-up."""
    if results.number:
        return mask_mobile(results.number)
    if results.number_start:
        start = results.number_start
        return f"+91 {'*' * (len(start) - 4)}{start[-4:]}…"
    return None
