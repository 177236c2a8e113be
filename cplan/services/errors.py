"""Domain errors raised by services and turned into messages or HTTP statuses by views."""


class DomainError(Exception):
    """A business rule refused the change; the message is safe to show."""


class NotInScope(DomainError):
    """The record lies outside the acting post's jurisdiction (shown as 404)."""


class InvalidTransition(DomainError):
    """The workflow does not allow this change from the record's current state."""


class AlreadyDecided(DomainError):
    """Someone else decided this record first."""
