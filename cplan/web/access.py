"""The permission decorators of views: ``@public``, ``@requires(permission)``, ``@fresh_sign_in()``.

The signed-in principal (``current_user``) is a ``cplan.services.principal.Principal``.

Deny by default: ``cplan.web.security`` sends every request that is not signed in to the sign-in
page unless its view is marked ``@public``; every other view declares ``@requires(permission)``
(a test walks the URL map to prove it). Sensitive views add ``@fresh_sign_in()``: the officer's
password typed within the last few minutes of this session.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort, jsonify, redirect, request, url_for
from flask_login import current_user

from cplan.services import reauth
from cplan.services.permissions import Permission


def public(view):
    """Mark a view as reachable without signing in (the short list of public endpoints)."""
    view.is_public = True
    return view


def requires(permission: Permission):
    """Allow the view only to signed-in posts whose role has ``permission`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


def fresh_sign_in(minutes: int | None = None, back: Callable[..., str] | None = None):
    """Let the view run only when the officer typed their password in this session within
    ``minutes`` (default: config ``FRESH_SIGN_IN_MINUTES``, 10); otherwise send them to
    "Confirm it is you" (``reauth.confirm``), which brings them back.

    A GET comes back to the same URL. A POST is never replayed (its form and CSRF token would
    travel through a redirect): the officer comes back to the form page, ``back(**view_args)``
    (by default the same URL, right for views that show their form on GET), and submits again.
    Put it under ``@requires``, so a post without the permission is refused before being asked
    for a password. Under ``/api/`` the answer is 403 with ``"reauthenticate"`` in the JSON.

    Used for: exports with full numbers (``transfer.export``), every change on the posts and
    officers pages (CUG numbers, posts, assignments, activation, setup codes), marking a contact
    confidential or opening it again, and erasure.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if reauth.is_fresh(current_user, minutes):
                return view(*args, **kwargs)
            replay = request.method not in ("GET", "HEAD")
            target = (
                back(**kwargs) if replay and back is not None else request.full_path.rstrip("?")
            )
            confirm_url = url_for(
                "reauth.confirm", next=target, **({"repeat": "1"} if replay else {})
            )
            if request.path.startswith("/api/"):
                return jsonify(
                    error="confirm your password first", status=403, reauthenticate=confirm_url
                ), 403
            return redirect(confirm_url)

        wrapped.fresh_sign_in = True
        return wrapped

    return decorator


def can(permission: Permission) -> bool:
    """For templates and navigation: may the current user do ``permission``?"""
    return bool(current_user.is_authenticated and current_user.can(permission))
