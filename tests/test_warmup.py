"""The server's warm-up before forking (cplan.web.warmup, gunicorn.conf.py's ``when_ready``)."""

import pytest

from cplan.web.warmup import warm


@pytest.mark.fresh_app  # an app of its own: the shared one has compiled templates already
def test_warming_compiles_every_page_template_so_no_worker_compiles_one(app):
    compiled = warm(app)
    names = app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html"))
    assert compiled == len(names) > 100
    loads = []
    loader = app.jinja_env.loader
    original = loader.get_source
    loader.get_source = lambda environment, name: loads.append(name) or original(environment, name)
    try:
        app.jinja_env.get_template("roster/place.html")
        app.jinja_env.get_template("base.html")
    finally:
        loader.get_source = original
    assert loads == []
