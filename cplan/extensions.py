"""Flask extensions, created unbound here and bound to the app in ``create_app``.

Code imports ``from cplan.extensions import db``, never the app object. Nothing here reads a
request: how a request's first transaction begins is asked of the web layer through
``begin_as_reader_when`` (``cplan.web.lifecycle``).
"""

import sqlite3
from collections.abc import Callable

from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cplan.config import REPORTS_BIND
from cplan.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """Give every SQLite connection WAL and enforced foreign keys (its busy timeout comes from
    ``SQLITE_BUSY_TIMEOUT_MS`` through the driver's ``timeout``: ``cplan.config``)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We issue BEGIN ourselves (below); the driver's implicit transactions would defer it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# A GET or HEAD request reads first and writes, if at all, only an access record at the end.
# Its first transaction on SQLite is therefore deferred (a WAL reader: many at once), and
# ``ensure_write_transaction`` ends it before the first write, which then begins IMMEDIATE.
# Whether the transaction beginning now is such a first read is the web layer's to say.
_DEFERRED = "cplan_sqlite_deferred"
# Execution option of a connection whose transactions always write (the audit sealer): IMMEDIATE
# on SQLite whatever the request it runs in.
WRITE_FIRST = "cplan_write_first"
_begins_as_reader: Callable[[], bool] = lambda: False  # noqa: E731 (commands and jobs: never)


def begin_as_reader_when(probe: Callable[[], bool]) -> None:
    """Let ``probe()`` decide, as each SQLite transaction begins, whether it may begin as a
    plain reader (``cplan.web.lifecycle`` answers: a safe request's first transaction)."""
    global _begins_as_reader
    _begins_as_reader = probe


@event.listens_for(Engine, "begin")
def _begin_immediate_on_sqlite(connection):
    """Start SQLite transactions with BEGIN IMMEDIATE, except a safe request's first (reads).

    A deferred SQLite transaction that has read and then tries to write fails at once
    ("database is locked") when another writer committed in between; IMMEDIATE takes the
    write lock up front, so concurrent writers queue (up to the busy timeout) instead of
    failing, and compare-and-set updates decide exactly once. But IMMEDIATE also makes every
    page wait for every other page: a GET's first transaction only reads, so it begins
    deferred, and its writes go through ``ensure_write_transaction``. PostgreSQL needs none of
    this.
    """
    if connection.dialect.name != "sqlite":
        return
    if connection.get_execution_options().get("cplan_reports"):
        connection.exec_driver_sql("BEGIN")  # the reports database is only ever read
        return
    deferred = not connection.get_execution_options().get(WRITE_FIRST) and bool(_begins_as_reader())
    connection.info[_DEFERRED] = deferred
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def ensure_write_transaction() -> None:
    """Call before writing: on SQLite, end a safe request's reading transaction (nothing was
    written in it), so that the write begins a transaction of its own, IMMEDIATE."""
    session = db.session()
    if not session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return
    if session.connection().info.get(_DEFERRED):
        # Nothing was written, so what was read stays valid: keep it loaded (no re-reads).
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True


def reports_bind() -> dict:
    """``bind_arguments`` for a report's reads: the reports replica when one is configured
    (``CPLAN_REPORTS_DATABASE_URL``), else the primary. Use for reads only, in report services:
    what they show may lag the primary by the replica's delay."""
    engine = db.engines.get(REPORTS_BIND)
    return {"bind": engine} if engine is not None else {}
