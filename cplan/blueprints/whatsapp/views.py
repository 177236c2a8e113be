"""WhatsApp group pages (``/whatsapp-groups``): a station's groups, reconciling one with the
approved roster, a reconciliation's three lists, and the split of the roster by village.

Thin views: form -> ``cplan.pipelines.whatsapp_members`` (reading the upload) ->
``cplan.services.whatsapp_groups`` -> one commit -> flash -> redirect. Groups, reconciliations
and stations are loaded within the post's subtree: out of scope is 404. The two vCard downloads
carry full numbers: they are POST buttons (a prefetch must not spend an export), need a fresh
sign-in and count against the officer's daily limit like the roster export.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.whatsapp.forms import ButtonForm, GroupForm, ReconcileForm
from cplan.extensions import db
from cplan.pipelines import roster_export, whatsapp_members
from cplan.services import audit, roster
from cplan.services import whatsapp_groups as groups
from cplan.services.errors import DomainError
from cplan.services.permissions import Permission
from cplan.web.access import fresh_sign_in, requires
from cplan.web.errors import explain
from cplan.web.kit import download, field_error, id_arg
from cplan.web.templating import current_language

bp = Blueprint("whatsapp", __name__, url_prefix="/whatsapp-groups")


def _station_arg():
    """The station named by ``?station=`` (in scope, else 404), or the post's own station."""
    station_id = id_arg("station")
    if station_id is not None:
        return groups.station_in_scope(current_user, station_id)
    stations = groups.stations_in_scope(current_user)
    return stations[0] if current_user.unit.kind.value == "station" and stations else None


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_ROSTER)
def list_groups():
    """The WhatsApp groups of the post's area (``?station=`` for one station)."""
    station_id = id_arg("station")
    station = groups.station_in_scope(current_user, station_id) if station_id else None
    return render_template(
        "whatsapp/index.html",
        station=station,
        groups=groups.groups_in_scope(current_user, station),
        stations=groups.stations_in_scope(current_user),
        can_manage=current_user.can(Permission.MANAGE_WHATSAPP_GROUPS),
    )


def _admin_choices(form: GroupForm, station) -> None:
    form.admin_post.choices = [
        (post.id, post.display_title(current_language())) for post in groups.station_posts(station)
    ]


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires(Permission.MANAGE_WHATSAPP_GROUPS)
def create_group():
    """Add a WhatsApp group of a station: its name, admin officer and purpose."""
    station = _station_arg()
    if station is None:
        return redirect(url_for("whatsapp.index"))
    form = GroupForm()
    _admin_choices(form, station)
    if request.method == "GET" and current_user.post.unit_id == station.id:
        form.admin_post.data = current_user.post.id  # the post adding it runs it, most often
    if form.validate_on_submit():
        try:
            group = groups.create_group(
                current_user,
                station,
                name=form.name.data,
                purpose=form.purpose.data or "",
                admin_post_id=form.admin_post.data,
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The group is saved. Reconcile it with the roster next."), "success")
            return redirect(url_for("whatsapp.show", group_id=group.id))
    status = 400 if request.method == "POST" else 200
    return render_template("whatsapp/edit.html", form=form, station=station, group=None), status


@bp.get("/<int:group_id>", endpoint="show")
@requires(Permission.VIEW_ROSTER)
def show_group(group_id):
    """One group: its details, the upload to reconcile it, and its past reconciliations."""
    group = groups.get_group(current_user, group_id)
    return _group_page(group, ReconcileForm()), 200


def _group_page(group, form):
    return render_template(
        "whatsapp/show.html",
        group=group,
        form=form,
        retire_form=ButtonForm(),
        records=groups.reconciliations_of(group),
        can_manage=current_user.can(Permission.MANAGE_WHATSAPP_GROUPS),
        limits={"megabytes": whatsapp_members.MAX_FILE_BYTES // (1024 * 1024)},
    )


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"], endpoint="edit")
@requires(Permission.MANAGE_WHATSAPP_GROUPS)
def edit_group(group_id):
    """Change a group's name, admin officer or purpose."""
    group = groups.get_group(current_user, group_id)
    form = GroupForm(obj=None if request.method == "POST" else group)
    if request.method == "GET":
        form.admin_post.data = group.admin_post_id
    _admin_choices(form, group.station)
    if form.validate_on_submit():
        try:
            groups.edit_group(
                current_user,
                group,
                name=form.name.data,
                purpose=form.purpose.data or "",
                admin_post_id=form.admin_post.data,
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The group is saved."), "success")
            return redirect(url_for("whatsapp.show", group_id=group.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "whatsapp/edit.html", form=form, station=group.station, group=group
    ), status


@bp.post("/<int:group_id>/retire", endpoint="retire")
@requires(Permission.MANAGE_WHATSAPP_GROUPS)
def retire_group(group_id):
    """Retire a group (it is kept with its reconciliations)."""
    group = groups.get_group(current_user, group_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("whatsapp.show", group_id=group.id))
    try:
        groups.retire_group(current_user, group)
    except DomainError as error:
        db.session.rollback()
        flash(explain(error), "error")
    else:
        db.session.commit()
        flash(_("The group is retired."), "success")
    return redirect(url_for("whatsapp.show", group_id=group.id))


@bp.post("/<int:group_id>/reconcile", endpoint="reconcile")
@requires(Permission.MANAGE_WHATSAPP_GROUPS)
def reconcile_group(group_id):
    """Read the members from the upload or the paste and compare them with the roster."""
    group = groups.get_group(current_user, group_id)
    form = ReconcileForm()
    if not form.validate_on_submit():
        return _group_page(group, form), 400
    storage = form.file.data
    pasted = (form.paste.data or "").strip()
    try:
        if storage and storage.filename:
            filename = storage.filename
            data = storage.read(whatsapp_members.MAX_FILE_BYTES + 1)
            member_list = whatsapp_members.read_upload(filename, data)
        elif pasted:
            filename = ""
            member_list = whatsapp_members.read_text(pasted)
        else:
            form.file.errors = [_("Choose a file or paste the numbers.")]
            return _group_page(group, form), 400
        record = groups.reconcile(current_user, group, member_list, filename)
    except DomainError as error:
        db.session.rollback()
        field_error(form, error, "file")
        return _group_page(group, form), 400
    db.session.commit()
    flash(
        _(
            "Reconciled: %(missing)s approved contacts are missing from the group, %(extra)s "
            "members are not on the roster, %(unmatched)s could not be matched.",
            missing=record.missing_count,
            extra=record.not_on_roster_count,
            unmatched=record.unmatched_count,
        ),
        "success",
    )
    return redirect(url_for("whatsapp.reconciliation", reconciliation_id=record.id))


@bp.get("/reconciliations/<int:reconciliation_id>", endpoint="reconciliation")
@requires(Permission.VIEW_ROSTER)
def show_reconciliation(reconciliation_id):
    """A reconciliation's three lists: missing contacts, members not on the roster, names."""
    record = groups.get_reconciliation(current_user, reconciliation_id)
    missing = groups.missing_contacts(current_user, record)
    full = roster.sees_full_numbers(current_user)
    page = render_template(
        "whatsapp/reconciliation.html",
        record=record,
        group=record.group,
        missing=missing,
        full=full,
        members_full=current_user.can(Permission.MANAGE_WHATSAPP_GROUPS),
        export_form=ButtonForm(),
        can_export=current_user.can(Permission.EXPORT_ROSTER),
    )
    groups.record_view(current_user, record, shown=len(missing), full_numbers=full)
    db.session.commit()
    return page


def _limit_refused(error, target, what: str) -> None:
    db.session.rollback()
    # Kept, so the SP office sees who tried to export beyond the limit.
    audit.record(
        "roster.export_refused",
        actor=current_user,
        outcome="denied",
        target=target,
        detail={"format": "vcf", "reason": what, "limit": error.limit},
    )
    db.session.commit()
    flash(explain(error), "error")


@bp.post("/reconciliations/<int:reconciliation_id>/missing.vcf", endpoint="missing_vcard")
@requires(Permission.EXPORT_ROSTER)
@fresh_sign_in(
    back=lambda reconciliation_id: url_for(
        "whatsapp.reconciliation", reconciliation_id=reconciliation_id
    )
)
def download_missing(reconciliation_id):
    """The missing contacts as a vCard file, to add them to the group (an export)."""
    record = groups.get_reconciliation(current_user, reconciliation_id)
    back = url_for("whatsapp.reconciliation", reconciliation_id=record.id)
    if not ButtonForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(back)
    contacts = groups.missing_contacts(current_user, record)
    try:
        result = whatsapp_members.missing_vcard(current_user, record, contacts, current_language())
    except roster_export.ExportLimitReached as error:
        _limit_refused(error, record, "whatsapp_missing")
        return redirect(back)
    db.session.commit()
    return download(result.filename, result.mimetype, result.content)


@bp.get("/split", endpoint="split")
@requires(Permission.VIEW_ROSTER)
def show_split():
    """The station's approved roster split into groups of at most 1,024, by village."""
    station = _station_arg()
    if station is None:
        return redirect(url_for("whatsapp.index"))
    return render_template(
        "whatsapp/split.html",
        plan=groups.split_roster(current_user, station),
        export_form=ButtonForm(),
        can_export=current_user.can(Permission.EXPORT_ROSTER),
    )


@bp.get("/split.csv", endpoint="split_csv")
@requires(Permission.VIEW_ROSTER)
def download_split():
    """The split as CSV: group, village and number of contacts (no names, no numbers)."""
    station = _station_arg()
    if station is None:
        return redirect(url_for("whatsapp.index"))
    plan = groups.split_roster(current_user, station)
    return download(*whatsapp_members.split_csv(plan, current_language()))


@bp.post("/split/<int:number>.vcf", endpoint="split_vcard")
@requires(Permission.EXPORT_ROSTER)
@fresh_sign_in(back=lambda number: url_for("whatsapp.split", **request.args))
def download_split_group(number):
    """One planned group's contacts as a vCard file (an export)."""
    station = _station_arg()
    if station is None:
        return redirect(url_for("whatsapp.index"))
    back = url_for("whatsapp.split", station=station.id)
    if not ButtonForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(back)
    plan = groups.split_roster(current_user, station)
    try:
        result = whatsapp_members.planned_group_vcard(
            current_user, plan, number, current_language()
        )
    except roster_export.ExportLimitReached as error:
        _limit_refused(error, station, "whatsapp_split")
        return redirect(back)
    db.session.commit()
    return download(result.filename, result.mimetype, result.content)
