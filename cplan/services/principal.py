"""Who acts: an officer, through one post, in one sign-in session, from one client address.

Every service that changes or reads something on someone's behalf takes the principal as an
argument; nothing below the web layer looks it up from the request. The web layer builds it
from the session cookie (``cplan.services.sessions.load``) and fills in the client's address;
a command, a worker or a test builds one directly (``Principal(officer, post, None)``).

It also answers Flask-Login's user protocol (``is_authenticated``, ``get_id``...), so the web
layer uses it as ``current_user``; those are plain attributes, and nothing here imports Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from cplan.models.accounts import Officer, Post, Role, SignInSession
from cplan.models.api import DeviceToken
from cplan.models.geo import Unit
from cplan.services.permissions import Permission, has_permission


@dataclass
class Principal:
    """One officer acting through one post, in one server-side session."""

    officer: Officer
    post: Post
    session: SignInSession | None
    # The raw session token, known only at sign-in (the database keeps its hash).
    token: str | None = None
    # This request stamped the session's activity (``sessions.touch``): to commit before the page.
    touched: bool = False
    # The client's address as the app sees it (behind ``CPLAN_TRUSTED_PROXIES``), for the audit
    # trail; "" when the principal acts from a command or a test.
    ip_address: str = ""
    # The device token the request came with (``cplan.services.device_tokens``), under /api/v1.
    device: DeviceToken | None = None

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
        """The unit whose subtree is the principal's jurisdiction."""
        return self.post.unit

    def can(self, permission: Permission) -> bool:
        return has_permission(self.post.role, permission)
