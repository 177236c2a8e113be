"""Jurisdiction applied in queries: what the signed-in post may see is its unit's subtree.

Views never load a unit or place by id directly; they call ``scoped_get_or_404`` so a record
outside the post's subtree answers 404 exactly like one that does not exist.
"""
from flask import abort, g
from sqlalchemy import select

from cplan.extensions import db
from cplan.models.geo import Place, Unit, UnitKind


def scope_unit() -> Unit | None:
    """The unit whose subtree the current request may see.

    Until sign-in lands this is the state root; afterwards it is the signed-in post's unit
    (set on ``g.scope_unit`` by the authentication hook).
    """
    unit = getattr(g, "scope_unit", None)
    if unit is not None:
        return unit
    return db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATE).order_by(Unit.id))


def scope_condition(model):
    """The SQL condition restricting ``model`` rows to the current scope."""
    unit = scope_unit()
    if unit is None:
        return db.false()
    if model is Unit:
        return unit.covers(Unit.path)
    if model is Place:
        return unit.covers(Place.unit_path)
    raise TypeError(f"no scope rule for {model.__name__}")


def scoped_get_or_404(model, record_id):
    """Load ``model`` by id within the current scope, or answer 404."""
    record = db.session.scalar(select(model).where(model.id == record_id, scope_condition(model)))
    if record is None:
        abort(404)
    return record
