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
