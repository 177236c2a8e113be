"""gunicorn settings for cplan: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be changed from the environment without editing this file:

    GUNICORN_BIND          address to listen on (default 127.0.0.1:8000, behind nginx)
    WEB_CONCURRENCY        worker processes (default 2 x cores + 1)
    GUNICORN_THREADS       threads per worker (default 1: plain sync workers)
    GUNICORN_TIMEOUT       seconds before a stuck worker is killed (default 30)
    GUNICORN_ACCESS_LOG    "-" for stdout or a file; off by default (nginx keeps the access log)
    GUNICORN_MAX_REQUESTS  recycle a worker after this many requests (default 0: never)
    GUNICORN_CONTROL_SOCKET  path of the gunicornc control socket (default: none)

The app is loaded once in the master and forked (``preload_app``), so workers share the
imported code's memory pages and a broken app fails at start-up, not in every worker.
The application's own settings still come from ``CPLAN_*`` variables (see cplan/config.py).
"""

import multiprocessing
import os


def _int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 1)
# With threads > 1 gunicorn uses the gthread worker; one thread means the plain sync worker,
# which suits a CPU-bound app behind a buffering proxy (nginx absorbs slow clients).
worker_class = "gthread" if threads > 1 else "sync"
preload_app = True

timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5  # seconds; only the gthread worker keeps connections from nginx open
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# nginx on the same host or private network sets X-Forwarded-*; trust only it.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "cplan"
# gunicorn's control socket (for gunicornc) defaults to one path per user, which two servers on
# one host would share: off unless GUNICORN_CONTROL_SOCKET names a path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def when_ready(server):
    """Before the workers are forked: compile the templates and configure the ORM once, in
    the master (``cplan.web.warmup``), so that no worker pays for it on its first requests."""
    app = getattr(server.app, "callable", None)
    if app is None or not hasattr(app, "jinja_env"):
        return
    from cplan.web.warmup import warm

    warm(app)


def post_fork(server, worker):
    """Give each worker fresh database connections.

    The app was created in the master; a connection opened there before the fork (a start-up
    check, say) must not be shared by several processes, so each worker drops the inherited
    pool without closing the parent's sockets and opens its own on first use.
    """
    app = getattr(server.app, "callable", None)
    extension = getattr(app, "extensions", {}).get("sqlalchemy")
    if extension is None:
        return
    with app.app_context():
        for engine in extension.engines.values():
            engine.dispose(close=False)


# Prometheus figures of every worker (cplan.web.metrics): with PROMETHEUS_MULTIPROC_DIR set, each
# worker writes its counts to files there; the folder is emptied at each start (counts begin at
# zero, as a restarted server's should) and a dead worker's files are marked so.
_metrics_folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_folder:
    os.makedirs(_metrics_folder, exist_ok=True)
    for _name in os.listdir(_metrics_folder):
        if _name.endswith(".db"):
            os.remove(os.path.join(_metrics_folder, _name))


def child_exit(server, worker):
    if _metrics_folder:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
