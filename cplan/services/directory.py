"""Reading posts and officers within an administrator's subtree: loaders, lists and choices.

The other half of ``cplan.services.accounts`` (which changes them). A post is in scope when its
unit lies in the principal's subtree, an officer when the unit that manages them does; a record
outside it raises ``NotInScope`` exactly like one that does not exist (the pages answer 404).
"""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from cplan.extensions import db
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.geo import Unit, UnitKind
from cplan.services.errors import NotInScope
from cplan.services.permissions import ROLE_UNIT_KINDS
from cplan.services.principal import Principal
from cplan.services.scope import get_in_scope
from cplan.services.transliteration import normalise_query

# Kinds of unit that manage officers: a district's SP office, or the state administrator.
MANAGING_KINDS = (UnitKind.STATE, UnitKind.DISTRICT)


# ---- loading one record ----------------------------------------------------------------------


def in_scope(principal: Principal, model) -> Select:
    """Posts (by their unit) or officers (by their managing unit) of the principal's subtree,
    each with its unit loaded: the one jurisdiction rule of these pages."""
    return (
        select(model)
        .join(model.unit)
        .options(contains_eager(model.unit))
        .where(principal.unit.covers(Unit.path))
    )


def _get(principal: Principal, model, record_id: int):
    record = db.session.scalar(in_scope(principal, model).where(model.id == record_id))
    if record is None:
        raise NotInScope()
    return record


def get_post(principal: Principal, post_id: int) -> Post:
    """A post of the principal's subtree (its unit loaded with it), or ``NotInScope``."""
    return _get(principal, Post, post_id)


def get_officer(principal: Principal, officer_id: int) -> Officer:
    """An officer managed within the principal's subtree, or ``NotInScope``."""
    return _get(principal, Officer, officer_id)


def get_unit(principal: Principal, unit_id: int) -> Unit:
    """A unit of the principal's subtree, or ``NotInScope``."""
    return get_in_scope(principal, Unit, unit_id)


def officer_by_pno(principal: Principal, pno: str) -> Officer | None:
    """The officer with this PNO among those managed within the principal's subtree."""
    return db.session.scalar(
        in_scope(principal, Officer).where(Officer.pno == (pno or "").strip().upper())
    )


# ---- lists -----------------------------------------------------------------------------------


def _contains(column, text: str):
    return func.lower(column).contains(text.lower(), autoescape=True)


def find_posts(
    principal: Principal,
    *,
    within: Unit | None = None,
    role: str = "",
    active: str = "",
    text: str = "",
) -> Select:
    """The posts of the principal's subtree (or of ``within``), by role, by "yes"/"no" active,
    and by text in the unit's name or the post's title (either script), by unit then title."""
    statement = in_scope(principal, Post)
    if within is not None:
        statement = statement.where(within.covers(Unit.path))
    if role:
        statement = statement.where(Post.role == Role(role))
    if active:
        statement = statement.where(Post.active.is_(active == "yes"))
    text = (text or "").strip()
    if text:
        matches = [
            _contains(Unit.name_en, text),
            Unit.name_hi.contains(text, autoescape=True),
            _contains(Post.title_en, text),
            Post.title_hi.contains(text, autoescape=True),
        ]
        key = normalise_query(text)  # the script-neutral key: बड़ौत finds Baraut and back
        if key:
            matches.append(Unit.search_key.contains(key, autoescape=True))
        statement = statement.where(or_(*matches))
    return statement.order_by(Unit.path, Post.title_en, Post.id)


def find_officers(principal: Principal, text: str = "") -> Select:
    """The officers managed within the principal's subtree, found by PNO or name, by name."""
    statement = in_scope(principal, Officer)
    text = (text or "").strip()
    if text:
        statement = statement.where(
            or_(
                Officer.pno == text.upper(),
                _contains(Officer.pno, text),
                _contains(Officer.name, text),
                _contains(Officer.name_hi, text),
            )
        )
    return statement.order_by(Officer.name, Officer.pno)


def holder_counts(post_ids: list[int]) -> dict[int, int]:
    """How many officers hold each post now (one grouped query for a page)."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(PostAssignment.post_id, func.count(PostAssignment.id))
        .where(PostAssignment.post_id.in_(post_ids), PostAssignment.ended_at.is_(None))
        .group_by(PostAssignment.post_id)
    )
    return dict(rows.all())


def posts_held(officer_ids: list[int]) -> dict[int, list[Post]]:
    """The posts each officer holds now (one query for a page)."""
    held: dict[int, list[Post]] = {}
    if not officer_ids:
        return held
    rows = db.session.execute(
        select(PostAssignment.officer_id, Post)
        .join(PostAssignment.post)
        .where(PostAssignment.officer_id.in_(officer_ids), PostAssignment.ended_at.is_(None))
        .order_by(Post.title_en)
    )
    for officer_id, post in rows:
        held.setdefault(officer_id, []).append(post)
    return held


def assignments_of_post(post: Post) -> list[PostAssignment]:
    """Who held the post and when, newest first, officers loaded."""
    return list(
        db.session.scalars(
            select(PostAssignment)
            .options(joinedload(PostAssignment.officer))
            .where(PostAssignment.post_id == post.id)
            .order_by(PostAssignment.started_at.desc(), PostAssignment.id.desc())
        )
    )


def assignments_of_officer(officer: Officer) -> list[PostAssignment]:
    """The posts the officer held and when, newest first, posts and units loaded."""
    return list(
        db.session.scalars(
            select(PostAssignment)
            .options(joinedload(PostAssignment.post).joinedload(Post.unit))
            .where(PostAssignment.officer_id == officer.id)
            .order_by(PostAssignment.started_at.desc(), PostAssignment.id.desc())
        )
    )


# ---- what a new post or officer may be attached to -------------------------------------------


def creatable_roles(principal: Principal, roles) -> list[Role]:
    """Of ``roles``, those whose kind of unit exists at or below the principal's unit."""
    depth = principal.unit.kind.depth
    return [
        role
        for role in roles
        if any(UnitKind(kind).depth >= depth for kind in ROLE_UNIT_KINDS[role])
    ]


def districts_in_scope(principal: Principal) -> list[Unit]:
    """The districts of the principal's subtree, by name."""
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.DISTRICT, principal.unit.covers(Unit.path))
            .order_by(Unit.name_en)
        )
    )


def units_for_posts(root: Unit, kinds) -> list[tuple[Unit, Unit | None]]:
    """Active units of ``kinds`` under ``root`` (a unit of the principal's subtree), by name,
    each with its district when ``root`` lies above district level (else None)."""
    units = list(
        db.session.scalars(
            select(Unit)
            .where(root.covers(Unit.path), Unit.kind.in_(list(kinds)), Unit.active.is_(True))
            .order_by(Unit.name_en, Unit.id)
        )
    )
    districts = {}
    if root.kind.depth < UnitKind.DISTRICT.depth:
        districts = {
            unit.id: unit
            for unit in db.session.scalars(
                select(Unit).where(Unit.kind == UnitKind.DISTRICT, root.covers(Unit.path))
            )
        }
    return [
        (unit, next((districts[i] for i in unit.ancestor_ids[:-1] if i in districts), None))
        for unit in units
    ]


def managing_units(principal: Principal) -> list[Unit]:
    """The units that may manage a new officer: the state (for a state administrator) first,
    then the districts of the subtree, by name."""
    units = db.session.scalars(
        select(Unit)
        .where(
            principal.unit.covers(Unit.path), Unit.kind.in_(MANAGING_KINDS), Unit.active.is_(True)
        )
        .order_by(Unit.name_en, Unit.id)
    )
    return sorted(units, key=lambda unit: unit.kind != UnitKind.STATE)
