"""Declarative base and helpers shared by every model."""

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (used as a callable column default)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, PostgreSQL's ``timestamptz`` does; this type makes both
    return aware UTC datetimes so comparisons never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use cplan.models.base.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class SealedString(TypeDecorator):
    """A secret kept encrypted at rest: an authenticator app's shared secret, say.

    Stored as ``sealed:v1:`` and a Fernet token (AES-128-CBC with HMAC-SHA256) under a key
    derived from the app's ``SECRET_KEY``, so a copy of the database (a backup, a replica, an
    export) does not carry secrets that could mint sign-in codes. A value that cannot be opened
    (the secret key was changed) reads as None: the officer sets the authenticator up again.
    """

    impl = String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unseal(value)


SEALED_PREFIX = "sealed:v1:"
logger = logging.getLogger(__name__)
# Where the sealing key comes from: a callable returning the app's ``SECRET_KEY``, given by the
# app factory (``use_secret_key``), so that models never read the app's configuration.
_secret_key_source: Callable[[], str] | None = None


def use_secret_key(source: Callable[[], str]) -> None:
    """Seal and open with the key derived from ``source()`` (the app's ``SECRET_KEY``)."""
    global _secret_key_source
    _secret_key_source = source


def _fernet():
    if _secret_key_source is None:
        raise RuntimeError("no secret key to seal with: the app factory calls use_secret_key")
    return _fernet_for(_secret_key_source())


@lru_cache(maxsize=4)
def _fernet_for(secret_key: str):
    from cryptography.fernet import Fernet

    derived = hmac.new(secret_key.encode(), b"cplan sealed columns v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(value: str) -> str:
    return SEALED_PREFIX + _fernet().encrypt(value.encode()).decode("ascii")


def unseal(stored: str) -> str | None:
    from cryptography.fernet import InvalidToken

    if not stored.startswith(SEALED_PREFIX):
        return None  # not sealed by this app: never taken as a secret
    try:
        return _fernet().decrypt(stored[len(SEALED_PREFIX) :].encode("ascii")).decode()
    except InvalidToken:
        logger.warning("a sealed value could not be opened: was CPLAN_SECRET_KEY changed?")
        return None


# Named constraints make Alembic migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of all cplan models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BilingualName:
    """Mixin for records named in English (``name_en``) and Hindi (``name_hi``).

    ``name_generated`` says one spelling was transliterated from the other. Which one: the Hindi
    for places, sub-districts, districts and circles (the official lists are in English); a
    police station's list may give only Hindi, so either of its spellings may be the made one.
    """

    # The scripts ("hi", "en") whose spelling may have been made by the computer.
    GENERATED_SCRIPTS: tuple[str, ...] = ("hi",)

    def display_name(self, locale: str = "en") -> str:
        """The name in the reader's language; English when there is no Hindi name."""
        if locale == "hi" and self.name_hi:
            return self.name_hi
        return self.name_en

    def spelling_generated(self, lang: str) -> bool:
        """True when the spelling in ``lang`` ("hi" or "en") was made by transliteration and
        nobody has checked it yet."""
        return bool(getattr(self, "name_generated", False)) and lang in self.generated_scripts()

    def generated_scripts(self) -> tuple[str, ...]:
        return self.GENERATED_SCRIPTS
