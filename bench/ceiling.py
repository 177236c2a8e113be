"""The ceiling: the fastest a Flask app on this machine can serve a village roster.

One endpoint, ``/places/<id>``, answers with the place's active and pending contacts from a
single raw SQL query rendered by a minimal Jinja template: no sign-in, no scope checks, no
audit record, no translations. ``bench/http.py`` serves it with the same gunicorn settings as
the portal and divides each portal page's throughput by this one's. Usage::

    CPLAN_BENCH_CEILING_DATABASE_URL=sqlite:///path.sqlite \
        gunicorn -c gunicorn.conf.py 'bench.ceiling:create_app()'
"""

import os

from flask import Flask, abort
from sqlalchemy import create_engine, text

ROSTER_SQL = text(
    "SELECT p.name_en, p.name_hi, c.id, c.name, c.name_other, c.mobile, c.category, c.status"
    " FROM places AS p LEFT JOIN contacts AS c"
    " ON c.place_id = p.id AND c.status IN ('active', 'pending')"
    " WHERE p.id = :place_id ORDER BY c.name"
)

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ name_en }}</title></head>
<body><h1>{{ name_en }} / {{ name_hi }}</h1>
<ul>{% for contact in contacts %}
<li class="{{ contact.status }}">{{ contact.name }} ({{ contact.name_other }}),
 {{- " " ~ contact.category }}:
<a href="tel:{{ contact.mobile }}">{{ contact.mobile }}</a></li>{% endfor %}
</ul></body></html>
"""


def create_app(database_url: str | None = None) -> Flask:
    """The ceiling app on ``database_url`` (default: ``CPLAN_BENCH_CEILING_DATABASE_URL``)."""
    url = database_url or os.environ["CPLAN_BENCH_CEILING_DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # The pool opens no connection until the first request, so the app can be preloaded.
    engine = create_engine(url)
    app = Flask(__name__)
    template = app.jinja_env.from_string(TEMPLATE)  # compiled once, autoescaped like the app's

    @app.get("/places/<int:place_id>")
    def place(place_id):
        """A village's contacts, one query, one template."""
        with engine.connect() as connection:
            rows = connection.execute(ROSTER_SQL, {"place_id": place_id}).all()
        if not rows:
            abort(404)
        contacts = [row for row in rows if row.id is not None]
        return template.render(name_en=rows[0].name_en, name_hi=rows[0].name_hi, contacts=contacts)

    return app
