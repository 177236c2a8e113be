"""The search page: places first, then contacts, of the signed-in post's scope.

Contacts are read only through ``roster.visible_condition`` (scope and the confidential
rule); numbers are shown in full only to station posts (``roster.sees_full_numbers``), and
such a result page is recorded in the audit trail like a roster view. A look-up by number is
recorded from every post, found or not, with the number masked (``roster.record_number_lookup``).
"""

from flask import Blueprint, render_template, request
from flask_login import current_user

from cplan.blueprints.search.forms import SearchForm
from cplan.extensions import db
from cplan.services import audit, roster, search
from cplan.services.permissions import Permission
from cplan.web.access import requires
from cplan.web.kit import number_arg, page_arg
from cplan.web.templating import current_language

bp = Blueprint("search", __name__, url_prefix="/search")


@bp.get("", endpoint="index")
@requires(Permission.VIEW_ROSTER)
def search_everything():
    """Find places and contacts in scope by name (either script), mobile number or LGD code."""
    form = SearchForm(formdata=request.args)
    results = too_short = None
    number_too_short = False
    full_numbers = roster.sees_full_numbers(current_user)
    if form.q.data and form.validate():
        try:
            results = search.find(
                form.q.data,
                current_user.unit,
                roster.visible_condition(current_user),
                page=page_arg(),
                per_page=number_arg("per_page", None),
                language=current_language(),
            )
        except search.QueryTooShort as error:
            too_short, number_too_short = True, error.number
    page = render_template(
        "search/index.html",
        form=form,
        results=results,
        too_short=too_short,
        number_too_short=number_too_short,
        full_numbers=full_numbers,
        per_page=number_arg("per_page", None),
    )
    # After rendering: the commit would otherwise make the page read each contact again.
    if results is not None and (results.number or results.number_start):
        roster.record_number_lookup(current_user, results, full_numbers=full_numbers)
        db.session.commit()
    elif results is not None and results.contacts and full_numbers:
        # Full numbers on screen: who saw which citizens is kept, as for a roster view (ids only).
        audit.record(
            "roster.search_viewed",
            actor=current_user,
            unit=current_user.unit,
            detail={"contact_ids": [contact.id for contact in results.contacts]},
        )
        db.session.commit()
    return page
