"""A read cut off by a lost database connection is run again, once; a write never is.

When PostgreSQL drops a connection in the middle of a request (a backend killed, a failover, a
restart), the request fails, although a second attempt on a fresh connection would very
likely succeed: the pool throws away the dead connection and opens a new one. For a read that
second attempt is what the officer would get by pressing reload, so ``RetryReads`` does it for
them; for a write it would risk doing the work twice, so a write answers 503 and says whether
anything may have been saved.

What counts as a read: a GET or HEAD request that has not sent the database a COMMIT of a
transaction that wrote. A transaction cut off before its COMMIT is rolled back by the server,
so everything a read wrote in it (its access record, written last) is gone and the retry writes
it once. Once a COMMIT of written rows has been sent, the request is never run again: it may
have been recorded, and a second run would record it twice. The one write committed before the
view (the sign-in session's activity stamp, ``cplan.web.lifecycle.commit_before_the_page``) does
not count: a second run finds it done or sets the same time again.

What counts as a lost connection: an error SQLAlchemy recognises as a disconnect
(``connection_invalidated``), which also makes the pool discard its other connections, so the
retry opens a fresh one. A database that refuses new connections, a full pool or a statement
timeout is not retried: the second attempt would fail the same way after the same wait.

The retry runs the whole request again in a new request context (WSGI level): hooks, sign-in,
view and access record, exactly like a reload. The first attempt's answer is thrown away with
no request-log line and no count (``discarded``); the second one's request-log line says
``"retried": true`` and keeps the first one's request id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

SAFE_METHODS = frozenset({"GET", "HEAD"})
_STATE = "cplan.faults"
_RETRY = "cplan.faults.retry"
RETRIED = "cplan.faults.retried"
REQUEST_ID = "cplan.request_id"

# Statements that change nothing that outlives their transaction.
_READ_KEYWORDS = frozenset(
    {"SELECT", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "SHOW", "SET", "PRAGMA", "EXPLAIN"}
)
_FIRST_WORD = re.compile(r"\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)", re.S)
_WRITING_CTE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.I)


@dataclass
class Attempt:
    """What one attempt at a request has done to the database so far."""

    transaction_wrote: bool = False  # the open transaction has sent a write
    commit_in_flight: bool = False  # a COMMIT of written rows was sent, its outcome not yet seen
    saved: bool = False  # a COMMIT of written rows succeeded (a later transaction began)

    @property
    def committed_writes(self) -> bool:
        return self.commit_in_flight or self.saved


def is_write(statement: str) -> bool:
    """True unless ``statement`` only reads (or only begins or ends a transaction)."""
    match = _FIRST_WORD.match(statement)
    keyword = match.group(1).upper() if match else ""
    if keyword == "WITH":
        return bool(_WRITING_CTE.search(statement))
    return keyword not in _READ_KEYWORDS


def _attempt() -> Attempt | None:
    if not has_request_context():
        return None
    return request.environ.get(_STATE)


@event.listens_for(Engine, "begin")
def _transaction_begins(connection):
    attempt = _attempt()
    if attempt is not None:
        attempt.transaction_wrote = False
        if attempt.commit_in_flight:  # a new transaction: the last COMMIT went through
            attempt.commit_in_flight, attempt.saved = False, True


@event.listens_for(Engine, "before_cursor_execute")
def _statement_sent(connection, cursor, statement, parameters, context, executemany):
    attempt = _attempt()
    if attempt is not None and not attempt.transaction_wrote and is_write(statement):
        attempt.transaction_wrote = True


@event.listens_for(Engine, "commit")
def _commit_sent(connection):
    attempt = _attempt()
    if attempt is not None and attempt.transaction_wrote:
        attempt.commit_in_flight = True


def sign_in_step_committed() -> None:
    """The writes committed so far (the sign-in session's activity stamp) are ones a second
    run repeats harmlessly: they do not make this request a write."""
    attempt = _attempt()
    if attempt is not None:
        attempt.commit_in_flight = attempt.saved = False


def may_have_saved(error: BaseException) -> bool:
    """True when what this request wrote (after the sign-in step) may be saved although it
    failed with ``error``: a COMMIT of its rows went through, or was cut off by a lost
    connection, so that nobody knows whether the server committed it. A COMMIT the database
    answered with an error (SQLite's full disk) saved nothing."""
    attempt = _attempt()
    if attempt is None:
        return False
    return attempt.saved or (attempt.commit_in_flight and lost_connection(error))


def lost_connection(error: BaseException) -> bool:
    """True for an error SQLAlchemy took for a dropped connection (and invalidated it)."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def retry_if_read(error: BaseException) -> bool:
    """Ask ``RetryReads`` to run this request again when it is a read, not yet retried, cut off
    by a lost connection; True when it will be (this attempt's answer is then thrown away)."""
    attempt = _attempt()
    if (
        attempt is None
        or request.method not in SAFE_METHODS
        or request.environ.get(RETRIED)
        or attempt.committed_writes
        or not lost_connection(error)
    ):
        return False
    request.environ[_RETRY] = True
    return True


def discarded() -> bool:
    """True in the attempt whose answer ``RetryReads`` throws away (not logged, not counted)."""
    return has_request_context() and bool(request.environ.get(_RETRY))


def retried() -> bool:
    """True in the second attempt at a read."""
    return has_request_context() and bool(request.environ.get(RETRIED))


class RetryReads:
    """WSGI middleware: run a read again, once, when ``retry_if_read`` asked for it.

    Each attempt gets its own copy of the WSGI environment, so nothing the first one set
    (proxy headers applied, the answer's flags) leaks into the second, except the request id.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in SAFE_METHODS:
            environ[_STATE] = Attempt()
            return self.wsgi_app(environ, start_response)
        first = dict(environ, **{_STATE: Attempt()})
        held = []

        def hold(status, headers, exc_info=None):
            held.append((status, headers, exc_info))
            return _no_write

        body = self.wsgi_app(first, hold)
        if not first.get(_RETRY):
            start_response(*held[-1])
            return body
        if hasattr(body, "close"):
            body.close()
        second = dict(environ, **{_STATE: Attempt(), RETRIED: True})
        if first.get(REQUEST_ID):
            second[REQUEST_ID] = first[REQUEST_ID]
        return self.wsgi_app(second, start_response)


def _no_write(data):
    raise RuntimeError("cplan answers through the response iterable, not write()")


def register(app) -> None:
    """Wrap the app (outermost, around the proxy fix) so that a read can be run again."""
    app.wsgi_app = RetryReads(app.wsgi_app)
