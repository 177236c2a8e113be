"""Feature blueprints, one package each; ``BLUEPRINTS`` is the list the factory registers."""

from cplan.blueprints.admin.views import bp as admin_bp
from cplan.blueprints.api.docs import bp as api_docs_bp
from cplan.blueprints.audit.views import bp as audit_bp
from cplan.blueprints.auth.views import bp as auth_bp
from cplan.blueprints.breaches.views import bp as breaches_bp
from cplan.blueprints.broadcasts.views import bp as broadcasts_bp
from cplan.blueprints.coverage.views import bp as coverage_bp
from cplan.blueprints.devices.views import bp as devices_bp
from cplan.blueprints.drives.views import bp as drives_bp
from cplan.blueprints.elections.views import bp as elections_bp
from cplan.blueprints.enrolment.api import api_bp as enrolment_api_bp
from cplan.blueprints.enrolment.views import bp as enrolment_bp
from cplan.blueprints.geo.views import bp as geo_bp
from cplan.blueprints.health.views import bp as health_bp
from cplan.blueprints.incidents.views import bp as incidents_bp
from cplan.blueprints.main.views import bp as main_bp
from cplan.blueprints.meetings.views import bp as meetings_bp
from cplan.blueprints.reauth.views import bp as reauth_bp
from cplan.blueprints.roster.views import bp as roster_bp
from cplan.blueprints.search.views import bp as search_bp
from cplan.blueprints.transfer.views import bp as transfer_bp
from cplan.blueprints.whatsapp.views import bp as whatsapp_bp

BLUEPRINTS = [
    main_bp,
    auth_bp,
    geo_bp,
    audit_bp,
    admin_bp,
    roster_bp,
    transfer_bp,
    search_bp,
    coverage_bp,
    enrolment_bp,
    enrolment_api_bp,
    incidents_bp,
    reauth_bp,
    broadcasts_bp,
    health_bp,
    breaches_bp,
    elections_bp,
    drives_bp,
    meetings_bp,
    api_docs_bp,
    devices_bp,
    whatsapp_bp,
]
