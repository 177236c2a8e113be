"""Flask extensions, created unbound here and bound to the app in ``create_app``.

Code imports ``from cplan.extensions import db``, never the app object.
"""
import sqlite3

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cplan.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """Give every SQLite connection WAL, enforced foreign keys and a busy timeout."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We issue BEGIN ourselves (below); the driver's implicit transactions would defer it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate_on_sqlite(connection):
    """Start SQLite transactions with BEGIN IMMEDIATE.

    A deferred SQLite transaction that has read and then tries to write fails at once
    ("database is locked") when another writer committed in between; IMMEDIATE takes the
    write lock up front, so concurrent writers queue (up to the busy timeout) instead of
    failing, and compare-and-set updates decide exactly once. PostgreSQL needs none of this.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
