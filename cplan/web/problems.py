"""RFC 9457 problem details: every error under ``/api/v1`` is ``application/problem+json``, with
a title in the reader's language (``Accept-Language`` there) and the refusal's own words as its
detail. The titles are the error pages' messages, one per HTTP status (``status_messages``)."""

from flask import jsonify, request
from flask_babel import gettext as _

PROBLEM_JSON = "application/problem+json"


def status_messages() -> dict[int, str]:
    """The title of each HTTP status, in the reader's language."""
    return {
        400: _("The request could not be understood. Please check what you entered and try again."),
        403: _("You do not have permission to do this."),
        404: _("We could not find that page or record."),
        405: _("That action is not allowed here."),
        409: _("Someone else changed this record first. Reload the page and try again."),
        413: _("The file is too large."),
        422: _("Some fields are not valid."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. It has been logged; please try again."),
    }


def problem(status: int, title: str | None = None, detail: str | None = None, **extra):
    """An RFC 9457 answer: ``title`` in the reader's language (``Accept-Language`` under
    ``/api/v1``), the refusal's own words as ``detail``, and members such as ``errors`` (each
    naming its field) or ``decided_by``/``decided_at`` (a conflict's who and when)."""
    body = {
        "type": "about:blank",
        "title": title or status_messages().get(status, status_messages()[500]),
        "status": status,
    }
    if detail and detail != body["title"]:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({key: value for key, value in extra.items() if value is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response
