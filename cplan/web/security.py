"""Request guards and response headers.

Deny by default: a request to any view not marked ``@public`` needs a signed-in officer
(anonymous visitors are sent to the sign-in page, ``/api/`` callers get 401). Under
``/api/v1`` a device token (``Authorization: Bearer``) signs the request in instead of the
cookie. Every page carries a CSP without inline script, no framing, no sniffing, a same-origin
opener policy (COOP); signed-in pages are never cached.
"""

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from cplan.extensions import login_manager
from cplan.services import device_tokens, sessions
from cplan.services.principal import Principal
from cplan.web.lifecycle import commit_before_the_page

# Sent by static/js/refresh.js when a page fetches itself again.
REFRESH_HEADER = "X-Cplan-Refresh"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)


def is_public_endpoint(endpoint: str | None) -> bool:
    """True for the short list of views reachable without signing in."""
    if endpoint is None or endpoint == "static":
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "is_public", False))


def load_principal(token: str | None) -> Principal | None:
    """Flask-Login's user loader: the principal of the session cookie's token, acting from
    this request's client address (what services put in the audit trail)."""
    if bearer_token() is not None:
        return None  # a device token, when sent, is who asks (``load_device_principal``)
    return sessions.load(
        token,
        ip_address=request.remote_addr or "",
        # A home page refreshing itself (static/js/refresh.js) is not the officer at the screen:
        # an unattended screen still signs out when the idle time runs out.
        activity=request.headers.get(REFRESH_HEADER) != "1",
    )


API_PREFIX = "/api/v1/"


def bearer_token() -> str | None:
    """The device token of an ``Authorization: Bearer`` header under ``/api/v1``."""
    if not request.path.startswith(API_PREFIX):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def load_device_principal(_request) -> Principal | None:
    """Flask-Login's request loader: the principal of a device token (``/api/v1`` only)."""
    token = bearer_token()
    if token is None:
        return None
    return device_tokens.load(token, ip_address=request.remote_addr or "")


def register(app):
    """Attach the sign-in guard and the security headers to ``app``."""
    login_manager.init_app(app)
    login_manager.session_protection = None  # our server-side sessions are the protection
    login_manager.user_loader(load_principal)
    login_manager.request_loader(load_device_principal)

    @app.before_request
    def require_sign_in():
        if request.endpoint == "static":
            return None  # the stylesheet: public, cacheable, and no session lookup for it
        if current_user.is_authenticated:
            if current_user.touched:
                commit_before_the_page()
            return None
        if is_public_endpoint(request.endpoint):
            return None
        if request.path.startswith("/api/"):
            abort(401)  # answered by cplan.web.errors: JSON, or problem+json under /api/v1
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        # A page opened from ours (a link, window.open) gets no handle on our window, and ours
        # none on it: no tab-napping, and no cross-window leaks of a signed-in page.
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static" and current_user.is_authenticated:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        if app.config["ENV_NAME"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
