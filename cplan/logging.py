"""Logging: one stable line per event on stderr, level from configuration."""

import logging
import sys


def configure(app):
    """Send the app's log to stderr with timestamps, at the configured level."""
    level = app.config.get("LOG_LEVEL", "INFO")
    if app.testing:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(level)
    logging.getLogger("cplan").handlers[:] = [handler]
    logging.getLogger("cplan").setLevel(level)
