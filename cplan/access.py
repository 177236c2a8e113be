"""Who is asking: the signed-in (officer, post) and the permission decorators.

Deny by default: ``cplan.security`` sends every request that is not signed in to the sign-in
page unless its view is marked ``@public``; every other view declares ``@requires(permission)``
(a test walks the URL map to prove it).
"""
from dataclasses import dataclass
from functools import wraps

from flask import abort
from flask_login import current_user

from cplan.models.accounts import Officer, Post, Role, SignInSession
from cplan.models.geo import Unit
from cplan.services.permissions import Permission, has_permission


@dataclass
class Principal:
    """The Flask-Login user: one officer acting through one post, in one server-side session."""

    officer: Officer
    post: Post
    session: SignInSession
    # The raw session token, known only at sign-in (the database keeps its hash).
    token: str | None = None
    # This request stamped the session's activity (``sessions.touch``): to commit before the page.
    touched: bool = False

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str | None:
        # Flask-Login keeps this in the cookie: a random token, nothing personal.
        return self.token

    @property
    def role(self) -> Role:
        return self.post.role

    @property
    def unit(self) -> Unit:
        return self.post.unit

    def can(self, permission: Permission) -> bool:
        return has_permission(self.post.role, permission)


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


def can(permission: Permission) -> bool:
    """For templates and navigation: may the current user do ``permission``?"""
    return bool(current_user.is_authenticated and current_user.can(permission))
