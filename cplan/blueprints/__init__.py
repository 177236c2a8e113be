"""Feature blueprints, one package each; ``BLUEPRINTS`` is the list the factory registers."""
from cplan.blueprints.main.views import bp as main_bp

BLUEPRINTS = [main_bp]
