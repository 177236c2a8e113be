"""The main navigation: the sections the signed-in post may open, in the order shown.

The permission table decides which sections a post sees. The list is worked out here, once a
request, rather than in the template: every page shows the navigation, and asking
``current_user.can`` a dozen times from Jinja cost about a tenth of a roster page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cplan.models.accounts import Role
from cplan.services.permissions import Permission as P
from cplan.services.permissions import has_permission


@dataclass(frozen=True)
class Section:
    endpoint: str
    label: object  # a lazy string, translated when shown
    permissions: tuple[P, ...]  # any one of them opens the section; none: every signed-in post
    current: tuple[str, ...]  # endpoints, or blueprint prefixes ("incidents."), marked current


SECTIONS = (
    Section("main.index", _l("Home"), (), ("main.index",)),
    Section(
        "geo.index",
        _l("Districts and stations"),
        (P.VIEW_GEOGRAPHY,),
        ("geo.index", "geo.unit", "geo.place"),
    ),
    Section("geo.search", _l("Find a place"), (P.VIEW_GEOGRAPHY,), ("geo.search",)),
    Section("search.index", _l("Search"), (P.VIEW_ROSTER,), ("search.index",)),
    Section("incidents.feed", _l("Incidents"), (P.VIEW_INCIDENTS,), ("incidents.",)),
    Section("coverage.index", _l("Coverage"), (P.VIEW_REPORTS,), ("coverage.",)),
    # Every post reads elections; the link is for those who plan for them (a station's
    # constable meets the election on its rosters instead).
    Section(
        "elections.index",
        _l("Elections"),
        (P.MANAGE_ELECTIONS, P.MANAGE_SENSITIVE_PLACES, P.VIEW_REPORTS),
        ("elections.",),
    ),
    Section("drives.index", _l("Verification drives"), (P.VIEW_DRIVES,), ("drives.",)),
    Section(
        "transfer.index",
        _l("Import / export"),
        (P.ENROL_CONTACT, P.MANAGE_ROSTER, P.EXPORT_ROSTER),
        ("transfer.",),
    ),
    Section("broadcasts.index", _l("Broadcasts"), (P.SEND_BROADCAST,), ("broadcasts.",)),
    Section("whatsapp.index", _l("WhatsApp groups"), (P.MANAGE_WHATSAPP_GROUPS,), ("whatsapp.",)),
    Section("admin.posts", _l("Posts and officers"), (P.MANAGE_ACCOUNTS,), ("admin.",)),
    Section("audit.index", _l("Audit trail"), (P.VIEW_AUDIT,), ("audit.",)),
    Section("breaches.index", _l("Data breaches"), (P.MANAGE_BREACHES,), ("breaches.",)),
    Section("enrolment.mine", _l("My submissions"), (P.ENROL_CONTACT,), ("enrolment.mine",)),
    Section(
        "enrolment.queue",
        _l("Approvals"),
        (P.APPROVE_ENROLMENT,),
        ("enrolment.queue", "enrolment.proposals", "enrolment.bulk_confirm"),
    ),
)


@dataclass(frozen=True)
class Link:
    endpoint: str
    url: str
    label: str
    current: bool


@cache
def sections_for(role: Role) -> tuple[Section, ...]:
    """The sections posts of ``role`` see (the permission table does not change at run time)."""
    return tuple(
        section
        for section in SECTIONS
        if not section.permissions
        or any(has_permission(role, wanted) for wanted in section.permissions)
    )


def is_current(section: Section, endpoint: str) -> bool:
    return any(
        endpoint.startswith(mark) if mark.endswith(".") else endpoint == mark
        for mark in section.current
    )


def main_links() -> list[Link]:
    """The navigation of this request: nothing before sign-in."""
    if not current_user or not current_user.is_authenticated:
        return []
    here = request.endpoint or ""
    return [
        Link(
            section.endpoint,
            url_for(section.endpoint),
            str(section.label),
            is_current(section, here),
        )
        for section in sections_for(current_user.post.role)
    ]
