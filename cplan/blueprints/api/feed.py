"""The UP-112 pull feed: ``GET /api/v1/feed/incidents?after=<cursor>``, every new or changed
incident in the token's scope (statewide for the state control room), in order, without gaps
or repeats under concurrent writes (``cplan.services.feed`` says how)."""

import json
from datetime import datetime

from flask import Response
from flask_login import current_user
from flask_smorest import Blueprint, abort

from cplan.blueprints.api.schemas import FeedPage, FeedQuery
from cplan.services import feed
from cplan.services.permissions import Permission
from cplan.web.access import requires

bp = Blueprint(
    "api_feed",
    __name__,
    url_prefix="/api/v1/feed",
    description="The control rooms' feed of new and changed incidents.",
)


@bp.get("/incidents", endpoint="incidents")
@bp.arguments(FeedQuery, location="query")
@bp.response(200, FeedPage)
@requires(Permission.REVIEW_INCIDENTS)
def incidents(args):
    """New and changed incidents after a cursor, oldest change first (poll every few seconds)."""
    after = args.get("after")
    try:
        changes = feed.changes(current_user, after, args["limit"])
    except feed.BadCursor:
        abort(422, messages={"query": {"after": ["Not a cursor this feed gave."]}})
    # Written here rather than dumped through the schema: a poll catching up carries hundreds
    # of incidents, and the schema's field-by-field dump cost more than the query. The contract
    # tests hold this answer to the same schema.
    items = [
        {
            "cursor": change.cursor,
            "changed_at": change.changed_at.isoformat(),
            "incident": _iso(change.incident),
        }
        for change in changes
    ]
    next_cursor = changes[-1].cursor if changes else (after or "0.0")
    return Response(
        json.dumps({"items": items, "next": next_cursor}, ensure_ascii=False),
        mimetype="application/json",
    )


def _iso(answer: dict) -> dict:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in answer.items()
    }
