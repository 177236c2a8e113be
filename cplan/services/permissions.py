"""The permission table: the single source of truth for decorators, navigation and tests.

Roles decide *what* a post may do; the post's unit decides *where* (its whole subtree, applied in
queries by ``cplan.services.scope``).
"""

import enum

from cplan.models.accounts import Role


class Permission(enum.StrEnum):
    VIEW_GEOGRAPHY = "view_geography"
    VIEW_ROSTER = "view_roster"
    ENROL_CONTACT = "enrol_contact"
    PROPOSE_CORRECTION = "propose_correction"
    APPROVE_ENROLMENT = "approve_enrolment"
    MANAGE_ROSTER = "manage_roster"
    EXPORT_ROSTER = "export_roster"
    VIEW_INCIDENTS = "view_incidents"
    MANAGE_INCIDENTS = "manage_incidents"
    REVIEW_INCIDENTS = "review_incidents"
    VIEW_REPORTS = "view_reports"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_AUDIT = "view_audit"
    MANAGE_GEOGRAPHY = "manage_geography"
    # Correct a place's Hindi or English name (the place page, or a file per district).
    CORRECT_PLACE_NAMES = "correct_place_names"
    # Confidential contacts and tips: from the ASP upwards only.
    VIEW_CONFIDENTIAL = "view_confidential"
    # Record personal-data breaches and their notifications (SP office, state administrator).
    MANAGE_BREACHES = "manage_breaches"
    # Elections: every post reads them; the state control room creates them and their phases.
    VIEW_ELECTIONS = "view_elections"
    MANAGE_ELECTIONS = "manage_elections"
    # Grade a place sensitive for an election (the SP office, for its district).
    MANAGE_SENSITIVE_PLACES = "manage_sensitive_places"
    # Mark a contact as a candidate, agent... (station staff and above); unmarking: the ASP.
    MARK_CONTACTS = "mark_contacts"
    UNMARK_CONTACTS = "unmark_contacts"
    # Register webhook subscriptions to the incident feed (the control rooms' own systems).
    MANAGE_WEBHOOKS = "manage_webhooks"
    # Any signed-in post: own profile, authenticator app, sign out.
    SIGNED_IN = "signed_in"
    # Broadcast SMS: compose (and see the broadcasts of the post's scope), approve one to more
    # than the threshold of recipients, mark one urgent (sent during quiet hours), and record
    # a citizen's wish to receive none.
    SEND_BROADCAST = "send_broadcast"
    APPROVE_BROADCAST = "approve_broadcast"
    URGENT_BROADCAST = "urgent_broadcast"
    RECORD_OPT_OUT = "record_opt_out"
    # Re-verification drives: follow their progress; open and close them (SP office, ASP, the
    # state control room); record outcomes and coordination meetings (station staff).
    VIEW_DRIVES = "view_drives"
    OPEN_DRIVES = "open_drives"
    VERIFY_CONTACTS = "verify_contacts"
    # Keep a station's WhatsApp groups and reconcile their members with the roster (station
    # staff and the district's ASP and SP office); every post that reads rosters sees them.
    MANAGE_WHATSAPP_GROUPS = "manage_whatsapp_groups"


P = Permission
_STATION_BASE = {
    P.SIGNED_IN,
    P.VIEW_ELECTIONS,
    P.MARK_CONTACTS,
    P.VIEW_GEOGRAPHY,
    P.VIEW_ROSTER,
    P.ENROL_CONTACT,
    P.PROPOSE_CORRECTION,
    P.VIEW_INCIDENTS,
    P.MANAGE_INCIDENTS,
    P.VIEW_DRIVES,
    P.VERIFY_CONTACTS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CONSTABLE: frozenset(_STATION_BASE | {P.RECORD_OPT_OUT, P.MANAGE_WHATSAPP_GROUPS}),
    Role.STATION_OFFICER: frozenset(
        _STATION_BASE
        | {
            P.EXPORT_ROSTER,
            P.VIEW_REPORTS,
            P.SEND_BROADCAST,
            P.RECORD_OPT_OUT,
            P.MANAGE_WHATSAPP_GROUPS,
        }
    ),
    Role.CIRCLE_OFFICER: frozenset(
        {
            P.SIGNED_IN,
            P.VIEW_ELECTIONS,
            P.MARK_CONTACTS,
            P.VIEW_GEOGRAPHY,
            P.VIEW_ROSTER,
            P.VIEW_INCIDENTS,
            P.MANAGE_INCIDENTS,
            P.VIEW_REPORTS,
            P.VIEW_DRIVES,
        }
    ),
    Role.ASP: frozenset(
        {
            P.SIGNED_IN,
            P.VIEW_ELECTIONS,
            P.MARK_CONTACTS,
            P.UNMARK_CONTACTS,
            P.VIEW_GEOGRAPHY,
            P.VIEW_ROSTER,
            P.APPROVE_ENROLMENT,
            P.MANAGE_ROSTER,
            P.EXPORT_ROSTER,
            P.VIEW_INCIDENTS,
            P.MANAGE_INCIDENTS,
            P.VIEW_REPORTS,
            P.VIEW_CONFIDENTIAL,
            P.CORRECT_PLACE_NAMES,
            P.SEND_BROADCAST,
            P.APPROVE_BROADCAST,
            P.RECORD_OPT_OUT,
            P.VIEW_DRIVES,
            P.OPEN_DRIVES,
            P.MANAGE_WHATSAPP_GROUPS,
        }
    ),
    Role.SP_OFFICE: frozenset(
        {
            P.SIGNED_IN,
            P.VIEW_ELECTIONS,
            P.MARK_CONTACTS,
            P.UNMARK_CONTACTS,
            P.MANAGE_SENSITIVE_PLACES,
            P.VIEW_GEOGRAPHY,
            P.VIEW_ROSTER,
            P.APPROVE_ENROLMENT,
            P.MANAGE_ROSTER,
            P.EXPORT_ROSTER,
            P.VIEW_INCIDENTS,
            P.MANAGE_INCIDENTS,
            P.REVIEW_INCIDENTS,
            P.VIEW_REPORTS,
            P.MANAGE_ACCOUNTS,
            P.VIEW_AUDIT,
            P.VIEW_CONFIDENTIAL,
            P.CORRECT_PLACE_NAMES,
            P.SEND_BROADCAST,
            P.APPROVE_BROADCAST,
            P.URGENT_BROADCAST,
            P.RECORD_OPT_OUT,
            P.MANAGE_BREACHES,
            P.VIEW_DRIVES,
            P.OPEN_DRIVES,
            P.MANAGE_WHATSAPP_GROUPS,
        }
    ),
    # Control rooms read rosters to verify rumours and review incidents; they never approve.
    Role.CONTROL_ROOM: frozenset(
        {
            P.SIGNED_IN,
            P.VIEW_ELECTIONS,
            P.MANAGE_ELECTIONS,
            P.VIEW_GEOGRAPHY,
            P.VIEW_ROSTER,
            P.VIEW_INCIDENTS,
            P.MANAGE_INCIDENTS,
            P.REVIEW_INCIDENTS,
            P.VIEW_REPORTS,
            P.VIEW_CONFIDENTIAL,
            P.VIEW_DRIVES,
            P.OPEN_DRIVES,
            P.MANAGE_WEBHOOKS,
        }
    ),
    Role.STATE_ADMIN: frozenset(
        {
            P.SIGNED_IN,
            P.VIEW_ELECTIONS,
            P.VIEW_GEOGRAPHY,
            P.VIEW_REPORTS,
            P.MANAGE_ACCOUNTS,
            P.VIEW_AUDIT,
            P.MANAGE_GEOGRAPHY,
            P.CORRECT_PLACE_NAMES,
            P.MANAGE_BREACHES,
        }
    ),
}

# What a post left signed in on an unattended screen could do the most harm with: a session
# of a role holding any of these ends after a shorter idle time (``cplan.services.sessions``).
PRIVILEGED_PERMISSIONS = frozenset(
    {P.APPROVE_ENROLMENT, P.EXPORT_ROSTER, P.MANAGE_ACCOUNTS, P.MANAGE_GEOGRAPHY}
)

# Roles whose posts sit at a police station and see full numbers of their own places.
STATION_ROLES = frozenset({Role.CONSTABLE, Role.STATION_OFFICER})
# Roles that must be attached to a unit of this kind (checked when a post is created).
ROLE_UNIT_KINDS = {
    Role.CONSTABLE: {"station"},
    Role.STATION_OFFICER: {"station"},
    Role.CIRCLE_OFFICER: {"circle"},
    Role.ASP: {"district"},
    Role.SP_OFFICE: {"district"},
    Role.CONTROL_ROOM: {"state", "zone", "range"},
    Role.STATE_ADMIN: {"state"},
}


def has_permission(role: Role, permission: Permission) -> bool:
    """True when posts of ``role`` may do ``permission``."""
    return permission in ROLE_PERMISSIONS[role]


def is_privileged(role: Role) -> bool:
    """True when posts of ``role`` can approve, export full numbers or administer."""
    return bool(ROLE_PERMISSIONS.get(role, frozenset()) & PRIVILEGED_PERMISSIONS)
