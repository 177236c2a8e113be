"""The shapes of ``/api/v1`` requests and answers (marshmallow), read by flask-smorest both to
check requests and to write the OpenAPI document.

Unknown fields in a request are refused (``RAISE``), each error naming its field. Ids, versions
and codes are integers or ASCII-digit strings; text fields carry the same length limits as
the forms of the pages.
"""

import re

import marshmallow as ma
from marshmallow import validate

ASCII_DIGITS = re.compile(r"[0-9]+")


class Request(ma.Schema):
    """A request body: unknown fields are an error."""

    class Meta:
        unknown = ma.RAISE


class Answer(ma.Schema):
    """An answer body."""


def ascii_digits(length_min: int, length_max: int):
    return validate.And(
        validate.Length(min=length_min, max=length_max),
        validate.Regexp(ASCII_DIGITS, error="use the digits 0-9 only"),
    )


# ---- devices -------------------------------------------------------------------------------


class ChallengeRequest(Request):
    cug = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "The post's CUG number, as people type it",
            "example": "+91 94150 12345",
        },
    )


class ChallengeAnswer(Answer):
    challenge = ma.fields.String(required=True, metadata={"description": "Send it with the code"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds"})


class CodeRequest(Request):
    challenge = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    code = ma.fields.String(required=True, validate=ascii_digits(6, 6))


class ProofAnswer(Answer):
    proof = ma.fields.String(
        required=True, metadata={"description": "Send it with the officer's PNO and password"}
    )


class RegisterRequest(Request):
    proof = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    pno = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The device's name", "example": "SHO Baraut's phone"},
    )


class OfficerAnswer(Answer):
    id = ma.fields.Integer(required=True)
    pno = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class PostAnswer(Answer):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True, attribute="title_en")
    role = ma.fields.String(required=True)
    unit_id = ma.fields.Integer(required=True)


class DeviceAnswer(Answer):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    officer = ma.fields.Nested(OfficerAnswer, required=True)
    post = ma.fields.Nested(PostAnswer, required=True)
    created_at = ma.fields.DateTime(required=True)
    expires_at = ma.fields.DateTime(required=True)
    last_used_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    revoked_reason = ma.fields.String()


class RegisteredAnswer(Answer):
    token = ma.fields.String(
        required=True, metadata={"description": "Shown once: `Authorization: Bearer <token>`"}
    )
    device = ma.fields.Nested(DeviceAnswer, required=True)


class DeviceListAnswer(Answer):
    items = ma.fields.List(ma.fields.Nested(DeviceAnswer), required=True)


class AsciiInt(ma.fields.Integer):
    """An integer: a JSON number, or (in a query) ASCII digits; ``int()`` alone would take
    Devanagari and full-width digits too."""

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str) and not ASCII_DIGITS.fullmatch(value.strip()):
            raise self.make_error("invalid")
        return super()._validated(value)


class Query(ma.Schema):
    """Query arguments: unknown ones are an error too."""

    class Meta:
        unknown = ma.RAISE


class Page(Answer):
    """A page of a list: ``next`` is the cursor of the next page (null on the last)."""

    next = ma.fields.String(allow_none=True, required=True)


# ---- places and contacts ---------------------------------------------------------------------


class PlaceSearchQuery(Query):
    q = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "A name in Hindi or English (2 letters or more), or an LGD code"},
    )
    cursor = ma.fields.String(validate=validate.Length(max=200))
    limit = AsciiInt(load_default=50, validate=validate.Range(min=1, max=50))


class PlaceAnswer(Answer):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)
    name_hi = ma.fields.String(required=True)
    lgd_code = ma.fields.String(allow_none=True)
    district_id = ma.fields.Integer(required=True)
    station_id = ma.fields.Integer(allow_none=True)
    active_contacts = ma.fields.Integer(required=True)


class PlacePage(Page):
    items = ma.fields.List(ma.fields.Nested(PlaceAnswer), required=True)


class ContactAnswer(Answer):
    id = ma.fields.Integer(required=True)
    place_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    name_other = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    mobile = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "In full for station posts and revealed contacts, else masked"},
    )
    mobile_alt = ma.fields.String(allow_none=True, required=True)
    full_numbers = ma.fields.Boolean(required=True)
    whatsapp = ma.fields.Boolean(required=True)
    confidential = ma.fields.Boolean(required=True)
    version = ma.fields.Integer(required=True)
    enrolled_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class RosterQuery(Query):
    updated_since = ma.fields.AwareDateTime(
        metadata={"description": "Only contacts changed at or after this time (ISO 8601)"}
    )


class RemovedContact(Answer):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    updated_at = ma.fields.DateTime(required=True)


class RosterAnswer(Answer):
    place = ma.fields.Nested(PlaceAnswer, required=True)
    active = ma.fields.List(ma.fields.Nested(ContactAnswer), required=True)
    pending = ma.fields.List(ma.fields.Nested(ContactAnswer), required=True)
    removed = ma.fields.List(
        ma.fields.Nested(RemovedContact),
        required=True,
        metadata={"description": "With updated_since: contacts that left the roster since"},
    )


class EnrolRequest(Request):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_other = ma.fields.String(load_default="", validate=validate.Length(max=200))
    mobile = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))
    mobile_alt = ma.fields.String(load_default="", validate=validate.Length(max=20))
    whatsapp = ma.fields.Boolean(load_default=False)
    category = ma.fields.String(required=True, validate=validate.Length(max=32))
    gender = ma.fields.String(load_default="not_stated", validate=validate.Length(max=16))
    address = ma.fields.String(load_default="", validate=validate.Length(max=300))
    notes = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    confidential = ma.fields.Boolean(load_default=False)
    consent_on = ma.fields.Date(
        required=True, metadata={"description": "When the notice was given and consent obtained"}
    )
    consent_language = ma.fields.String(load_default="", validate=validate.OneOf(["", "hi", "en"]))
    confirm_duplicate = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Enrol even though the number already belongs to someone"},
    )


# ---- enrolment decisions ---------------------------------------------------------------------


class DecisionRequest(Request):
    action = ma.fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    version = AsciiInt(required=True, strict=True, validate=validate.Range(min=1))
    reason = ma.fields.String(load_default="", validate=validate.Length(max=32))
    note = ma.fields.String(load_default="", validate=validate.Length(max=1000))


class DecisionAnswer(Answer):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)


# ---- incidents -------------------------------------------------------------------------------


class IncidentQuery(Query):
    updated_since = ma.fields.AwareDateTime(
        metadata={"description": "Only incidents changed at or after this time (ISO 8601)"}
    )
    cursor = ma.fields.String(validate=validate.Length(max=200))
    limit = AsciiInt(load_default=50, validate=validate.Range(min=1, max=200))


class IncidentAnswer(Answer):
    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    severity = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    summary = ma.fields.String(required=True)
    confidential = ma.fields.Boolean(required=True)
    up112_number = ma.fields.String(allow_none=True, required=True)
    district_id = ma.fields.Integer(required=True)
    place_ids = ma.fields.List(ma.fields.Integer(), required=True)
    occurred_at = ma.fields.DateTime(required=True)
    reported_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class IncidentPage(Page):
    items = ma.fields.List(ma.fields.Nested(IncidentAnswer), required=True)


class TimelineEntryAnswer(Answer):
    seq = ma.fields.Integer(required=True)
    at = ma.fields.DateTime(required=True)
    kind = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    officer = ma.fields.String(allow_none=True, required=True)
    contact_id = ma.fields.Integer(allow_none=True, required=True)
    withheld = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "confidential / other_station: a contact the reader may not see"},
    )
    call_outcome = ma.fields.String(allow_none=True, required=True)
    from_status = ma.fields.String(allow_none=True, required=True)
    to_status = ma.fields.String(allow_none=True, required=True)
    corrects_seq = ma.fields.Integer(allow_none=True, required=True)


class IncidentDetailAnswer(IncidentAnswer):
    timeline = ma.fields.List(ma.fields.Nested(TimelineEntryAnswer), required=True)


class ReportRequest(Request):
    place_ids = ma.fields.List(
        AsciiInt(strict=True), required=True, validate=validate.Length(min=1, max=50)
    )
    kind = ma.fields.String(required=True, validate=validate.Length(max=24))
    severity = ma.fields.String(required=True, validate=validate.Length(max=16))
    source = ma.fields.String(load_default="field_report", validate=validate.Length(max=16))
    occurred_at = ma.fields.AwareDateTime(required=True)
    summary = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))
    up112_number = ma.fields.String(load_default="", validate=validate.Length(max=32))
    confidential = ma.fields.Boolean(load_default=False)


class CallRequest(Request):
    contact_id = AsciiInt(required=True, strict=True)
    outcome = ma.fields.String(required=True, validate=validate.Length(max=16))
    said = ma.fields.String(load_default="", validate=validate.Length(max=4000))


class StatusRequest(Request):
    status = ma.fields.String(required=True, validate=validate.Length(max=16))
    version = AsciiInt(required=True, strict=True, validate=validate.Range(min=1))
    note = ma.fields.String(load_default="", validate=validate.Length(max=4000))


class NoteRequest(Request):
    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=4000))
    public_message = ma.fields.Boolean(load_default=False)


# ---- the control rooms' feed -----------------------------------------------------------------


class FeedQuery(Query):
    after = ma.fields.String(
        validate=validate.Length(max=50),
        metadata={"description": "The `next` cursor of the previous page; none: from the start"},
    )
    limit = AsciiInt(load_default=100, validate=validate.Range(min=1, max=500))


class FeedItem(Answer):
    cursor = ma.fields.String(required=True)
    changed_at = ma.fields.DateTime(required=True)
    incident = ma.fields.Nested(IncidentAnswer, required=True)


class FeedPage(Answer):
    items = ma.fields.List(ma.fields.Nested(FeedItem), required=True)
    next = ma.fields.String(
        required=True,
        metadata={"description": "Ask again with `after` set to this (the same when nothing new)"},
    )


# ---- webhooks --------------------------------------------------------------------------------


class WebhookRequest(Request):
    url = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))
    events = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(["incident.changed"])),
        load_default=["incident.changed"],
    )


class WebhookAnswer(Answer):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    events = ma.fields.List(ma.fields.String(), required=True)
    active = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)
    paused_at = ma.fields.DateTime(allow_none=True, required=True)
    failing_since = ma.fields.DateTime(allow_none=True, required=True)
    last_success_at = ma.fields.DateTime(allow_none=True, required=True)
    last_error = ma.fields.String(required=True)
    pending = ma.fields.Integer(required=True, metadata={"description": "Deliveries waiting"})


class WebhookCreatedAnswer(WebhookAnswer):
    secret = ma.fields.String(
        required=True, metadata={"description": "Shown once: checks the webhook-signature"}
    )


class WebhookListAnswer(Answer):
    items = ma.fields.List(ma.fields.Nested(WebhookAnswer), required=True)


# ---- verification drives and meetings --------------------------------------------------------


class SyncQuery(Query):
    """A list a phone keeps in step: cursor paging, and only what changed since a time."""

    updated_since = ma.fields.AwareDateTime(
        metadata={"description": "Only what changed at or after this time (ISO 8601)"}
    )
    cursor = ma.fields.String(validate=validate.Length(max=200))
    limit = AsciiInt(load_default=50, validate=validate.Range(min=1, max=200))


class DriveAnswer(Answer):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    scope_unit_id = ma.fields.Integer(required=True)
    phase_id = ma.fields.Integer(allow_none=True, required=True)
    opens_on = ma.fields.Date(required=True)
    due_on = ma.fields.Date(required=True)
    max_age_days = ma.fields.Integer(required=True)
    task_count = ma.fields.Integer(required=True)
    opened_at = ma.fields.DateTime(required=True)


class DriveListAnswer(Answer):
    items = ma.fields.List(ma.fields.Nested(DriveAnswer), required=True)


class TaskQuery(SyncQuery):
    state = ma.fields.String(
        validate=validate.OneOf(["pending", "confirmed", "changed", "unreachable", "unsuitable"]),
        metadata={"description": "Only tasks in this state (none: all, so a phone sees the ends)"},
    )


class TaskAnswer(Answer):
    id = ma.fields.Integer(required=True)
    drive_id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)
    version = ma.fields.Integer(
        required=True, metadata={"description": "Send it with the outcome (compare-and-set)"}
    )
    attempts = ma.fields.Integer(required=True)
    unreachable_days = ma.fields.Integer(required=True)
    last_attempt_on = ma.fields.Date(allow_none=True, required=True)
    method = ma.fields.String(allow_none=True, required=True)
    done_by = ma.fields.String(allow_none=True, required=True)
    done_at = ma.fields.DateTime(allow_none=True, required=True)
    proposal_id = ma.fields.Integer(allow_none=True, required=True)
    sensitivity = ma.fields.Integer(
        required=True, metadata={"description": "The village's grade: 0 none, 3 the most"}
    )
    place = ma.fields.Nested(PlaceAnswer, required=True)
    contact = ma.fields.Nested(ContactAnswer, required=True)
    changed_at = ma.fields.DateTime(
        required=True, metadata={"description": "The later of the task's and its contact's change"}
    )


class TaskPage(Page):
    items = ma.fields.List(ma.fields.Nested(TaskAnswer), required=True)


class NextAnswer(Answer):
    task = ma.fields.Nested(
        TaskAnswer,
        allow_none=True,
        required=True,
        metadata={"description": "null: nothing left to verify (or not a station post)"},
    )


class CorrectedDetails(Request):
    """The contact's new details; a field left out keeps today's value."""

    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    name_other = ma.fields.String(validate=validate.Length(max=200))
    mobile = ma.fields.String(validate=validate.Length(min=1, max=20))
    mobile_alt = ma.fields.String(validate=validate.Length(max=20))
    whatsapp = ma.fields.Boolean()
    category = ma.fields.String(validate=validate.Length(max=32))


class OutcomeRequest(Request):
    outcome = ma.fields.String(
        required=True,
        validate=validate.OneOf(["confirmed", "changed", "unreachable", "unsuitable"]),
    )
    version = AsciiInt(required=True, strict=True, validate=validate.Range(min=1))
    method = ma.fields.String(
        load_default="call", validate=validate.OneOf(["call", "visit", "sms", "meeting"])
    )
    details = ma.fields.Nested(
        CorrectedDetails, metadata={"description": "For `changed`: goes to the ASP"}
    )
    reason = ma.fields.String(
        validate=validate.Length(max=24),
        metadata={"description": "For `unsuitable`: moved, deceased, declined, candidate..."},
    )
    note = ma.fields.String(load_default="", validate=validate.Length(max=1000))


class MeetingQuery(SyncQuery):
    unit = AsciiInt(
        metadata={
            "description": "A station, circle or district below the post's (default: its own)"
        }
    )


class MeetingAnswer(Answer):
    id = ma.fields.Integer(required=True)
    station_id = ma.fields.Integer(required=True)
    held_at = ma.fields.DateTime(required=True)
    venue = ma.fields.String(required=True)
    chaired_by = ma.fields.String(required=True)
    topics = ma.fields.String(required=True)
    notes = ma.fields.String(required=True)
    attendance = ma.fields.Integer(required=True)
    place_ids = ma.fields.List(ma.fields.Integer(), required=True)
    recorded_by = ma.fields.String(allow_none=True, required=True)
    recorded_at = ma.fields.DateTime(required=True)


class MeetingPage(Page):
    items = ma.fields.List(ma.fields.Nested(MeetingAnswer), required=True)


class AttendeeAnswer(Answer):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    place_id = ma.fields.Integer(required=True)


class MeetingDetailAnswer(MeetingAnswer):
    attendees = ma.fields.List(
        ma.fields.Nested(AttendeeAnswer),
        required=True,
        metadata={"description": "Those who came that the reader may see"},
    )


class RecordedMeetingAnswer(MeetingDetailAnswer):
    confirmed_in_drives = ma.fields.Integer(
        required=True,
        metadata={"description": "Attendees confirmed in open drives (method: meeting)"},
    )


class MeetingRequest(Request):
    held_at = ma.fields.AwareDateTime(required=True)
    venue = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    chaired_by = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    place_ids = ma.fields.List(
        AsciiInt(strict=True),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The station's villages invited"},
    )
    attended_ids = ma.fields.List(
        AsciiInt(strict=True),
        load_default=list,
        validate=validate.Length(max=2000),
        metadata={"description": "Contacts who came, from those villages' rosters"},
    )
    topics = ma.fields.String(load_default="", validate=validate.Length(max=4000))
    notes = ma.fields.String(load_default="", validate=validate.Length(max=4000))
