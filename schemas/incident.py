"""The incident record, schema version 1 (DESIGN.md §3), as marshmallow schemas.

``IncidentRecordSchema().load(data)`` returns a complete record (optional fields default to
``None``; dates as ``datetime.date``) or raises ``ValidationError`` whose messages name the field
and the allowed values. Unknown keys are refused: a typo must not vanish silently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema
from marshmallow.types import StrSequenceOrSet, UnknownOption

from schemas import codes
from schemas.consistency import check_record
from schemas.fields import (
    MAX_TEXT,
    StrictBoolean,
    StrictInteger,
    code,
    date_field,
    optional_code,
    raise_problems,
    text,
)
from schemas.references import normalise_reference

SCHEMA_VERSION = "1"
MAX_CHILDREN = 1000
"""Most children one incident record may carry: an input size limit, not a rule of the guidance,
set far above any real incident (§2 speaks of abuse of many children in one institution; every
child is kept, DESIGN.md §3)."""

MAX_SOURCE_ROW = 1_000_000_000
"""Largest export row number a record may cite: far beyond any export (an XLSX sheet holds about
a million rows), and within the integers RFC 8785 canonical JSON can carry."""

_POSTCODE = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$"
_POSTCODE_PARTS = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})")
_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_UPN = r"^[A-Z][0-9]{11}[0-9A-Z]$"


def _nhs_number_valid(value: str) -> bool:
    """Modulus 11 check digit of a 10-digit NHS number."""
    if len(value) != 10 or not value.isdigit():
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(value[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(value[9])


def _nhs_number(value: str | None) -> bool:
    if value is None:  # "" reads as not known
        return True
    if not _nhs_number_valid(value):
        raise ValidationError(
            f"'{value}' is not a valid NHS number: expected 10 digits with a correct check digit"
        )
    return True


class _NhsNumber(fields.String):
    """An NHS number, kept as its 10 digits: the spaces or hyphens of its usual display form
    (``943 476 5919``) are not part of it, and must not make a notification fail. An empty
    string is an NHS number not known (``null``), as case systems export one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            return None  # "": not known, as null is (DESIGN.md §3 allows it)
        digits = text.replace(" ", "").replace("-", "")
        return digits if digits.isdigit() else text.strip()


_READING_STORED: ContextVar[bool] = ContextVar("reading_stored", default=False)
"""Whether the record being loaded is read back from the store (see
:attr:`IncidentRecordSchema.stored`): the nested reference field cannot see its root schema."""


class _Reference(fields.String):
    """An incident reference in its one form (:func:`schemas.references.normalise_reference`):
    ``NEL-2026-014 ``, the same with Unicode hyphens (U+2010) or in full-width letters are the
    incident ``NEL-2026-014``, not a second one (§4: one notification per reference); one with
    an invisible character in it is refused, naming the character.

    A record read back from the store keeps the reference it was stored under (only the spaces
    around it are stripped, as before): rules added since do not apply to what was stored."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _READING_STORED.get():
            return text.strip()
        try:
            return normalise_reference(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def normalise_postcode(text: str) -> str:
    """A postcode as Royal Mail writes it: upper case, one space before the inward code
    (`` dn311hu`` is ``DN31 1HU``), so the documents sent show one form. Text that is not a
    postcode is returned unchanged, for the validator to refuse quoting what was given."""
    parts = _POSTCODE_PARTS.fullmatch(text.strip().upper()) if text.isascii() else None
    return text if parts is None else f"{parts[1]} {parts[2]}"


class _Postcode(fields.String):
    """A UK postcode, kept in its normal form (:func:`normalise_postcode`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return normalise_postcode(super()._deserialize(value, attr, data, **kwargs))


def _optional(field: fields.Field[Any]) -> fields.Field[Any]:
    field.allow_none = True
    field.load_default = None
    return field


class LocalAuthoritySchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{3}$", error="expected a 3-digit LA code, e.g. 812"),
    )
    name = text()


class NotifierSchema(Schema):
    name = text()
    role = text()
    email = _optional(fields.Email(validate=validate.Length(max=320)))
    phone = text(40)


class LocationSchema(Schema):
    description = text(2000)
    postcode = _optional(
        _Postcode(
            validate=validate.Regexp(
                _POSTCODE, error="'{input}' is not a UK postcode: expected one such as DN31 1HU"
            )
        )
    )
    in_la_area = _optional(StrictBoolean())
    outside_england_normally_resident = _optional(StrictBoolean())


class IncidentSchema(Schema):
    reference = _Reference(
        required=True,
        validate=validate.Length(min=1, max=100, error="expected 1 to 100 characters"),
    )
    nature = code(codes.NATURES, required=True)
    other_rationale = text(MAX_TEXT)
    abuse_or_neglect = code(codes.ABUSE_OR_NEGLECT, required=True)
    date = date_field(required=True)
    time = _optional(
        fields.String(validate=validate.Regexp(_TIME, error="expected HH:MM (24-hour)"))
    )
    became_aware_on = date_field(required=True)
    location = _optional(fields.Nested(LocationSchema))
    setting = optional_code(codes.SETTINGS)
    suicide = _optional(StrictBoolean())
    historical_harm = _optional(StrictBoolean())
    wider_risk_to_other_children = _optional(StrictBoolean())
    parallel_processes = _optional(
        fields.List(code(codes.PARALLEL_PROCESSES), validate=validate.Length(max=20))
    )
    summary = text(MAX_TEXT)
    other_children_details = text(MAX_TEXT)


class ChildProtectionPlanSchema(Schema):
    active = _optional(StrictBoolean())
    category = optional_code(codes.CP_CATEGORIES)
    start_date = _optional(date_field())


class ChildSchema(Schema):
    identity_known = StrictBoolean(required=True)
    local_id = text(100)
    upn = _optional(
        fields.String(
            validate=validate.Regexp(
                _UPN,
                error="'{input}' is not a UPN: expected a letter, 11 digits and a digit or letter",
            )
        )
    )
    nhs_number = _optional(_NhsNumber(validate=_nhs_number))
    forenames = text()
    surname = text()
    date_of_birth = _optional(date_field())
    date_of_birth_estimated = _optional(StrictBoolean())
    age_years = _optional(StrictInteger(validate=validate.Range(min=0, max=130)))
    unborn = _optional(StrictBoolean())
    sex = optional_code(codes.SEXES)
    ethnicity = optional_code(codes.ETHNICITIES)
    disability = optional_code(codes.DISABILITY)
    looked_after = _optional(StrictBoolean())
    placement_type = text(20)
    care_leaver = _optional(StrictBoolean())
    child_in_need_plan = _optional(StrictBoolean())
    child_protection_plan = _optional(fields.Nested(ChildProtectionPlanSchema))
    known_to_childrens_social_care = _optional(StrictBoolean())
    known_to_agencies = _optional(
        fields.List(text(100, allow_none=False), validate=validate.Length(max=30))
    )
    outcome = code(codes.OUTCOMES, required=True)
    date_of_death = _optional(date_field())
    harm_description = text(MAX_TEXT)


class SourceSchema(Schema):
    system = optional_code(codes.SOURCE_SYSTEMS)
    file = text(500)
    # Bounded so that canonical JSON (RFC 8785, integers up to 2**53) can always hash it.
    row = _optional(StrictInteger(validate=validate.Range(min=1, max=MAX_SOURCE_ROW)))
    record_ids = _optional(
        fields.List(text(100, allow_none=False), validate=validate.Length(max=MAX_CHILDREN))
    )


class ReferralSchema(Schema):
    """An agency's referral for the safeguarding partners to consider (§3, Appendix 1 "SCSI
    1"): when it was received and from whom. Set from the agency's key and the day of
    submission when it arrives through the API."""

    received_on = date_field(required=True)
    agency = text()


class IncidentRecordSchema(Schema):
    """One incident = one notification, however many children (§2).

    ``today`` (a date, Europe/London) turns on the rules that ``became_aware_on``, a date of death
    and a born child's date of birth may not be in the future
    (:func:`schemas.consistency.future_dates`), which apply when a record is submitted or
    converted; ``plan`` leaves them off and warns.
    """

    schema_version = fields.String(
        required=True,
        validate=validate.Equal(SCHEMA_VERSION, error="expected '1', the only schema version"),
    )
    local_authority = fields.Nested(LocalAuthoritySchema, required=True)
    notifier = _optional(fields.Nested(NotifierSchema))
    incident = fields.Nested(IncidentSchema, required=True)
    children = fields.List(
        fields.Nested(ChildSchema),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_CHILDREN, error=f"expected between 1 and {MAX_CHILDREN} children"
        ),
    )
    source = _optional(fields.Nested(SourceSchema))
    referral = fields.Nested(ReferralSchema, allow_none=True)
    """Absent unless the record is an agency's referral: records without one load and dump
    exactly as before referrals were kept in them."""

    def __init__(
        self, *, today: dt.date | None = None, stored: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.today = today
        self.stored = stored
        """Reading a record back from the store (see :func:`schemas.consistency.check_record`)."""

    def load(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        many: bool | None = None,
        partial: bool | StrSequenceOrSet | None = None,
        unknown: UnknownOption | None = None,
    ) -> Any:
        """As :meth:`marshmallow.Schema.load`, telling the nested fields whether the record is
        a stored one."""
        token = _READING_STORED.set(self.stored)
        try:
            return super().load(data, many=many, partial=partial, unknown=unknown)
        finally:
            _READING_STORED.reset(token)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        raise_problems(check_record(data, self.today, stored=self.stored))

    @post_dump
    def _omit_no_referral(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """A record that is no referral is written as records were before referrals were
        kept in it, so what was stored before still compares and hashes the same."""
        if data.get("referral") is None:
            data.pop("referral", None)
        return data
