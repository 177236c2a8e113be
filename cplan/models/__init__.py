"""All models, imported here so Alembic and ``db.create_all`` see every table."""
from cplan.models.accounts import (
    CugThrottle,
    Officer,
    OtpChallenge,
    Post,
    PostAssignment,
    Role,
    SignInSession,
)
from cplan.models.audit import AuditEvent, AuditOutcome
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import (
    Place,
    PlaceKind,
    PlaceStationSpell,
    Subdistrict,
    Unit,
    UnitKind,
)
from cplan.models.roster import (
    Contact,
    ContactCategory,
    ContactProposal,
    ContactStatus,
    Gender,
    InactiveReason,
    ProposalKind,
    ProposalStatus,
    Script,
)
from cplan.models.search import SearchToken

__all__ = [
    "AuditEvent",
    "AuditOutcome",
    "Contact",
    "ContactCategory",
    "ContactProposal",
    "ContactStatus",
    "CugThrottle",
    "Gender",
    "InactiveReason",
    "ProposalKind",
    "ProposalStatus",
    "Script",
    "SearchToken",
    "Officer",
    "OtpChallenge",
    "Post",
    "PostAssignment",
    "Role",
    "SignInSession",
    "Base",
    "Place",
    "PlaceKind",
    "PlaceStationSpell",
    "Subdistrict",
    "UTCDateTime",
    "Unit",
    "UnitKind",
    "utcnow",
]
