"""cplan: the C-Plan community-contact portal. ``create_app`` builds the application."""

from flask import Flask, current_app

from cplan.config import load_config


def create_app(config=None):
    """Build the app: configuration layers, then each ``register_*`` step in turn."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    configure_logging(app)
    register_request_log(app)
    register_url_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_read_retry(app)
    register_rate_limits(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def configure_logging(app):
    from cplan.logging import configure

    configure(app)


def register_request_log(app):
    # First of the request hooks: the request id exists for the others, the line comes last.
    from cplan.web import metrics, requestlog

    requestlog.register(app)
    metrics.register(app)


def register_url_converters(app):
    from cplan.web.kit import AsciiIntConverter

    app.url_map.converters["int"] = AsciiIntConverter


def register_extensions(app):
    from cplan import models  # noqa: F401  (every table registered before migrations)
    from cplan.extensions import babel, csrf, db, migrate
    from cplan.models.base import use_secret_key
    from cplan.web import compression, lifecycle
    from cplan.web.i18n import select_locale, select_timezone, use_fast_translations

    db.init_app(app)
    use_secret_key(
        lambda: current_app.config["SECRET_KEY"]
    )  # sealed columns (authenticator secrets)
    lifecycle.register(app)  # before the sign-in check's first query
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    use_fast_translations(app)
    compression.register(app)


def register_blueprints(app):
    from cplan.blueprints import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_api(app)


def register_api(app):
    from cplan.blueprints.api import DOCUMENTED
    from cplan.web.openapi import register

    register(app, DOCUMENTED)


def register_errorhandlers(app):
    from cplan.web.errors import register

    register(app)


def register_request_hooks(app):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from cplan.web.security import register

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # behind nginx: the client's address and scheme from its headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    register(app)


def register_read_retry(app):
    # Outermost WSGI wrapper: a second attempt starts from the environment as the server gave it.
    from cplan.web import faults

    faults.register(app)


def register_rate_limits(app):
    # After the sign-in guard: a limit counted per officer needs to know who is signed in.
    from cplan.web.ratelimits import register

    register(app)


def register_template_helpers(app):
    from cplan.web import templating

    templating.register(app)


def register_cli(app):
    from cplan.cli import cplan_cli

    app.cli.add_command(cplan_cli)
