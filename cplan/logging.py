"""Logging: one stable line per event on stderr, level from configuration; the request log
(``cplan.requests``) is one JSON object a line."""

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
    # The request log (cplan.web.requestlog) is one JSON object a line, with nothing around it.
    json_lines = logging.StreamHandler(sys.stderr)
    json_lines.setFormatter(logging.Formatter("%(message)s"))
    requests = logging.getLogger("cplan.requests")
    requests.handlers[:] = [json_lines]
    requests.setLevel(level)
    requests.propagate = False
