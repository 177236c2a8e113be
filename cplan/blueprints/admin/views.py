"""Administration of people: posts (with their CUG numbers) and officers, within the admin's subtree.

An SP office manages its district, the state administrator everything. Posts are loaded by the
path of their unit and officers by the path of their managing unit, so a record outside the
administrator's subtree answers 404 exactly like one that does not exist. Every change goes
through ``cplan.services.accounts`` (which writes the audit event), then one commit, a flash
and a redirect; a refused change re-renders the form with the reason and changes nothing.
Every change also needs a fresh sign-in (the administrator's password within 10 minutes).
"""
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from cplan.blueprints.admin.forms import (
    ROLE_LABELS,
    AssignForm,
    ConfirmForm,
    CugForm,
    NewPostStartForm,
    OfficerFilterForm,
    OfficerForm,
    OfficerNamesForm,
    PostFilterForm,
    PostForm,
    role_label,
    select_choices,
)
from cplan.extensions import db
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.base import utcnow
from cplan.models.geo import Unit, UnitKind
from cplan.services import accounts, otp, sms_queue
from cplan.services.errors import NotInScope
from cplan.services.permissions import ROLE_UNIT_KINDS, Permission
from cplan.services.phone import mask_mobile
from cplan.services.places import query_key
from cplan.web.access import fresh_sign_in, requires
from cplan.web.errors import render_error
from cplan.web.templating import current_language

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50
PAGE_NUMBER = re.compile(r"[0-9]{1,6}")
# Kinds of unit that manage officers: a district's SP office, or the state administrator.
MANAGING_KINDS = (UnitKind.STATE, UnitKind.DISTRICT)


@bp.context_processor
def admin_helpers():
    """Role labels, masked numbers and a CSRF-only form for the one-button actions."""
    return {"role_label": role_label, "mask_mobile": mask_mobile, "confirm_form": ConfirmForm()}


@bp.errorhandler(NotInScope)
def not_in_scope(error):
    """A service found a record outside the administrator's subtree: nothing changes, and it
    looks exactly like a record that does not exist."""
    db.session.rollback()
    return render_error(404)


# ---- fresh sign-in ---------------------------------------------------------------------------
# Every change on these pages decides who can sign in where and with which powers, so each
# needs the administrator's password typed within the last minutes (``fresh_sign_in``). A
# refused POST is not replayed: the administrator comes back to the record's page.


def _back_to_post(post_id, **_ignored) -> str:
    return url_for("admin.post", post_id=post_id)


def _back_to_officer(officer_id, **_ignored) -> str:
    return url_for("admin.officer", officer_id=officer_id)


# ---- scoped loading ------------------------------------------------------------------------


def _scope() -> Unit:
    return current_user.unit


def _post_or_404(post_id: int) -> Post:
    post = db.session.scalar(
        select(Post).join(Post.unit).options(contains_eager(Post.unit))
        .where(Post.id == post_id, _scope().covers(Unit.path))
    )
    if post is None:
        abort(404)
    return post


def _officer_or_404(officer_id: int) -> Officer:
    officer = db.session.scalar(
        select(Officer).join(Officer.unit).options(contains_eager(Officer.unit))
        .where(Officer.id == officer_id, _scope().covers(Unit.path))
    )
    if officer is None:
        abort(404)
    return officer


def _unit_or_404(unit_id: int) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.id == unit_id, _scope().covers(Unit.path)))
    if unit is None:
        abort(404)
    return unit


def _officer_by_pno(pno: str) -> Officer | None:
    return db.session.scalar(
        select(Officer).join(Officer.unit)
        .where(Officer.pno == (pno or "").strip().upper(), _scope().covers(Unit.path))
    )


def _page() -> int:
    value = request.args.get("page", "")
    return max(1, int(value)) if PAGE_NUMBER.fullmatch(value) else 1


def _id_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if PAGE_NUMBER.fullmatch(value) else None


def _contains(column, text: str):
    return func.lower(column).contains(text.lower(), autoescape=True)


# ---- posts ---------------------------------------------------------------------------------


@bp.get("/posts", endpoint="posts")
@requires(Permission.MANAGE_ACCOUNTS)
def list_posts():
    """List the posts in the administrator's subtree, filtered by role, unit or title, and status."""
    form = PostFilterForm(formdata=request.args)
    statement = (
        select(Post).join(Post.unit).options(contains_eager(Post.unit))
        .where(_scope().covers(Unit.path))
    )
    within = None
    if _id_arg("unit") is not None:
        within = _unit_or_404(_id_arg("unit"))
        statement = statement.where(within.covers(Unit.path))
    if form.validate():
        if form.role.data:
            statement = statement.where(Post.role == Role(form.role.data))
        if form.active.data:
            statement = statement.where(Post.active.is_(form.active.data == "yes"))
        text = (form.q.data or "").strip()
        if text:
            matches = [_contains(Unit.name_en, text), Unit.name_hi.contains(text, autoescape=True),
                       _contains(Post.title_en, text), Post.title_hi.contains(text, autoescape=True)]
            key = query_key(text)  # the script-neutral key: बड़ौत finds Baraut and back
            if key:
                matches.append(Unit.search_key.contains(key, autoescape=True))
            statement = statement.where(or_(*matches))
    statement = statement.order_by(Unit.path, Post.title_en, Post.id)
    pager = db.paginate(statement, page=_page(), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    holders = _current_holder_counts([post.id for post in pager.items])
    filters = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("admin/posts.html", form=form, pager=pager, holders=holders,
                           within=within, filters=filters)


def _current_holder_counts(post_ids: list[int]) -> dict[int, int]:
    """How many officers hold each post now (one grouped query for the page)."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(PostAssignment.post_id, func.count(PostAssignment.id))
        .where(PostAssignment.post_id.in_(post_ids), PostAssignment.ended_at.is_(None))
        .group_by(PostAssignment.post_id)
    )
    return dict(rows.all())


def _creatable_roles(scope: Unit) -> list[Role]:
    """Roles whose kind of unit exists at or below the administrator's unit."""
    return [
        role for role in ROLE_LABELS
        if any(UnitKind(kind).depth >= scope.kind.depth for kind in ROLE_UNIT_KINDS[role])
    ]


def _districts_in_scope() -> list[Unit]:
    return list(db.session.scalars(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, _scope().covers(Unit.path))
        .order_by(Unit.name_en)
    ))


def _unit_choices(root: Unit, kinds):
    """Active units of ``kinds`` under ``root``, labelled with their district when several."""
    language = current_language()
    units = list(db.session.scalars(
        select(Unit).where(root.covers(Unit.path), Unit.kind.in_(list(kinds)), Unit.active.is_(True))
        .order_by(Unit.name_en, Unit.id)
    ))
    districts = {}
    if root.kind.depth < UnitKind.DISTRICT.depth:
        districts = {unit.id: unit for unit in db.session.scalars(
            select(Unit).where(Unit.kind == UnitKind.DISTRICT, root.covers(Unit.path)))}
    choices = []
    for unit in units:
        label = unit.display_name(language)
        district = next((districts[i] for i in unit.ancestor_ids[:-1] if i in districts), None)
        if district is not None:
            label = f"{label} ({district.display_name(language)})"
        choices.append((unit.id, label))
    return select_choices(choices)


@bp.route("/posts/new", methods=["GET", "POST"], endpoint="new_post")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in()
def create_post():
    """Create a post: first its role (and district), then its titles, unit and CUG number."""
    scope = _scope()
    roles = _creatable_roles(scope)
    start = NewPostStartForm(formdata=request.args)
    start.role.choices = select_choices((role.value, ROLE_LABELS[role]) for role in roles)
    districts = _districts_in_scope() if scope.kind.depth < UnitKind.DISTRICT.depth else []
    start.within.choices = select_choices(
        [("", _("All districts"))] + [(d.id, d.display_name(current_language())) for d in districts])
    within = _unit_or_404(_id_arg("within")) if _id_arg("within") is not None else None
    if not request.args.get("role") or not start.validate():
        return render_template("admin/new_post_start.html", start=start, districts=districts)

    role = Role(start.role.data)
    kinds = ROLE_UNIT_KINDS[role]
    root = within if within is not None and all(UnitKind(k).depth >= UnitKind.DISTRICT.depth for k in kinds) else scope
    form = PostForm()
    form.unit.choices = _unit_choices(root, kinds)
    if form.validate_on_submit():
        unit = _unit_or_404(form.unit.data)
        try:
            post = accounts.create_post(current_user, title_en=form.title_en.data, title_hi=form.title_hi.data or "",
                                        role=role, unit=unit, cug=form.cug.data)
        except accounts.AccountError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Post “%(title)s” created.", title=post.title_en), "success")
            return redirect(url_for("admin.post", post_id=post.id))
    return render_template("admin/new_post.html", form=form, role=role, within=within if root is within else None)


def _post_page(post: Post, **overrides):
    """The post detail page; ``overrides`` gives a form with errors, or a refusal message."""
    assignments = list(db.session.scalars(
        select(PostAssignment).options(joinedload(PostAssignment.officer))
        .where(PostAssignment.post_id == post.id)
        .order_by(PostAssignment.started_at.desc(), PostAssignment.id.desc())
    ))
    context = {
        "post": post,
        "current": [a for a in assignments if a.ended_at is None],
        "past": [a for a in assignments if a.ended_at is not None],
        "locked": otp.is_locked(post.cug_number),
        "cug_notice": sms_queue.latest_for(post, "cug_changed") if post.cug_changed_at else None,
        "cug_form": overrides.get("cug_form") or CugForm(formdata=None),
        "assign_form": overrides.get("assign_form") or AssignForm(formdata=None),
        "error": overrides.get("error"),
        "scope": _scope(),
    }
    return render_template("admin/post.html", **context)


@bp.get("/posts/<int:post_id>", endpoint="post")
@requires(Permission.MANAGE_ACCOUNTS)
def show_post(post_id):
    """Show a post: its CUG number, who holds it now and who held it before."""
    return _post_page(_post_or_404(post_id))


@bp.post("/posts/<int:post_id>/cug", endpoint="post_cug")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def change_cug(post_id):
    """Give the post a new CUG number (its sessions end; the old number gets an SMS)."""
    post = _post_or_404(post_id)
    form = CugForm()
    if not form.validate_on_submit():
        return _post_page(post, cug_form=form)
    try:
        accounts.change_cug(current_user, post, form.cug.data)
    except accounts.AccountError as error:
        db.session.rollback()
        form.cug.errors.append(str(error))
        return _post_page(post, cug_form=form)
    db.session.commit()  # the notice to the old number goes out after this, never before
    flash(_("The CUG number was changed. Everyone signed in through this post has been signed out."), "success")
    return redirect(url_for("admin.post", post_id=post_id))  # post_id: nothing to reload after the commit


@bp.post("/posts/<int:post_id>/deactivate", endpoint="deactivate_post")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def deactivate_post(post_id):
    """Deactivate the post: nobody can sign in through it, its sessions end."""
    return _set_post_active(post_id, False)


@bp.post("/posts/<int:post_id>/reactivate", endpoint="reactivate_post")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def reactivate_post(post_id):
    """Reactivate the post (refused if its CUG number now belongs to another active post)."""
    return _set_post_active(post_id, True)


def _set_post_active(post_id: int, active: bool):
    post = _post_or_404(post_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_post_active(current_user, post, active)
    except accounts.AccountError as error:
        db.session.rollback()
        return _post_page(post, error=str(error))
    db.session.commit()
    flash(_("The post is active again.") if active else _("The post is deactivated; its sessions have ended."),
          "success")
    return redirect(url_for("admin.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/unlock", endpoint="unlock_cug")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def unlock_cug(post_id):
    """Lift the lock that too many failed sign-ins put on the post's CUG number."""
    post = _post_or_404(post_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    was_locked = otp.unlock(post.cug_number, officer=current_user.officer, post=current_user.post,
                            ip=current_user.ip_address)  # writes its own audit event
    db.session.commit()
    flash(_("The CUG number is unlocked; a new code can be requested now.") if was_locked
          else _("The CUG number was not locked."), "success" if was_locked else "info")
    return redirect(url_for("admin.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/assign", endpoint="assign")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def assign_officer(post_id):
    """Let an officer (found by PNO among those the administrator manages) sign in through the post."""
    post = _post_or_404(post_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _post_page(post, assign_form=form)
    officer = _officer_by_pno(form.pno.data)
    if officer is None:
        form.pno.errors.append(_("No officer with that PNO is managed in your area."))
        return _post_page(post, assign_form=form)
    try:
        accounts.assign(current_user, officer, post)
    except accounts.AccountError as error:
        db.session.rollback()
        form.pno.errors.append(str(error))
        return _post_page(post, assign_form=form)
    db.session.commit()
    flash(_("%(name)s (%(pno)s) now holds this post.", name=officer.display_name(current_language()), pno=officer.pno), "success")
    return redirect(url_for("admin.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/officers/<int:officer_id>/unassign", endpoint="unassign")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def unassign_officer(post_id, officer_id):
    """End the officer's hold on the post; their sessions through it end at once."""
    post = _post_or_404(post_id)
    officer = _officer_or_404(officer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.unassign(current_user, officer, post)
    except accounts.AccountError as error:
        db.session.rollback()
        return _post_page(post, error=str(error))
    db.session.commit()
    flash(_("%(name)s (%(pno)s) no longer holds this post.", name=officer.display_name(current_language()), pno=officer.pno), "success")
    return redirect(url_for("admin.post", post_id=post.id))


# ---- officers ------------------------------------------------------------------------------


@bp.get("/officers", endpoint="officers")
@requires(Permission.MANAGE_ACCOUNTS)
def list_officers():
    """List the officers the administrator manages, found by PNO or name."""
    form = OfficerFilterForm(formdata=request.args)
    statement = (
        select(Officer).join(Officer.unit).options(contains_eager(Officer.unit))
        .where(_scope().covers(Unit.path))
    )
    if form.validate() and (form.q.data or "").strip():
        text = form.q.data.strip()
        statement = statement.where(or_(Officer.pno == text.upper(), _contains(Officer.pno, text),
                                        _contains(Officer.name, text), _contains(Officer.name_hi, text)))
    statement = statement.order_by(Officer.name, Officer.pno)
    pager = db.paginate(statement, page=_page(), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    posts_held = _current_posts([officer.id for officer in pager.items])
    filters = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("admin/officers.html", form=form, pager=pager, posts_held=posts_held, filters=filters)


def _current_posts(officer_ids: list[int]) -> dict[int, list[Post]]:
    """The posts each officer holds now (one query for the page)."""
    held: dict[int, list[Post]] = {}
    if not officer_ids:
        return held
    rows = db.session.execute(
        select(PostAssignment.officer_id, Post).join(PostAssignment.post)
        .where(PostAssignment.officer_id.in_(officer_ids), PostAssignment.ended_at.is_(None))
        .order_by(Post.title_en)
    )
    for officer_id, post in rows:
        held.setdefault(officer_id, []).append(post)
    return held


def _managing_unit_choices():
    """The state (for a state administrator) first, then the districts of the subtree by name."""
    language = current_language()
    units = db.session.scalars(
        select(Unit).where(_scope().covers(Unit.path), Unit.kind.in_(MANAGING_KINDS), Unit.active.is_(True))
        .order_by(Unit.name_en, Unit.id)
    )
    units = sorted(units, key=lambda unit: unit.kind != UnitKind.STATE)
    return select_choices((unit.id, unit.display_name(language)) for unit in units)


@bp.route("/officers/new", methods=["GET", "POST"], endpoint="new_officer")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in()
def create_officer():
    """Register an officer managed by the administrator's district (or, for the state, any district)."""
    form = OfficerForm()
    form.unit.choices = _managing_unit_choices()
    if request.method == "GET" and len(form.unit.choices) == 1:
        form.unit.data = form.unit.choices[0].value
    if form.validate_on_submit():
        unit = _unit_or_404(form.unit.data)
        try:
            officer = accounts.create_officer(current_user, pno=form.pno.data, name=form.name.data,
                                              name_hi=form.name_hi.data or "", rank=form.rank.data or "", unit=unit)
        except accounts.AccountError as error:
            db.session.rollback()
            getattr(form, error.field or "pno").errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Officer %(name)s (%(pno)s) registered. Issue a setup code so they can set a password.",
                    name=officer.display_name(current_language()), pno=officer.pno), "success")
            return redirect(url_for("admin.officer", officer_id=officer.id))
    return render_template("admin/new_officer.html", form=form)


def _officer_page(officer: Officer, error: str | None = None, names_form: OfficerNamesForm | None = None):
    assignments = list(db.session.scalars(
        select(PostAssignment).options(joinedload(PostAssignment.post).joinedload(Post.unit))
        .where(PostAssignment.officer_id == officer.id)
        .order_by(PostAssignment.started_at.desc(), PostAssignment.id.desc())
    ))
    setup_pending = bool(officer.setup_code_hash and officer.setup_code_expires_at
                         and officer.setup_code_expires_at > utcnow())
    if names_form is None:
        names_form = OfficerNamesForm(formdata=None, obj=officer)
    return render_template(
        "admin/officer.html", officer=officer, scope=_scope(), error=error, setup_pending=setup_pending,
        names_form=names_form,
        current=[a for a in assignments if a.ended_at is None],
        past=[a for a in assignments if a.ended_at is not None],
    )


@bp.get("/officers/<int:officer_id>", endpoint="officer")
@requires(Permission.MANAGE_ACCOUNTS)
def show_officer(officer_id):
    """Show an officer: posts held now and before, and whether a password and authenticator are set."""
    return _officer_page(_officer_or_404(officer_id))


@bp.post("/officers/<int:officer_id>/names", endpoint="officer_names")
@requires(Permission.MANAGE_ACCOUNTS)
def rename_officer(officer_id):
    """Correct the officer's name or add their name in Hindi."""
    officer = _officer_or_404(officer_id)
    form = OfficerNamesForm()
    if not form.validate_on_submit():
        return _officer_page(officer, names_form=form), 400
    try:
        accounts.rename_officer(current_user, officer, name=form.name.data, name_hi=form.name_hi.data or "")
    except accounts.AccountError as error:
        db.session.rollback()
        errors = getattr(form, error.field).errors if error.field else form.form_errors
        errors.append(str(error))
        return _officer_page(officer, names_form=form), 400
    db.session.commit()
    flash(_("The officer's names are saved."), "success")
    return redirect(url_for("admin.officer", officer_id=officer.id))


@bp.post("/officers/<int:officer_id>/setup-code", endpoint="setup_code")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_officer)
def issue_setup_code(officer_id):
    """Issue a one-time setup code (a password reset if one is set) and show it once."""
    officer = _officer_or_404(officer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    was_reset = officer.password_hash is not None
    try:
        code = accounts.issue_setup_code(current_user, officer)
    except accounts.AccountError as error:
        db.session.rollback()
        return _officer_page(officer, error=str(error))
    db.session.commit()
    # Rendered straight into this response: never flashed, so it never sits in the session cookie.
    return render_template("admin/setup_code.html", officer=officer, code=code, was_reset=was_reset)


@bp.post("/officers/<int:officer_id>/deactivate", endpoint="deactivate_officer")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_officer)
def deactivate_officer(officer_id):
    """Deactivate the officer: every session of theirs ends and they cannot sign in."""
    return _set_officer_active(officer_id, False)


@bp.post("/officers/<int:officer_id>/reactivate", endpoint="reactivate_officer")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_officer)
def reactivate_officer(officer_id):
    """Reactivate the officer."""
    return _set_officer_active(officer_id, True)


def _set_officer_active(officer_id: int, active: bool):
    officer = _officer_or_404(officer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_officer_active(current_user, officer, active)
    except accounts.AccountError as error:
        db.session.rollback()
        return _officer_page(officer, error=str(error))
    db.session.commit()
    flash(_("The officer is active again.") if active
          else _("The officer is deactivated; all their sessions have ended."), "success")
    return redirect(url_for("admin.officer", officer_id=officer.id))
