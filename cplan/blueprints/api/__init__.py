"""The versioned JSON API (``/api/v1``) for the field app and the UP-112 control room.

``DOCUMENTED`` are the flask-smorest blueprints described in the OpenAPI document (registered by
``cplan.web.openapi.register``); ``docs`` (the document itself and its page) is a plain blueprint
in ``cplan.blueprints.BLUEPRINTS``.
"""

from cplan.blueprints.api.devices import bp as devices_bp
from cplan.blueprints.api.drives import bp as drives_bp
from cplan.blueprints.api.enrolments import bp as enrolments_bp
from cplan.blueprints.api.feed import bp as feed_bp
from cplan.blueprints.api.incidents import bp as incidents_bp
from cplan.blueprints.api.meetings import bp as meetings_bp
from cplan.blueprints.api.places import bp as places_bp
from cplan.blueprints.api.webhooks import bp as webhooks_bp

DOCUMENTED = [
    devices_bp,
    places_bp,
    enrolments_bp,
    incidents_bp,
    drives_bp,
    meetings_bp,
    feed_bp,
    webhooks_bp,
]
