"""Per-client rate limits on the sign-in steps, searches and exports, shared by every server.

Flask-Limiter counts in the store named by ``CPLAN_RATELIMIT_STORAGE_URI``: ``redis://...`` in
production, so every worker of every app server counts together (production refuses to start
with ``memory://``, which would give each worker a count of its own); ``memory://`` in
development and tests. Counting uses a moving window ("10 per minute" is never more than 10 in
any 60 seconds), so a burst across a window's edge does not get twice the limit.

The limits are one table (``LIMITS``), applied to the views when the app is built, so a view
never carries a limit of its own and the README's table is this one. A limit counts either
per address (the unauthenticated sign-in steps: the client's address as
``CPLAN_TRUSTED_PROXIES`` lets the app see it, an IPv6 address by its /64 network) or per signed-in
officer (searches and exports: the officers of one police station share its router's address,
and one officer's several sessions share one count). ``CPLAN_RATE_LIMITS`` (JSON) overrides
single entries, e.g. ``{"auth.sign_in": "20 per minute"}``.

A refused request gets 429 from ``cplan.web.errors`` (a page in the reader's language, JSON under
``/api/``) with ``Retry-After``; other responses carry no rate-limit headers, which would cost the
store a second round trip per request. When the store cannot be reached, requests are counted per
worker in memory until it is back (and the failure is logged): sign-in stays possible, and the
database's own lockouts (``cplan.services.lockouts``) still hold.

Each app gets a limiter of its own (kept in ``app.extensions``), because a limiter takes its
store from the app it is bound to.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user

from cplan.services.lockouts import address_client

EXTENSION_KEY = "cplan_limiter"


@dataclass(frozen=True)
class RateLimit:
    """One endpoint's limit: the limit string, the methods counted (None: all), and by whom."""

    limit: str
    methods: tuple[str, ...] | None
    per: str  # "address" or "officer"


LIMITS: dict[str, RateLimit] = {
    # The unauthenticated sign-in steps, per address. One officer signs in with one start, one
    # code and one officer step; a station's staff share an address, so there is room for a
    # shift changing at once. A code is also held to 3 SMS per 15 minutes per number.
    "auth.sign_in": RateLimit("10 per minute;100 per hour", ("POST",), "address"),
    "auth.enter_code": RateLimit("10 per minute;100 per hour", ("POST",), "address"),
    "auth.identify": RateLimit("10 per minute;100 per hour", ("POST",), "address"),
    "auth.resend_code": RateLimit("5 per minute;30 per hour", ("POST",), "address"),
    "auth.set_up": RateLimit("5 per minute;20 per hour", ("POST",), "address"),
    # The language switch is public too (and writes the officer's choice when signed in).
    "main.set_language": RateLimit("30 per minute", ("POST",), "address"),
    # Searches, per officer: a search a second, sustained for a minute, is more than anyone types.
    # One limit only: each costs a round trip to the store on every search.
    "search.index": RateLimit("60 per minute", None, "officer"),
    "geo.search": RateLimit("60 per minute", None, "officer"),
    # Exports, per officer: each is a whole station's list or up to 20,000 incidents.
    "transfer.export": RateLimit("20 per hour;100 per day", ("POST",), "officer"),
    "incidents.export_feed": RateLimit("20 per hour;100 per day", None, "officer"),
    # Registering a phone is the sign-in again, with the same limits per address.
    "api_devices.start": RateLimit("10 per minute;100 per hour", ("POST",), "address"),
    "api_devices.verify": RateLimit("10 per minute;100 per hour", ("POST",), "address"),
    "api_devices.register": RateLimit("10 per minute;100 per hour", ("POST",), "address"),
    # A gateway's delivery reports (public, signed), per address: batches of up to 1,000, so
    # this is room for 600,000 reports a minute, and a stranger's guesses stay few.
    "broadcasts.delivery_report": RateLimit("600 per minute", ("POST",), "address"),
    # Citizens' replies the gateway forwards (STOP), signed the same way.
    "broadcasts.replies": RateLimit("600 per minute", ("POST",), "address"),
}

# Every /api/v1 request, per device token (one count over all endpoints): a phone syncing on
# 3G makes a request every few seconds; a script looping on the API is stopped within a minute.
API_PREFIX = "api_"
API_LIMIT = RateLimit("120 per minute;3000 per hour", None, "token")


def address_key() -> str:
    """The requesting client's address (IPv6 by /64), as seen through the trusted proxies."""
    return address_client(request.remote_addr)


def officer_key() -> str:
    """The signed-in officer; the address for anyone else."""
    if current_user and current_user.is_authenticated:
        return f"officer:{current_user.officer.id}"
    return address_key()


def token_key() -> str:
    """The device token of an API request; else the officer, else the address."""
    device = getattr(current_user, "device", None) if current_user else None
    if device is not None:
        return f"device:{device.id}"
    return officer_key()


KEY_FUNCTIONS = {"address": address_key, "officer": officer_key, "token": token_key}


def register(app) -> Limiter:
    """Bind a limiter to ``app`` and put the table's limits on its views."""
    limiter = Limiter(key_func=address_key)
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    if not app.config["RATELIMIT_ENABLED"] and app.config["ENV_NAME"] == "production":
        app.logger.warning("rate limits are switched off (CPLAN_RATELIMIT_ENABLED=false)")
    overrides = app.config.get("RATE_LIMITS") or {}
    for endpoint, rule in LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(
            overrides.get(endpoint, rule.limit),
            key_func=KEY_FUNCTIONS[rule.per],
            methods=list(rule.methods) if rule.methods else None,
        )(view)
    api_limit = limiter.shared_limit(
        overrides.get("api", API_LIMIT.limit), scope="api_v1", key_func=KEY_FUNCTIONS["token"]
    )
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(API_PREFIX):
            app.view_functions[endpoint] = api_limit(view)
    return limiter


def limiter_of(app) -> Limiter:
    return app.extensions[EXTENSION_KEY]


def retry_after_seconds(error: RateLimitExceeded) -> int:
    """How long until the refused client may try again: at least a second, at most the window."""
    window = int(error.limit.limit.get_expiry())
    current = limiter_of(current_app).current_limit
    if current is not None and current.breached:
        return min(window, max(1, math.ceil(current.reset_at - time.time())))
    return window
