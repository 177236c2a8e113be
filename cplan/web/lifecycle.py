"""What only the web layer knows about a request, handed to the layers below as hooks.

**A safe request's first transaction only reads (SQLite).** SQLite transactions begin IMMEDIATE
(``cplan.extensions``), which queues writers instead of failing them but also makes every page wait
for every other. A safe request reads first and writes, if at all, only an access record at the end,
so its first transaction begins deferred (a WAL reader: many at once), and
``ensure_write_transaction`` ends it before that write. Which transaction is a safe request's first
is known only here, in the web layer.

**Work after the response.** ``cplan.services.sms`` hands a gateway delivery to a thread once
the page has gone (a sign-in code's timing must not tell which numbers are registered); it
asks ``run_after_response`` through ``app.extensions``, and delivers at once when there is no
request (a command, a job).
"""

from collections.abc import Callable

from flask import after_this_request, g, has_request_context, request

from cplan.extensions import begin_as_reader_when, db
from cplan.services import sms
from cplan.web import faults

_READ_FIRST = "_cplan_sqlite_read_first"


def reads_first_in_safe_requests() -> None:
    """``before_request``: let a GET or HEAD request's first transaction be a plain reader."""
    if request.method in ("GET", "HEAD"):
        setattr(g, _READ_FIRST, True)


def _first_read_of_a_safe_request() -> bool:
    return has_request_context() and g.pop(_READ_FIRST, False)


def commit_before_the_page() -> None:
    """Commit what a request hook wrote (the sign-in session's activity stamp) before the view
    runs, keeping what was loaded, so the page neither holds the written row (PostgreSQL) nor
    SQLite's write lock while it works; a safe request's next transaction reads again."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    if has_request_context():
        faults.sign_in_step_committed()
        reads_first_in_safe_requests()


def run_after_response(task: Callable[[], None]) -> bool:
    """Run ``task`` once this request's response is ready; False (nothing done) outside a
    request."""
    if not has_request_context():
        return False

    @after_this_request
    def start(response):
        task()
        return response

    return True


def register(app) -> None:
    """Before the sign-in check's first query: mark a safe request's first transaction; and
    let services put work off until after the response."""
    begin_as_reader_when(_first_read_of_a_safe_request)
    app.before_request(reads_first_in_safe_requests)
    app.extensions[sms.AFTER_RESPONSE] = run_after_response
