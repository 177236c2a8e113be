"""Search tokens: names made findable by prefix, in either script, through an index.

For every name of a place or contact we store one row per word start ("Ram Kishore Sharma"
gives the keys of "ramkishoresharma", "kishoresharma" and "sharma"), as script-neutral
phonetic keys (``cplan.services.transliteration.search_key``). A query key then finds names by a
B-tree range scan (``key >= q AND key < q_upper``), never by scanning the table, and the row's
``unit_path`` applies the jurisdiction in the same query.
"""

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cplan.models.base import Base
from cplan.models.geo import PathString

# Byte-wise order on PostgreSQL, as for unit paths, so prefix ranges are exact.
KeyString = String(64).with_variant(String(64, collation="C"), "postgresql")


class SearchToken(Base):
    """One searchable key of one record (``kind`` is ``place`` or ``contact``)."""

    __tablename__ = "search_tokens"
    __table_args__ = (
        Index("ix_search_tokens_kind_key_path", "kind", "key", "unit_path"),
        Index("ix_search_tokens_kind_record", "kind", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(KeyString)
    unit_path: Mapped[str] = mapped_column(PathString)
