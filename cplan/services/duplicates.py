"""Duplicate numbers: mobile numbers on more than one contact within the reader's scope.

A number counts whether it is a contact's mobile or its alternate number, for contacts that
are pending or active (rejected and inactive ones no longer stand in the roster). The
grouping is one SQL query (``UNION ALL`` of both columns, ``GROUP BY`` number, ``HAVING``
more than one contact), paginated; the contacts of a page's numbers are read in one more
query. Contacts are read only through ``roster.visible_condition``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import joinedload

from cplan.extensions import db
from cplan.models.roster import Contact, ContactStatus
from cplan.services.principal import Principal
from cplan.services.roster import visible_condition

PER_PAGE = 50
MAX_PER_PAGE = 100
STANDING = (ContactStatus.PENDING, ContactStatus.ACTIVE)


@dataclass
class DuplicateNumber:
    """One number (E.164) and the visible contacts carrying it, oldest first."""

    number: str
    contacts: list[Contact]


def _numbers(principal: Principal):
    """Subquery: (number, contact_id) for every standing visible contact's two numbers."""

    def column(number):
        return select(number.label("number"), Contact.id.label("contact_id")).where(
            number.is_not(None), Contact.status.in_(STANDING), visible_condition(principal)
        )

    return union_all(column(Contact.mobile), column(Contact.mobile_alt)).subquery("numbers")


def duplicates_statement(principal: Principal):
    """(number, contacts) for numbers on more than one contact, most contacts first."""
    numbers = _numbers(principal)
    contacts = func.count(func.distinct(numbers.c.contact_id))
    return (
        select(numbers.c.number, contacts.label("contacts"))
        .group_by(numbers.c.number)
        .having(contacts > 1)
        .order_by(contacts.desc(), numbers.c.number)
    )


class DuplicatePage(Pagination):
    """A page of duplicate numbers with their contacts (two queries and a count)."""

    def __init__(self, principal: Principal, page: int, per_page: int):
        self._principal = principal
        self._statement = duplicates_statement(principal)
        super().__init__(page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)

    def _query_items(self) -> list[DuplicateNumber]:
        numbers = list(
            db.session.scalars(
                self._statement.offset((self.page - 1) * self.per_page).limit(self.per_page)
            )
        )
        if not numbers:
            return []
        by_number: dict[str, list[Contact]] = {number: [] for number in numbers}
        contacts = db.session.scalars(
            select(Contact)
            .options(joinedload(Contact.place))
            .where(
                or_(Contact.mobile.in_(numbers), Contact.mobile_alt.in_(numbers)),
                Contact.status.in_(STANDING),
                visible_condition(self._principal),
            )
            .order_by(Contact.enrolled_at, Contact.id)
        )
        for contact in contacts:
            for number in {contact.mobile, contact.mobile_alt}:
                if number in by_number:
                    by_number[number].append(contact)
        return [DuplicateNumber(number, by_number[number]) for number in numbers]

    def _query_count(self) -> int:
        return db.session.scalar(
            select(func.count()).select_from(self._statement.order_by(None).subquery())
        )


def duplicate_numbers(
    principal: Principal, page: int = 1, per_page: int = PER_PAGE
) -> DuplicatePage:
    """One page of the numbers that appear on more than one visible, standing contact."""
    return DuplicatePage(principal, page=max(1, page), per_page=max(1, min(per_page, MAX_PER_PAGE)))
