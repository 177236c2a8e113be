"""Verification drives for the field app: the drives a post follows, a drive's tasks (cursor
paging, ``updated_since`` for a phone's sync), "verify next", and recording an outcome.

Every rule is the drive service's (``cplan.services.drives``), as on the pages: a drive outside
the post's area and a task whose contact the post may not see answer 404; an outcome is a
compare-and-set on the task's version, so of two phones recording the same contact one wins and
the other gets 409 naming who recorded it and when; numbers are in full for station posts (the
only ones who record) and masked above; a full number sent is audited (``drive.next_viewed``,
``drive.tasks_viewed``).
"""

from flask_login import current_user
from flask_smorest import Blueprint

from cplan.blueprints.api import paging
from cplan.blueprints.api.places import contact_answer, place_answer
from cplan.blueprints.api.schemas import (
    DriveAnswer,
    DriveListAnswer,
    NextAnswer,
    OutcomeRequest,
    TaskAnswer,
    TaskPage,
    TaskQuery,
)
from cplan.extensions import db
from cplan.models.drives import DriveState, TaskState, VerificationDrive, VerificationTask
from cplan.models.geo import UnitKind
from cplan.services import drives, roster
from cplan.services.permissions import Permission
from cplan.services.roster import ContactDetails
from cplan.web.access import requires

bp = Blueprint(
    "api_drives",
    __name__,
    url_prefix="/api/v1/drives",
    description="Re-verification drives: a station's tasks, verify next, outcomes.",
)


def drive_answer(drive: VerificationDrive) -> dict:
    return {
        "id": drive.id,
        "name": drive.name,
        "state": drive.state.value,
        "scope_unit_id": drive.scope_unit_id,
        "phase_id": drive.phase_id,
        "opens_on": drive.opens_on,
        "due_on": drive.due_on,
        "max_age_days": drive.max_age_days,
        "task_count": drive.task_count,
        "opened_at": drive.opened_at,
    }


def task_answer(task: VerificationTask, full: bool) -> dict:
    return {
        "id": task.id,
        "drive_id": task.drive_id,
        "state": task.state.value,
        "version": task.version,
        "attempts": task.attempts,
        "unreachable_days": task.unreachable_days,
        "last_attempt_on": task.last_attempt_on,
        "method": task.method.value if task.method else None,
        "done_by": task.done_by.name if task.done_by is not None else None,
        "done_at": task.done_at,
        "proposal_id": task.proposal_id,
        "sensitivity": task.sensitivity,
        "place": place_answer(task.place),
        "contact": contact_answer(task.contact, full),
        "changed_at": drives.changed_at(task),
    }


@bp.get("", endpoint="index")
@bp.response(200, DriveListAnswer)
@requires(Permission.VIEW_DRIVES)
def list_drives():
    """The drives covering the post's area or inside it (at most 50), open ones first."""
    return {"items": [drive_answer(drive) for drive in drives.drives_for(current_user)]}


@bp.get("/<int:drive_id>", endpoint="show")
@bp.response(200, DriveAnswer)
@requires(Permission.VIEW_DRIVES)
def show_drive(drive_id):
    """One drive the post follows."""
    return drive_answer(drives.get_drive(current_user, drive_id))


@bp.get("/<int:drive_id>/tasks", endpoint="tasks")
@bp.arguments(TaskQuery, location="query")
@bp.response(200, TaskPage)
@requires(Permission.VIEW_DRIVES)
def list_tasks(args, drive_id):
    """The drive's tasks in the post's area (a station post: its station's), least recently
    changed first: a phone keeps the last ``next`` cursor (or the newest ``changed_at``) and
    asks again for what changed since, outcomes recorded by others included."""
    drive = drives.get_drive(current_user, drive_id)
    statement = drives.tasks_of_drive(current_user, drive)
    if args.get("state"):
        statement = statement.where(VerificationTask.state == TaskState(args["state"]))
    full = roster.sees_full_numbers(current_user)
    page = paging.keyset_page(
        statement,
        args,
        drives.task_changed_at(drive),
        VerificationTask.id,
        drives.changed_at,
        lambda tasks: [task_answer(task, full) for task in tasks],
    )
    drives.record_tasks_viewed(current_user, drive, len(page["items"]))
    db.session.commit()
    return page


@bp.get("/<int:drive_id>/next", endpoint="next")
@bp.response(200, NextAnswer)
@requires(Permission.VERIFY_CONTACTS)
def verify_next(drive_id):
    """The station's next contact to verify (most sensitive village first), with the number in
    full and the version to send with the outcome; null when nothing is left."""
    drive = drives.get_drive(current_user, drive_id)
    station = current_user.unit if current_user.unit.kind == UnitKind.STATION else None
    task = None
    if station is not None and drive.state == DriveState.OPEN:
        task = drives.next_task(current_user, drive, station)
    if task is None:
        return {"task": None}
    answer = {"task": task_answer(task, roster.sees_full_numbers(current_user))}
    drives.record_next_viewed(current_user, drive, task, station)
    db.session.commit()
    return answer


def _corrected(task: VerificationTask, given: dict) -> ContactDetails:
    """The new details of a ``changed`` outcome: what the phone sent over today's values (the
    name in the other script is spelt afresh unless sent or written by a person)."""
    contact = task.contact
    kept_other = "" if contact.name_other_generated else contact.name_other
    return ContactDetails(
        name=given.get("name", contact.name),
        name_other=given.get("name_other", kept_other),
        mobile=given.get("mobile", contact.mobile or ""),
        mobile_alt=given.get("mobile_alt", contact.mobile_alt or ""),
        whatsapp=given.get("whatsapp", contact.whatsapp),
        category=given.get("category", contact.category.value),
        gender=contact.gender.value,
        address=contact.address,
        notes=contact.notes,
        confidential=contact.confidential,
        consent_on=contact.consent_on,
        consent_language=contact.consent_language,
    )


@bp.post("/tasks/<int:task_id>/outcome", endpoint="record")
@bp.arguments(OutcomeRequest)
@bp.response(200, TaskAnswer)
@bp.alt_response(409, response="DEFAULT_ERROR", description="Recorded by someone else first")
@requires(Permission.VERIFY_CONTACTS)
def record_outcome(data, task_id):
    """Record what became of the contact, naming the task's version seen (compare-and-set):
    confirmed, not reachable (an attempt; on three different days the task ends), changed
    (``details``: a correction for the ASP) or no longer suitable (``reason``: a removal)."""
    task = drives.get_task(current_user, task_id)
    details = None
    if data["outcome"] == "changed":
        details = _corrected(task, data.get("details") or {})
    recorded = drives.record_outcome(
        current_user,
        task.id,
        data["version"],
        data["outcome"],
        method=data["method"],
        details=details,
        reason=data.get("reason"),
        note=data["note"],
    )
    answer = task_answer(recorded, roster.sees_full_numbers(current_user))
    db.session.commit()
    return answer
