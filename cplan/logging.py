"""Logging: one stable line per event on stderr, level from configuration; the request log
(``cplan.requests``) is one JSON object a line.

A failure that repeats (a full disk, a database that is down) would otherwise write a traceback
for every request, thousands a minute, burying everything else and filling the disk it is
written to. ``RepeatedFailures`` lets the first of identical failures through whole, traceback
and all, leaves out the repeats, and at the end of each minute in which it left some out writes
one line saying how many (``LOG_REPEAT_SECONDS``, 60). A failure after a quiet minute is a first
one again. Identical means: the same logger, logging call and exception type raised at the same
place (the innermost frame of its traceback), or the same message template when there is no
exception.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

_SUMMARY = "cplan_repeat_summary"


def configure(app):
    """Send the app's log to stderr with timestamps, at the configured level."""
    level = app.config.get("LOG_LEVEL", "INFO")
    if app.testing:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RepeatedFailures(float(app.config.get("LOG_REPEAT_SECONDS") or 60)))
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


def failure_key(record: logging.LogRecord) -> tuple:
    """What makes two warnings or errors the same failure."""
    site = (record.name, record.pathname, record.lineno)
    if not record.exc_info or record.exc_info[0] is None:
        return (*site, str(record.msg))
    kind, _error, trace = record.exc_info
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    raised_at = (trace.tb_frame.f_code.co_filename, trace.tb_lineno) if trace else None
    return (*site, f"{kind.__module__}.{kind.__qualname__}", raised_at)


class RepeatedFailures(logging.Filter):
    """A handler filter: the first of identical warnings or errors passes whole; repeats within
    ``interval`` seconds of it are left out and counted, and when the interval ends a summary
    line (the last repeat's message, no traceback, the count) goes through the same logger,
    starting the next interval. Lines below WARNING always pass."""

    def __init__(self, interval: float = 60.0):
        super().__init__()
        self.interval = interval
        self._lock = threading.Lock()
        # key -> the interval's state: the last repeat left out and how many were
        self._open: dict[tuple, dict] = {}
        # gunicorn forks its workers from the master, where this filter is made: a timer started
        # there does not run in a worker, whose interval would then never close.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._open = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, _SUMMARY, False):
            return True
        key = failure_key(record)
        with self._lock:
            interval = self._open.get(key)
            if interval is None:  # the first, or the first after a quiet interval
                self._open[key] = {"last": None, "left_out": 0}
                self._close_later(key)
                return True
            interval["last"] = record
            interval["left_out"] += 1
            return False

    def _close_later(self, key: tuple) -> None:
        timer = threading.Timer(self.interval, self._close, args=(key,))
        timer.daemon = True
        timer.start()

    def _close(self, key: tuple) -> None:
        """End an interval: say how many were left out, and open the next one if any were."""
        with self._lock:
            interval = self._open.pop(key, None)
            if interval is None or not interval["left_out"]:
                return  # quiet: the next failure of this kind passes whole
            self._open[key] = {"last": None, "left_out": 0}
            self._close_later(key)
        last: logging.LogRecord = interval["last"]
        now = time.time()
        summary = logging.makeLogRecord(
            {
                **last.__dict__,
                "msg": f"{last.getMessage()} [repeated {interval['left_out']} times in the last "
                f"{self.interval:.0f} s; the first was logged in full]",
                "args": (),
                "created": now,
                "msecs": (now % 1) * 1000,
                "exc_info": None,
                "exc_text": None,
                "stack_info": None,
                _SUMMARY: True,
            }
        )
        logging.getLogger(last.name).handle(summary)
