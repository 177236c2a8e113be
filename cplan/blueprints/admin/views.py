"""Administration of people: posts (with their CUG numbers) and officers, within the admin's
subtree.

An SP office manages its district, the state administrator everything. Posts, officers and
units are read through ``cplan.services.directory`` (posts by the path of their unit, officers by
that of their managing unit), so a record outside the administrator's subtree answers 404
exactly like one that does not exist. Every change goes
through ``cplan.services.accounts`` (which writes the audit event), then one commit, a flash
and a redirect; a refused change re-renders the form with the reason and changes nothing.
Every change also needs a fresh sign-in (the administrator's password within 10 minutes).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

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
)
from cplan.extensions import db
from cplan.models.accounts import Officer, Post, Role
from cplan.models.base import utcnow
from cplan.models.geo import Unit, UnitKind
from cplan.services import accounts, directory, otp, sms_queue
from cplan.services.permissions import ROLE_UNIT_KINDS, Permission
from cplan.web.access import fresh_sign_in, requires
from cplan.web.errors import explain
from cplan.web.kit import choices, field_error, id_arg, page_arg
from cplan.web.templating import current_language

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


@bp.context_processor
def admin_helpers():
    """The admin pages' own helpers: role labels and a CSRF-only form for the one-button actions
    (app-wide helpers, such as masked numbers, are ``cplan.web.templating``'s)."""
    return {"role_label": role_label, "confirm_form": ConfirmForm()}


# ---- fresh sign-in ---------------------------------------------------------------------------
# Every change on these pages decides who can sign in where and with which powers, so each
# needs the administrator's password typed within the last minutes (``fresh_sign_in``). A
# refused POST is not replayed: the administrator comes back to the record's page.


def _back_to_post(post_id, **_ignored) -> str:
    return url_for("admin.post", post_id=post_id)


def _back_to_officer(officer_id, **_ignored) -> str:
    return url_for("admin.officer", officer_id=officer_id)


# ---- loading in scope ------------------------------------------------------------------------
# Posts, officers and units are loaded through ``cplan.services.directory``: one outside the
# administrator's subtree raises NotInScope, which answers 404 (``cplan.web.errors``).


# ---- posts ---------------------------------------------------------------------------------


@bp.get("/posts", endpoint="posts")
@requires(Permission.MANAGE_ACCOUNTS)
def list_posts():
    """List the posts in the administrator's subtree, filtered by role, unit or title, and
    status."""
    form = PostFilterForm(formdata=request.args)
    within = (
        directory.get_unit(current_user, id_arg("unit")) if id_arg("unit") is not None else None
    )
    filters = (
        {"role": form.role.data or "", "active": form.active.data or "", "text": form.q.data or ""}
        if form.validate()
        else {}
    )
    statement = directory.find_posts(current_user, within=within, **filters)
    pager = db.paginate(
        statement, page=page_arg(), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False
    )
    holders = directory.holder_counts([post.id for post in pager.items])
    filters = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "admin/posts.html", form=form, pager=pager, holders=holders, within=within, filters=filters
    )


def _unit_choices(root: Unit, kinds):
    """Active units of ``kinds`` under ``root``, labelled with their district when several."""
    language = current_language()
    labelled = []
    for unit, district in directory.units_for_posts(root, kinds):
        label = unit.display_name(language)
        if district is not None:
            label = f"{label} ({district.display_name(language)})"
        labelled.append((unit.id, label))
    return choices(labelled)


@bp.route("/posts/new", methods=["GET", "POST"], endpoint="new_post")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in()
def create_post():
    """Create a post: first its role (and district), then its titles, unit and CUG number."""
    scope = current_user.unit
    roles = directory.creatable_roles(current_user, ROLE_LABELS)
    start = NewPostStartForm(formdata=request.args)
    start.role.choices = choices((role.value, ROLE_LABELS[role]) for role in roles)
    districts = (
        directory.districts_in_scope(current_user)
        if scope.kind.depth < UnitKind.DISTRICT.depth
        else []
    )
    start.within.choices = choices(
        [("", _("All districts"))] + [(d.id, d.display_name(current_language())) for d in districts]
    )
    within = (
        directory.get_unit(current_user, id_arg("within")) if id_arg("within") is not None else None
    )
    if not request.args.get("role") or not start.validate():
        return render_template("admin/new_post_start.html", start=start, districts=districts)

    role = Role(start.role.data)
    kinds = ROLE_UNIT_KINDS[role]
    root = (
        within
        if within is not None and all(UnitKind(k).depth >= UnitKind.DISTRICT.depth for k in kinds)
        else scope
    )
    form = PostForm()
    form.unit.choices = _unit_choices(root, kinds)
    if form.validate_on_submit():
        unit = directory.get_unit(current_user, form.unit.data)
        try:
            post = accounts.create_post(
                current_user,
                title_en=form.title_en.data,
                title_hi=form.title_hi.data or "",
                role=role,
                unit=unit,
                cug=form.cug.data,
            )
        except accounts.AccountError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Post “%(title)s” created.", title=post.title_en), "success")
            return redirect(url_for("admin.post", post_id=post.id))
    return render_template(
        "admin/new_post.html", form=form, role=role, within=within if root is within else None
    )


def _post_page(post: Post, **overrides):
    """The post detail page; ``overrides`` gives a form with errors, or a refusal message."""
    assignments = directory.assignments_of_post(post)
    context = {
        "post": post,
        "current": [a for a in assignments if a.ended_at is None],
        "past": [a for a in assignments if a.ended_at is not None],
        "locked": otp.is_locked(post.cug_number),
        "cug_notice": sms_queue.latest_for(post, "cug_changed") if post.cug_changed_at else None,
        "cug_form": overrides.get("cug_form") or CugForm(formdata=None),
        "assign_form": overrides.get("assign_form") or AssignForm(formdata=None),
        "error": overrides.get("error"),
        "scope": current_user.unit,
    }
    return render_template("admin/post.html", **context)


@bp.get("/posts/<int:post_id>", endpoint="post")
@requires(Permission.MANAGE_ACCOUNTS)
def show_post(post_id):
    """Show a post: its CUG number, who holds it now and who held it before."""
    return _post_page(directory.get_post(current_user, post_id))


@bp.post("/posts/<int:post_id>/cug", endpoint="post_cug")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def change_cug(post_id):
    """Give the post a new CUG number (its sessions end; the old number gets an SMS)."""
    post = directory.get_post(current_user, post_id)
    form = CugForm()
    if not form.validate_on_submit():
        return _post_page(post, cug_form=form)
    try:
        accounts.change_cug(current_user, post, form.cug.data)
    except accounts.AccountError as error:
        db.session.rollback()
        field_error(form, error, "cug")
        return _post_page(post, cug_form=form)
    db.session.commit()  # the notice to the old number goes out after this, never before
    flash(
        _("The CUG number was changed. Everyone signed in through this post has been signed out."),
        "success",
    )
    return redirect(
        url_for("admin.post", post_id=post_id)
    )  # post_id: nothing to reload after the commit


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
    post = directory.get_post(current_user, post_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_post_active(current_user, post, active)
    except accounts.AccountError as error:
        db.session.rollback()
        return _post_page(post, error=explain(error))
    db.session.commit()
    flash(
        _("The post is active again.")
        if active
        else _("The post is deactivated; its sessions have ended."),
        "success",
    )
    return redirect(url_for("admin.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/unlock", endpoint="unlock_cug")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def unlock_cug(post_id):
    """Lift the lock that too many failed sign-ins put on the post's CUG number."""
    post = directory.get_post(current_user, post_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    was_locked = otp.unlock(
        post.cug_number,
        officer=current_user.officer,
        post=current_user.post,
        ip=current_user.ip_address,
    )  # writes its own audit event
    db.session.commit()
    flash(
        _("The CUG number is unlocked; a new code can be requested now.")
        if was_locked
        else _("The CUG number was not locked."),
        "success" if was_locked else "info",
    )
    return redirect(url_for("admin.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/assign", endpoint="assign")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def assign_officer(post_id):
    """Let an officer (found by PNO among those the administrator manages) sign in through the
    post."""
    post = directory.get_post(current_user, post_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _post_page(post, assign_form=form)
    officer = directory.officer_by_pno(current_user, form.pno.data)
    if officer is None:
        form.pno.errors.append(_("No officer with that PNO is managed in your area."))
        return _post_page(post, assign_form=form)
    try:
        accounts.assign(current_user, officer, post)
    except accounts.AccountError as error:
        db.session.rollback()
        field_error(form, error, "pno")
        return _post_page(post, assign_form=form)
    db.session.commit()
    flash(
        _(
            "%(name)s (%(pno)s) now holds this post.",
            name=officer.display_name(current_language()),
            pno=officer.pno,
        ),
        "success",
    )
    return redirect(url_for("admin.post", post_id=post.id))


@bp.post("/posts/<int:post_id>/officers/<int:officer_id>/unassign", endpoint="unassign")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_post)
def unassign_officer(post_id, officer_id):
    """End the officer's hold on the post; their sessions through it end at once."""
    post = directory.get_post(current_user, post_id)
    officer = directory.get_officer(current_user, officer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.unassign(current_user, officer, post)
    except accounts.AccountError as error:
        db.session.rollback()
        return _post_page(post, error=explain(error))
    db.session.commit()
    flash(
        _(
            "%(name)s (%(pno)s) no longer holds this post.",
            name=officer.display_name(current_language()),
            pno=officer.pno,
        ),
        "success",
    )
    return redirect(url_for("admin.post", post_id=post.id))


# ---- officers ------------------------------------------------------------------------------


@bp.get("/officers", endpoint="officers")
@requires(Permission.MANAGE_ACCOUNTS)
def list_officers():
    """List the officers the administrator manages, found by PNO or name."""
    form = OfficerFilterForm(formdata=request.args)
    text = (form.q.data or "") if form.validate() else ""
    statement = directory.find_officers(current_user, text)
    pager = db.paginate(
        statement, page=page_arg(), per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False
    )
    posts_held = directory.posts_held([officer.id for officer in pager.items])
    filters = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "admin/officers.html", form=form, pager=pager, posts_held=posts_held, filters=filters
    )


def _managing_unit_choices():
    """The state (for a state administrator) first, then the districts of the subtree by name."""
    language = current_language()
    return choices(
        (unit.id, unit.display_name(language)) for unit in directory.managing_units(current_user)
    )


@bp.route("/officers/new", methods=["GET", "POST"], endpoint="new_officer")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in()
def create_officer():
    """Register an officer managed by the administrator's district (or, for the state, any
    district)."""
    form = OfficerForm()
    form.unit.choices = _managing_unit_choices()
    if request.method == "GET" and len(form.unit.choices) == 1:
        form.unit.data = form.unit.choices[0].value
    if form.validate_on_submit():
        unit = directory.get_unit(current_user, form.unit.data)
        try:
            officer = accounts.create_officer(
                current_user,
                pno=form.pno.data,
                name=form.name.data,
                name_hi=form.name_hi.data or "",
                rank=form.rank.data or "",
                unit=unit,
            )
        except accounts.AccountError as error:
            db.session.rollback()
            field_error(form, error, "pno")
        else:
            db.session.commit()
            flash(
                _(
                    "Officer %(name)s (%(pno)s) registered. Issue a setup code so they can set a "
                    "password.",
                    name=officer.display_name(current_language()),
                    pno=officer.pno,
                ),
                "success",
            )
            return redirect(url_for("admin.officer", officer_id=officer.id))
    return render_template("admin/new_officer.html", form=form)


def _officer_page(
    officer: Officer, error: str | None = None, names_form: OfficerNamesForm | None = None
):
    assignments = directory.assignments_of_officer(officer)
    setup_pending = bool(
        officer.setup_code_hash
        and officer.setup_code_expires_at
        and officer.setup_code_expires_at > utcnow()
    )
    if names_form is None:
        names_form = OfficerNamesForm(formdata=None, obj=officer)
    return render_template(
        "admin/officer.html",
        officer=officer,
        scope=current_user.unit,
        error=error,
        setup_pending=setup_pending,
        names_form=names_form,
        current=[a for a in assignments if a.ended_at is None],
        past=[a for a in assignments if a.ended_at is not None],
    )


@bp.get("/officers/<int:officer_id>", endpoint="officer")
@requires(Permission.MANAGE_ACCOUNTS)
def show_officer(officer_id):
    """Show an officer: posts held now and before, and whether a password and authenticator are
    set."""
    return _officer_page(directory.get_officer(current_user, officer_id))


@bp.post("/officers/<int:officer_id>/names", endpoint="officer_names")
@requires(Permission.MANAGE_ACCOUNTS)
def rename_officer(officer_id):
    """Correct the officer's name or add their name in Hindi."""
    officer = directory.get_officer(current_user, officer_id)
    form = OfficerNamesForm()
    if not form.validate_on_submit():
        return _officer_page(officer, names_form=form), 400
    try:
        accounts.rename_officer(
            current_user, officer, name=form.name.data, name_hi=form.name_hi.data or ""
        )
    except accounts.AccountError as error:
        db.session.rollback()
        field_error(form, error)
        return _officer_page(officer, names_form=form), 400
    db.session.commit()
    flash(_("The officer's names are saved."), "success")
    return redirect(url_for("admin.officer", officer_id=officer.id))


@bp.post("/officers/<int:officer_id>/setup-code", endpoint="setup_code")
@requires(Permission.MANAGE_ACCOUNTS)
@fresh_sign_in(back=_back_to_officer)
def issue_setup_code(officer_id):
    """Issue a one-time setup code (a password reset if one is set) and show it once."""
    officer = directory.get_officer(current_user, officer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    was_reset = officer.password_hash is not None
    try:
        code = accounts.issue_setup_code(current_user, officer)
    except accounts.AccountError as error:
        db.session.rollback()
        return _officer_page(officer, error=explain(error))
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
    officer = directory.get_officer(current_user, officer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_officer_active(current_user, officer, active)
    except accounts.AccountError as error:
        db.session.rollback()
        return _officer_page(officer, error=explain(error))
    db.session.commit()
    flash(
        _("The officer is active again.")
        if active
        else _("The officer is deactivated; all their sessions have ended."),
        "success",
    )
    return redirect(url_for("admin.officer", officer_id=officer.id))
