"""Responses compressed by the app itself (Flask-Compress), for servers with no compressing
proxy in front: a Hindi roster page of 40 KB travels as about 6 KB, which on a village's weak
3G link is the difference between one second and seven.

Compression is decided here, per response, rather than by Flask-Compress's own hook, so that
one kind of page can be left out: the contact search shows citizens' mobile numbers next to
the text the request typed, the pattern a compression side channel (BREACH) reads secrets
through, so it is sent as it is. ``CPLAN_COMPRESS_RESPONSES=false`` leaves compression to a
proxy. Headers (the CSP among them) are untouched: only the body, ``Content-Encoding``,
``Content-Length`` and ``Vary`` change.
"""

from __future__ import annotations

from flask import request

from cplan.extensions import compress

# Pages that echo what was typed beside personal data: never compressed.
NOT_COMPRESSED = frozenset({"search.index"})


def register(app) -> None:
    app.config.setdefault("COMPRESS_RESPONSES", True)
    # Flask-Compress's own hook would compress every response: ours calls it (below).
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    if not app.config["COMPRESS_RESPONSES"]:
        return

    @app.after_request
    def compress_response(response):
        if request.endpoint in NOT_COMPRESSED:
            return response
        if request.endpoint == "static" and response.is_streamed and response.status_code == 200:
            # Our static files are a few KB: read whole, they are compressed like a page (and
            # the file is closed with the response, which Flask-Compress's streaming forgets).
            response.direct_passthrough = False
            response.make_sequence()
        return compress.after_request(response)
