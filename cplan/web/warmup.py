"""Work a server does once, before it forks its workers.

gunicorn loads the app in its master process (``preload_app``) and forks the workers from it.
What the first request of each worker would otherwise do (compiling every page template,
configuring the ORM's mappers) is done here once: the workers inherit it through the fork,
share its memory pages, and a fresh worker's first pages cost what later ones do. The
benchmark measured a fresh worker's first roster page at over a second of CPU on the shared
machine, against a few milliseconds later.
"""

from sqlalchemy.orm import configure_mappers


def warm(app) -> int:
    """Configure the mappers and compile every HTML template of ``app``; returns how many
    templates were compiled. Opens no database connection."""
    configure_mappers()
    environment = app.jinja_env
    names = environment.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        environment.get_template(name)
    return len(names)
