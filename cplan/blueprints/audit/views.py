"""The audit page: who did what, where and when, within the signed-in post's jurisdiction.

Events are filed under a unit path; a post sees the events of its own subtree only, and an
event outside it answers 404 like one that does not exist. Actions and details are shown as
recorded (audit summaries are not translated); times are shown in IST. "Exports with full
numbers" lists the roster exports (who, when, how many contacts, why) and the ones refused by the
daily limit, with today's totals.
"""

import json
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from cplan.blueprints.audit.forms import AuditFilterForm
from cplan.pipelines import roster_export
from cplan.services import audit, refusals
from cplan.services.permissions import Permission
from cplan.web.access import requires
from cplan.web.kit import filter_args, id_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")

PER_PAGE = 50
FILTER_ARGS = ("pno", "post", "action", "outcome", "date_from", "date_to")


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_AUDIT)
def list_events():
    """List the audit events of the current jurisdiction, newest first, with filters."""
    form = AuditFilterForm(formdata=request.args)
    form.validate()
    timezone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    query = audit.events_in_scope(current_user, **form.filters(timezone))
    page = audit.page_of_events(
        query, before=id_arg("before"), after=id_arg("after"), per_page=PER_PAGE
    )
    # The filters travel with the page links, empty ones left out.
    link_args = filter_args(FILTER_ARGS)
    paged = "before" in request.args or "after" in request.args
    return render_template(
        "audit/index.html",
        form=form,
        page=page,
        link_args=link_args,
        paged=paged,
        units=audit.units_filed_under(page.events),
        officers=audit.officers_of(page.events),
    )


@bp.get("/exports", endpoint="exports")
@requires(Permission.VIEW_AUDIT)
def list_exports():
    """List the exports with full numbers in the jurisdiction (and refused ones), newest first."""
    pno = (request.args.get("pno") or "").strip()[:20]
    page = audit.page_of_events(
        roster_export.export_events(current_user, pno=pno),
        before=id_arg("before"),
        after=id_arg("after"),
        per_page=PER_PAGE,
    )
    link_args = {"pno": pno} if pno else {}
    return render_template(
        "audit/exports.html",
        page=page,
        pno=pno,
        link_args=link_args,
        paged="before" in request.args or "after" in request.args,
        today=roster_export.today_summary(current_user),
        limit=roster_export.daily_limit(),
        reasons=roster_export.REASONS,
        units=audit.units_filed_under(page.events),
    )


@bp.get("/<int:event_id>", endpoint="event")
@requires(Permission.VIEW_AUDIT)
def show_event(event_id):
    """Show one audit event in full, with its place in the hash chain."""
    event = audit.get_in_scope(current_user, event_id)
    detail = [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in sorted(event.detail_data.items())
    ]
    units = audit.units_filed_under([event])
    return render_template(
        "audit/event.html",
        event=event,
        detail=detail,
        unit=units.get(event.unit_path),
        officer=audit.officers_of([event]).get(event.officer_id),
        burst=refusals.open_burst(event),
    )
