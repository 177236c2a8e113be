"""Jurisdiction applied in queries: what a principal may see is its post's unit's subtree.

Records are loaded by id through ``get_in_scope(principal, model, id)``, which raises
``NotInScope`` for a record outside the principal's subtree exactly as for one that does not
exist; the web layer answers both with 404 (``cplan.web.errors``). The condition itself is
``Unit.covers`` on the column a record is filed under. There is no default: code without a
principal (a command, a job) has no scope to read through here, and never falls open to the
whole state.
"""

from sqlalchemy import select

from cplan.extensions import db
from cplan.models.geo import Place, Unit
from cplan.services.errors import NotInScope
from cplan.services.principal import Principal


def _path_column(model):
    if model is Unit:
        return Unit.path
    if model is Place:
        return Place.unit_path
    raise TypeError(f"no scope rule for {model.__name__}")


def scope_condition(principal: Principal, model):
    """The SQL condition restricting ``model`` rows to ``principal``'s subtree."""
    return principal.unit.covers(_path_column(model))


def get_in_scope(principal: Principal, model, record_id: int):
    """``model`` by id within ``principal``'s subtree, or ``NotInScope``."""
    record = db.session.scalar(
        select(model).where(model.id == record_id, scope_condition(principal, model))
    )
    if record is None:
        raise NotInScope()
    return record
