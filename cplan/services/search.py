"""Name search through the ``search_tokens`` index, in either script, within the scope.

``index_names`` stores one key per word start of every spelling of a record's name; ``find``
turns the user's query into a key and reads matching record ids by an index range scan,
restricted to the scope's subtree in the same query.
"""
import re

from sqlalchemy import delete, func, insert, select

from cplan.extensions import db
from cplan.models.geo import Unit
from cplan.models.search import SearchToken
from cplan.services.geo import in_subtree
from cplan.services.transliteration import normalise_query, search_key

KEY_LENGTH = 64
_WORD_SPLIT = re.compile(r"[\s\-/,.()|]+")


def word_start_keys(*names: str) -> set[str]:
    """The key of every word-start suffix of every name ("Ram Kishore" -> "Ram Kishore", "Kishore")."""
    keys: set[str] = set()
    for name in names:
        words = [word for word in _WORD_SPLIT.split(name or "") if word]
        for start in range(len(words)):
            key = search_key(" ".join(words[start:]))[:KEY_LENGTH]
            if key:
                keys.add(key)
    return keys


def index_names(kind: str, record_id: int, unit_path: str, *names: str) -> None:
    """(Re)write the search tokens of one record."""
    db.session.execute(delete(SearchToken).where(SearchToken.kind == kind, SearchToken.record_id == record_id))
    rows = [{"kind": kind, "record_id": record_id, "key": key, "unit_path": unit_path}
            for key in sorted(word_start_keys(*names))]
    if rows:
        db.session.execute(insert(SearchToken), rows)


def forget(kind: str, record_id: int) -> None:
    """Remove a record from the search index (e.g. on erasure)."""
    db.session.execute(delete(SearchToken).where(SearchToken.kind == kind, SearchToken.record_id == record_id))


def key_upper_bound(key: str) -> str:
    """The smallest key greater than every key starting with ``key`` (keys are ASCII)."""
    return key[:-1] + chr(ord(key[-1]) + 1)


def matching_ids(kind: str, query: str, scope: Unit):
    """A subquery of record ids whose name has a word starting with ``query``, within ``scope``.

    Returns None when the query is too short to search (fewer than 2 meaningful characters).
    """
    key = normalise_query(query)
    if not key:
        return None
    key = key[:KEY_LENGTH]
    return (
        select(SearchToken.record_id)
        .where(
            SearchToken.kind == kind,
            SearchToken.key >= key,
            SearchToken.key < key_upper_bound(key),
            in_subtree(SearchToken.unit_path, scope),
        )
        .distinct()
    )


def count_matches(kind: str, query: str, scope: Unit) -> int:
    ids = matching_ids(kind, query, scope)
    if ids is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(ids.subquery()))
