"""Opaque cursors for the API's lists: the position after the last item a page held, as
URL-safe base64 of JSON. A cursor the server did not write is a validation error on ``cursor``."""

import base64
import binascii
import json

from flask_smorest import abort


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
