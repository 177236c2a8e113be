"""Posts and officers: creating them, assigning officers to posts, passwords and setup codes.

Every change is made by an acting principal inside its own subtree, writes an audit event in
the same transaction, and revokes sessions that the change makes invalid.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from cplan.extensions import db
from cplan.formats import numeric_date
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.base import utcnow
from cplan.models.geo import Unit
from cplan.services import audit, names, passwords, sessions, sms, sms_queue
from cplan.services.errors import DomainError, NotInScope
from cplan.services.permissions import ROLE_UNIT_KINDS
from cplan.services.phone import InvalidMobile, log_safe, normalise_mobile
from cplan.services.principal import Principal

PNO_PATTERN = re.compile(r"[A-Za-z0-9]{4,20}")
SETUP_CODE_LIFETIME = timedelta(hours=72)
SETUP_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
# A hash to compare against when the PNO is unknown, so timing does not reveal it.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000")


class AccountError(DomainError):
    """An account change was refused; the message is shown to the administrator (beside
    ``field`` when it names one)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def _check_in_scope(actor: Principal, unit: Unit) -> None:
    if not actor.unit.contains(unit):
        raise NotInScope()


def _name(text: str | None, field: str, *, required: bool = True) -> str:
    """An officer's name or a post's title under the one rule for names (at least one letter)."""
    try:
        return names.clean_name(text, required=required)
    except names.InvalidName as error:
        raise AccountError(error.args[0], field) from error


def _refuse_self_lockout(
    actor: Principal, *, post: Post | None = None, officer: Officer | None = None
) -> None:
    """An administrator cannot cut off the post or the officer they are signed in as:
    they would be signed out at once, and only a higher administrator could undo it."""
    if (post is not None and post.id == actor.post.id) or (
        officer is not None and officer.id == actor.officer.id
    ):
        raise AccountError(
            _l("You cannot do this to your own post or account while signed in with it.")
        )


def create_post(
    actor: Principal, *, title_en: str, title_hi: str, role: Role, unit: Unit, cug: str
) -> Post:
    """Create a post with its CUG number in a unit of the actor's subtree."""
    _check_in_scope(actor, unit)
    if unit.kind.value not in ROLE_UNIT_KINDS[role]:
        raise AccountError(_l("This role cannot be attached to that kind of unit."))
    _check_sms_safe(title_en, title_hi)  # before cleaning folds a line break into a space
    title_en, title_hi = _name(title_en, "title_en"), _name(title_hi, "title_hi", required=False)
    number = _cug_or_error(cug)
    _check_cug_free(number)
    post = Post(title_en=title_en, title_hi=title_hi, role=role, unit=unit, cug_number=number)
    db.session.add(post)
    db.session.flush()
    audit.record(
        "admin.post_created",
        actor=actor,
        target=post,
        unit=unit,
        detail={"role": role.value, "title": post.title_en, "cug": log_safe(number)},
    )
    return post


def _check_sms_safe(*texts: str) -> None:
    """Post titles and officer names go into SMS (the CUG-change and setup notices): refuse a
    line break, a control character or "{#" when they are saved, not when a message fails."""
    if not all(sms.is_safe_text(text or "") for text in texts):
        raise AccountError(
            _l(
                "Titles and names may not contain line breaks, control characters or "
                "“{#”: they are sent in SMS."
            )
        )


def _cug_or_error(text: str) -> str:
    try:
        return normalise_mobile(text)
    except InvalidMobile as error:
        raise AccountError(str(error)) from error


def _check_cug_free(number: str, except_post: Post | None = None) -> None:
    query = select(Post.id).where(Post.cug_number == number, Post.active.is_(True))
    if except_post is not None:
        query = query.where(Post.id != except_post.id)
    if db.session.scalar(query) is not None:
        raise AccountError(_l("That CUG number already belongs to another active post."))


def change_cug(actor: Principal, post: Post, cug: str) -> Post:
    """Give a post a new CUG number: its sessions end and the old number is told.

    The notice to the old number is queued in this transaction and sent after the commit
    (``sms_queue``): the change never waits for the gateway, a gateway fault cannot undo it,
    and a change that is rolled back tells nobody.
    """
    _check_in_scope(actor, post.unit)
    _refuse_self_lockout(actor, post=post)
    number = _cug_or_error(cug)
    if number == post.cug_number:
        raise AccountError(_l("That is already the post's CUG number."))
    _check_cug_free(number, except_post=post)
    old = post.cug_number
    post.cug_number = number
    post.cug_changed_at = utcnow()
    ended = sessions.revoke_all(post_id=post.id, reason="cug_changed")
    db.session.flush()
    changed_on = numeric_date(post.cug_changed_at)  # the template's 2nd slot, in IST
    # slot_value: a title saved before titles were checked must not stop this notice.
    notice = sms_queue.enqueue(
        old,
        "cug_changed",
        sms.slot_value(post.title_en, f"#{post.id}"),
        changed_on,
        target=post,
        unit=post.unit,
    )
    audit.record(
        "admin.post_cug_changed",
        actor=actor,
        target=post,
        unit=post.unit,
        detail={
            "old": log_safe(old),
            "new": log_safe(number),
            "sessions_ended": ended,
            "notice": notice.id,
        },
    )
    return post


def set_post_active(actor: Principal, post: Post, active: bool) -> Post:
    """Deactivate (ending its sessions) or reactivate a post."""
    _check_in_scope(actor, post.unit)
    if not active:
        _refuse_self_lockout(actor, post=post)
    if active == post.active:
        return post
    if active:
        _check_cug_free(post.cug_number, except_post=post)
    post.active = active
    ended = 0 if active else sessions.revoke_all(post_id=post.id, reason="post_deactivated")
    db.session.flush()
    audit.record(
        "admin.post_activated" if active else "admin.post_deactivated",
        actor=actor,
        target=post,
        unit=post.unit,
        detail={"sessions_ended": ended},
    )
    return post


def create_officer(
    actor: Principal, *, pno: str, name: str, rank: str, unit: Unit, name_hi: str = ""
) -> Officer:
    """Register an officer managed by ``unit`` (a district, or the state); ``name_hi`` is the name
    in Devanagari that Hindi pages show (optional)."""
    _check_in_scope(actor, unit)
    pno = (pno or "").strip().upper()
    if not PNO_PATTERN.fullmatch(pno):
        raise AccountError(_l("A PNO has 4 to 20 letters and digits."))
    _check_sms_safe(name, rank, name_hi)
    if db.session.scalar(select(Officer.id).where(Officer.pno == pno)) is not None:
        raise AccountError(_l("An officer with that PNO already exists."))
    name, name_hi = _name(name, "name"), _name(name_hi, "name_hi", required=False)
    officer = Officer(pno=pno, name=name, name_hi=name_hi, rank=rank.strip(), unit=unit)
    db.session.add(officer)
    db.session.flush()
    audit.record(
        "admin.officer_created", actor=actor, target=officer, unit=unit, detail={"pno": pno}
    )
    return officer


def _check_officer_in_scope(actor: Principal, officer: Officer) -> None:
    _check_in_scope(actor, officer.unit)


def rename_officer(actor: Principal, officer: Officer, *, name: str, name_hi: str) -> Officer:
    """Correct an officer's name or Hindi name (the names themselves are not audited, only which
    changed: the PNO identifies the officer in the trail)."""
    _check_officer_in_scope(actor, officer)
    _check_sms_safe(name, name_hi)
    name, name_hi = _name(name, "name"), _name(name_hi, "name_hi", required=False)
    changed = [
        field
        for field, value in (("name", name), ("name_hi", name_hi))
        if getattr(officer, field) != value
    ]
    if not changed:
        return officer
    officer.name, officer.name_hi = name, name_hi
    db.session.flush()
    audit.record(
        "admin.officer_renamed",
        actor=actor,
        target=officer,
        unit=officer.unit,
        detail={"pno": officer.pno, "changed": changed},
    )
    return officer


def assign(actor: Principal, officer: Officer, post: Post) -> PostAssignment:
    """Let ``officer`` sign in through ``post`` (a station post may have several officers)."""
    _check_officer_in_scope(actor, officer)
    _check_in_scope(actor, post.unit)
    if current_assignment(officer, post) is not None:
        raise AccountError(_l("The officer already holds this post."))
    assignment = PostAssignment(officer=officer, post=post)
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        "admin.officer_assigned",
        actor=actor,
        target=post,
        unit=post.unit,
        detail={"pno": officer.pno},
    )
    return assignment


def unassign(actor: Principal, officer: Officer, post: Post) -> None:
    """End ``officer``'s hold on ``post``; their sessions on it end at once."""
    _check_officer_in_scope(actor, officer)
    _check_in_scope(actor, post.unit)
    if officer.id == actor.officer.id and post.id == actor.post.id:
        _refuse_self_lockout(actor, post=post)
    assignment = current_assignment(officer, post)
    if assignment is None:
        raise AccountError(_l("The officer does not hold this post."))
    assignment.ended_at = utcnow()
    ended = sessions.revoke_all(officer_id=officer.id, post_id=post.id, reason="unassigned")
    db.session.flush()
    audit.record(
        "admin.officer_unassigned",
        actor=actor,
        target=post,
        unit=post.unit,
        detail={"pno": officer.pno, "sessions_ended": ended},
    )


def current_assignment(officer: Officer, post: Post) -> PostAssignment | None:
    return db.session.scalar(
        select(PostAssignment).where(
            PostAssignment.officer_id == officer.id,
            PostAssignment.post_id == post.id,
            PostAssignment.ended_at.is_(None),
        )
    )


def set_officer_active(actor: Principal, officer: Officer, active: bool) -> Officer:
    """Deactivate (ending every session) or reactivate an officer."""
    _check_officer_in_scope(actor, officer)
    if not active:
        _refuse_self_lockout(actor, officer=officer)
    if officer.active == active:
        return officer
    officer.active = active
    ended = (
        0 if active else sessions.revoke_all(officer_id=officer.id, reason="officer_deactivated")
    )
    db.session.flush()
    audit.record(
        "admin.officer_activated" if active else "admin.officer_deactivated",
        actor=actor,
        target=officer,
        unit=officer.unit,
        detail={"pno": officer.pno, "sessions_ended": ended},
    )
    return officer


def issue_setup_code(actor: Principal, officer: Officer) -> str:
    """A one-time code with which the officer sets a (new) password; shown once to the admin.

    Issuing one for an officer who has a password is a password reset: the old password stops
    working and the officer's sessions end.
    """
    _check_officer_in_scope(actor, officer)
    code = "".join(secrets.choice(SETUP_CODE_ALPHABET) for _ in range(12))
    was_reset = officer.password_hash is not None
    officer.setup_code_hash = _setup_hash(officer.pno, code)
    officer.setup_code_expires_at = utcnow() + SETUP_CODE_LIFETIME
    officer.password_hash = None
    ended = sessions.revoke_all(officer_id=officer.id, reason="password_reset") if was_reset else 0
    db.session.flush()
    audit.record(
        "admin.password_reset" if was_reset else "admin.setup_code_issued",
        actor=actor,
        target=officer,
        unit=officer.unit,
        detail={"pno": officer.pno, "sessions_ended": ended},
    )
    return format_setup_code(code)


def format_setup_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _setup_hash(pno: str, code: str) -> str:
    cleaned = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(f"{pno}:{cleaned}".encode()).hexdigest()


def set_password_with_setup_code(
    pno: str, code: str, password: str, *, ip_address: str = ""
) -> Officer | None:
    """Set a password with a valid, unexpired setup code; the code then stops working.

    Returns None (never saying which part was wrong) when the PNO or code does not match.
    ``ip_address`` is the client's, for the audit trail.
    """
    pno = (pno or "").strip().upper()
    if not PNO_PATTERN.fullmatch(pno) or len(code or "") > 40:
        return None
    officer = db.session.scalar(select(Officer).where(Officer.pno == pno, Officer.active.is_(True)))
    expected = officer.setup_code_hash if officer else None
    given = _setup_hash(pno, code or "")
    if (
        officer is None
        or expected is None
        or not hmac.compare_digest(expected, given)
        or officer.setup_code_expires_at is None
        or officer.setup_code_expires_at < utcnow()
    ):
        # Whatever was typed as a PNO may be a phone number: never store one whole.
        audit.record(
            "auth.setup_failed",
            outcome="failure",
            ip_address=ip_address,
            detail={"pno": audit.redact_mobiles(pno)},
        )
        return None
    check_password_strength(password, officer)
    officer.password_hash = generate_password_hash(password)
    officer.password_set_at = utcnow()
    officer.setup_code_hash = None
    officer.setup_code_expires_at = None
    db.session.flush()
    audit.record(
        "auth.password_set",
        officer=officer,
        target=officer,
        unit=officer.unit,
        ip_address=ip_address,
        detail={"pno": pno},
    )
    return officer


def check_password_strength(password: str, officer: Officer | None = None) -> None:
    """Refuse a weak password with the reason (``cplan.services.passwords``: length, common and
    breached passwords, the officer's PNO, name, CUG numbers, police words and place names)."""
    context = passwords.context_for(officer) if officer is not None else passwords.Context()
    reason = passwords.problem(password or "", context)
    if reason is not None:
        raise AccountError(reason)


def authenticate_officer(post: Post, pno: str, password: str) -> Officer | None:
    """The officer holding ``post`` with this PNO and password, or None (one generic failure)."""
    pno = (pno or "").strip().upper()
    password = password or ""
    officer = None
    if PNO_PATTERN.fullmatch(pno) and len(password) <= 200:
        officer = db.session.scalar(select(Officer).where(Officer.pno == pno))
    stored = officer.password_hash if officer and officer.password_hash else _DUMMY_HASH
    password_ok = check_password_hash(stored, password)
    if (
        officer is None
        or not password_ok
        or officer.password_hash is None
        or not officer.active
        or current_assignment(officer, post) is None
    ):
        return None
    return officer
