"""Feature blueprints, one package each; ``BLUEPRINTS`` is the list the factory registers."""
from cplan.blueprints.admin.views import bp as admin_bp
from cplan.blueprints.audit.views import bp as audit_bp
from cplan.blueprints.auth.views import bp as auth_bp
from cplan.blueprints.geo.views import bp as geo_bp
from cplan.blueprints.main.views import bp as main_bp

BLUEPRINTS = [main_bp, auth_bp, geo_bp, audit_bp, admin_bp]
