"""Opaque cursors for the API's lists: the position after the last item a page held, as
URL-safe base64 of JSON. A cursor the server did not write is a validation error on ``cursor``."""

import base64
import binascii
import json
from datetime import datetime

from flask_smorest import abort
from sqlalchemy import and_, or_

from cplan.extensions import db


def encode(position) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode(cursor: str | None, shape: type = list):
    """The position a cursor holds (None for no cursor); 422 naming ``cursor`` when it is not one
    of ours."""
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        position = None
    if not isinstance(position, shape):
        abort(422, messages={"query": {"cursor": ["Not a cursor this API gave."]}})
    return position


def after(statement, cursor: str | None, stamp, id_column):
    """``statement`` limited to what comes after the cursor in (``stamp``, id) order: a cursor
    holds the last item's stamp (ISO 8601) and id. ``stamp`` is a column or an expression."""
    position = decode(cursor)
    if position is None:
        return statement
    try:
        stamp_after, id_after = datetime.fromisoformat(position[0]), int(position[1])
    except (TypeError, ValueError, IndexError):
        decode("not a cursor")
    return statement.where(
        or_(stamp > stamp_after, and_(stamp == stamp_after, id_column > id_after))
    )


def keyset_page(statement, args: dict, stamp, id_column, stamp_of, answer) -> dict:
    """One page of ``statement`` in (``stamp``, id) order from ``args``' cursor, changed at or
    after ``updated_since``: ``{"items": [...], "next": cursor or None}``. ``stamp_of(row)`` is
    a row's stamp, ``answer(rows)`` the items."""
    if args.get("updated_since") is not None:
        statement = statement.where(stamp >= args["updated_since"])
    statement = after(statement, args.get("cursor"), stamp, id_column)
    limit = args["limit"]
    rows = list(db.session.scalars(statement.order_by(stamp, id_column).limit(limit + 1)).unique())
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return {
        "items": answer(rows),
        "next": encode([stamp_of(last).isoformat(), last.id]) if more else None,
    }
