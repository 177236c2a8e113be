"""Backups written with their checksum, and restored into a scratch database to be checked.

``backup`` writes PostgreSQL as ``pg_dump``'s custom format (compressed, restorable table by
table, with ``pg_restore``) and SQLite through its online backup API (a consistent copy while
the app keeps writing), to ``cplan-<IST date and time>.dump`` or ``.sqlite``
(``cplan-20261207-2350.dump``), readable by its owner only, with ``<file>.sha256`` beside it in
``sha256sum``'s format (``sha256sum -c`` checks it too).

``restored`` checks the checksum, then restores the file into a scratch database (PostgreSQL: a
new database on the configured server, dropped afterwards whatever happens; SQLite: a temporary
file) and yields its URL, for the caller to check. Nothing here touches the live database
beyond reading it for the backup.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from cplan.formats import file_name_stamp

POSTGRESQL_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
_SCRATCH_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class BackupError(Exception):
    """A backup cannot be written, or a file is not a good backup: the message says why."""


def backup(database_url: str, folder: Path, now: datetime) -> Path:
    """Write a backup of ``database_url`` into ``folder`` with its checksum; return its path."""
    url = make_url(database_url)
    folder.mkdir(parents=True, exist_ok=True)
    kind = url.get_backend_name()
    if kind not in ("postgresql", "sqlite"):
        raise BackupError(f"cannot back up a {kind} database")
    stamp = file_name_stamp(now, with_time=True)
    target = folder / f"cplan-{stamp}.{'dump' if kind == 'postgresql' else 'sqlite'}"
    if target.exists():
        raise BackupError(f"{target.name} exists already: one backup a minute at most")
    partial = target.with_name(target.name + ".partial")
    partial.touch(mode=0o600)  # personal data: the owner only, from the first byte
    try:
        if kind == "postgresql":
            _run(["pg_dump", "--format=custom", "--file", str(partial)], url)
        else:
            _sqlite_copy(Path(url.database or ""), partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    write_checksum(target)
    return target


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksum(path: Path) -> Path:
    """Write ``path``'s SHA-256 beside it, as ``sha256sum`` does."""
    checksum = checksum_path(path)
    checksum.write_text(f"{sha256_of(path)}  {path.name}\n")
    return checksum


def verify_checksum(path: Path) -> str:
    """The file's SHA-256 when it matches the checksum file beside it; BackupError otherwise."""
    checksum = checksum_path(path)
    if not path.is_file():
        raise BackupError(f"{path.name}: no such file")
    if not checksum.is_file():
        raise BackupError(f"{path.name}: no checksum file {checksum.name} beside it")
    expected = checksum.read_text().split()[:1]
    actual = sha256_of(path)
    if expected != [actual]:
        raise BackupError(f"{path.name}: checksum mismatch (the file changed after the backup)")
    return actual


def kind_of(path: Path) -> str:
    """``postgresql`` or ``sqlite``, from the file's first bytes."""
    with path.open("rb") as file:
        start = file.read(len(SQLITE_MAGIC))
    if start.startswith(POSTGRESQL_MAGIC):
        return "postgresql"
    if start == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path.name}: neither a pg_dump custom-format file nor a SQLite database")


@contextmanager
def restored(path: Path, server_url: str, scratch_name: str | None = None) -> Iterator[str]:
    """Check ``path``'s checksum, restore it into a scratch database and yield that database's
    URL; drop the scratch database afterwards. A PostgreSQL dump goes to a new database on the
    server of ``server_url`` (named ``scratch_name``, default ``cplan_restore_check_<random>``)."""
    verify_checksum(path)
    kind = kind_of(path)
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="cplan-restore-check-"))
        try:
            copy_path = folder / "restored.sqlite"
            _sqlite_copy(path, copy_path)
            yield f"sqlite:///{copy_path}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server = make_url(server_url)
    if server.get_backend_name() != "postgresql":
        raise BackupError(
            f"{path.name} is a PostgreSQL dump: restoring it needs CPLAN_DATABASE_URL to name a "
            "PostgreSQL server (the scratch database is created there)"
        )
    name = scratch_name or f"cplan_restore_check_{secrets.token_hex(4)}"
    if not _SCRATCH_NAME.fullmatch(name):
        raise BackupError(f"{name!r} is not a plain database name (a-z, 0-9 and _)")
    maintenance = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            scratch = server.set(database=name)
            _run(
                [
                    "pg_restore",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    str(path),
                ],
                scratch,
            )
            yield scratch.render_as_string(hide_password=False)
        finally:
            with maintenance.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        maintenance.dispose()


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Copy a SQLite database through the online backup API (consistent while others write)."""
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target_path)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite backup of {source_path.name} failed: {error}") from None
    finally:
        source.close()


def _run(command: list[str], url: URL) -> None:
    """Run a PostgreSQL client program on ``url``'s database (the password through the
    environment, never on the command line, where any local user could read it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string()
    try:
        result = subprocess.run(
            [*command, "--dbname", dbname], env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{command[0]} failed: {last}")
