"""Domain errors: what services raise when a rule refuses, whoever called them.

One module of the web layer (``cplan.web.errors``) turns each into an answer, for pages and for JSON
alike: ``NotInScope`` is 404 (a record outside the principal's subtree looks exactly like one that
does not exist), ``NotAllowed`` (a ``WorkflowError``) 403, ``AlreadyDecided`` and
``InvalidTransition`` 409, any other ``DomainError`` 400. A view that wants a refusal shown on its
own page (beside a field, in a flash) catches it and lets the same module word it
(``refusal_message``).

``str(error)`` is the message for logs and tests; what the reader is told is ``refusal`` when
the error sets one (a translatable sentence), else the message itself, which services then
write as a translatable sentence too. An ``AlreadyDecided`` that knows who decided first
(``decided``) is told with ``decided_refusal``, the officer and time filled in by the web layer
in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from cplan.models.accounts import Officer


class DomainError(Exception):
    """A business rule refused the change; nothing was changed."""

    # What the reader is told (a lazy translated sentence); None: the message itself.
    refusal = None

    def __init__(self, message="", *, refusal=None):
        super().__init__(message)
        if refusal is not None:
            self.refusal = refusal


class NotInScope(DomainError):
    """The record lies outside the acting post's jurisdiction, or does not exist (404)."""

    refusal = _l("Not found.")


class WorkflowError(DomainError):
    """A workflow rule refused the action; the message says why (400)."""


class NotAllowed(WorkflowError):
    """A workflow rule refused the action because of who asks: the post's role lacks the
    permission, or the maker-checker rule forbids it (whoever made a record cannot decide it)
    (403)."""


class InvalidTransition(DomainError):
    """The workflow does not allow this change from the record's current state (409)."""

    refusal = _l("This is no longer waiting for a decision.")


@dataclass
class Decided:
    """Who decided a record first, and when (for the "already decided" answer)."""

    officer_name: str
    decided_at: datetime | None
    officer: Officer | None = None  # for the name in the reader's language


class AlreadyDecided(DomainError):
    """Someone else decided this record first (409); ``decided`` says who and when, if known."""

    refusal = _l("Someone else decided this first.")
    decided_refusal = _l("Already decided by %(officer)s at %(time)s.")

    def __init__(self, message="", *, decided: Decided | None = None, refusal=None):
        super().__init__(message, refusal=refusal)
        self.decided = decided
