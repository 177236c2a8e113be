"""Notices by SMS that go out after the commit of the change they report.

A security action (a post's CUG number changed) must never wait for, nor depend on, the SMS
gateway: ``enqueue`` writes an ``OutboundMessage`` in the caller's transaction (flush only), and
only when that transaction commits is the message handed to a thread that claims it, sends it
and records the outcome (``deliver``). So the action commits in milliseconds whatever the
gateway does; a gateway that hangs, fails or refuses leaves the action done and the message
``failed`` with the reason; and an action that is rolled back sends nothing.

The thread holds no transaction while the gateway answers: the claim is committed first
(compare-and-set ``pending`` -> ``sending``), the outcome in a second short transaction together
with its audit event (``sms.notice_sent``, success or failure, the number masked). With the
``memory`` and ``console`` backends (tests, development) the request waits for the thread, as
there is nothing slow to wait for and the message is then in the outbox when the page is back.

A process that stops between the commit and the send leaves the row ``pending`` (or ``sending``
with an old ``claimed_at``): a background worker (a later issue) is meant to take those over
with the same ``claim``; until then such a notice stays visible as not sent.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.geo import Unit
from cplan.models.messages import MessageState, OutboundMessage
from cplan.services import audit, sms
from cplan.services.phone import log_safe

# Key in ``Session.info``: ids of messages written in the session's current transaction.
_QUEUED = "cplan_outbound_queued"
_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()


def enqueue(
    number_e164: str,
    template_name: str,
    *values: str,
    language: str = "en",
    target=None,
    unit: Unit | None = None,
) -> OutboundMessage:
    """Queue a templated SMS in the current transaction; it is sent once the transaction commits.

    The text is rendered now, so a value the template refuses fails here, in the caller's
    transaction, and not later on a thread. ``target`` (a model instance) and ``unit`` say what
    the notice is about and whose administrators answer for it.
    """
    if not isinstance(number_e164, str) or not sms.is_indian_e164(number_e164):
        raise ValueError("SMS goes only to an Indian mobile number in E.164 form")
    sms.render(template_name, *values, language=language)
    message = OutboundMessage(
        to_number=number_e164,
        template=template_name,
        language=language,
        slot_values=json.dumps(list(values), ensure_ascii=False),
        state=MessageState.PENDING,
        target_type=target.__table__.name if target is not None else None,
        target_id=target.id if target is not None else None,
        unit_id=unit.id if unit is not None else None,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_QUEUED, []).append(message.id)
    return message


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the messages are not committed
        return
    queued = session.info.pop(_QUEUED, None)
    if queued:
        _dispatch(current_app._get_current_object(), queued)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction) -> None:
    # After a commit the list is already gone; after a rollback nothing of it exists any more.
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)


def _dispatch(app, message_ids: list[int]) -> None:
    """Deliver on a thread of its own (with a session of its own: this one's transaction is
    over)."""

    def run() -> None:
        with app.app_context():
            try:
                for message_id in message_ids:
                    deliver(message_id)
            except Exception:  # noqa: BLE001 - a thread has no caller to tell
                db.session.rollback()
                app.logger.exception("sms queue: delivering messages %s failed", message_ids)
            finally:
                db.session.remove()
                with _threads_lock:
                    _threads.discard(threading.current_thread())

    thread = threading.Thread(target=run, name="cplan-sms-queue", daemon=True)
    with _threads_lock:
        _threads.add(thread)
    try:
        thread.start()
    except RuntimeError:  # no thread to be had: the change is committed, the rows stay pending
        with _threads_lock:
            _threads.discard(thread)
        app.logger.exception(
            "sms queue: could not start a delivery thread for messages %s", message_ids
        )
        return
    if app.config.get("SMS_BACKEND") != "http":
        thread.join()


def wait_for_deliveries(timeout: float = 30) -> bool:
    """Wait until the delivery threads of this process have finished (tests, a command's end).

    Returns False when some are still running after ``timeout`` seconds.
    """
    with _threads_lock:
        running = list(_threads)
    deadline = time.monotonic() + timeout
    for thread in running:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in running)


def claim(message_id: int, now: datetime | None = None) -> OutboundMessage | None:
    """Take a pending message for sending (compare-and-set); None when another took it first."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.state == MessageState.PENDING)
        .values(state=MessageState.SENDING, claimed_at=now, attempts=OutboundMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    return db.session.get(OutboundMessage, message_id, populate_existing=True)


def deliver(message_id: int) -> MessageState | None:
    """Claim, send and record one message; commits (the claim, then the outcome).

    Returns the final state, or None when the message was not pending (already taken).
    """
    message = claim(message_id)
    if message is None:
        db.session.rollback()
        return None
    to, template, values, language = (
        message.to_number,
        message.template,
        message.values,
        message.language,
    )
    try:
        template_id = sms.template_id_for(template, language)
    except sms.TemplateError:
        template_id = ""
    # The claim is committed before the gateway is asked, and nothing is read meanwhile: no
    # transaction (nor SQLite's write lock) is held while the gateway takes its time.
    db.session.commit()
    error: Exception | None = None
    try:
        sms.send_template(to, template, *values, language=language, template_id=template_id)
    except (sms.SmsError, sms.TemplateError, ValueError) as failure:
        error = failure
    message.state = MessageState.FAILED if error else MessageState.SENT
    message.sent_at = None if error else utcnow()
    message.error = audit.redact_mobiles(str(error))[:200] if error else ""
    if error:
        current_app.logger.warning(
            "sms queue: %s to %s failed: %s", template, log_safe(to), message.error
        )
    detail = {"template": template, "to": log_safe(to), "message": message_id}
    if error:
        detail["error"] = message.error
    audit.record(
        "sms.notice_sent",
        outcome="failure" if error else "success",
        target_type=message.target_type,
        target_id=message.target_id,
        unit=db.session.get(Unit, message.unit_id) if message.unit_id else None,
        detail=detail,
    )
    db.session.commit()
    return message.state


def latest_for(target, template_name: str) -> OutboundMessage | None:
    """The newest message of ``template_name`` about ``target`` (for the page that shows it)."""
    return db.session.scalar(
        select(OutboundMessage)
        .where(
            OutboundMessage.target_type == target.__table__.name,
            OutboundMessage.target_id == target.id,
            OutboundMessage.template == template_name,
        )
        .order_by(OutboundMessage.id.desc())
        .limit(1)
    )
