"""The incident record schema (DESIGN.md §3): every code list, required field, consistency rule."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from marshmallow import ValidationError

from schemas import codes
from schemas.fields import flatten
from schemas.incident import MAX_CHILDREN, IncidentRecordSchema

TODAY = dt.date(2026, 11, 27)


def load(record: dict[str, Any], today: dt.date | None = TODAY) -> dict[str, Any]:
    return IncidentRecordSchema(today=today).load(record)


def problems(record: dict[str, Any], today: dt.date | None = TODAY) -> dict[str, str]:
    """Field path -> message for a record that must fail."""
    with pytest.raises(ValidationError) as caught:
        load(record, today)
    return dict(flatten(caught.value.messages))


def set_path(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    *parents, leaf = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(leaf) if leaf.isdigit() else leaf] = value
    return out


def test_sample_loads_and_dumps_back(sample_record):
    loaded = load(sample_record)
    assert loaded["incident"]["date"] == dt.date(2026, 11, 20)
    dumped = IncidentRecordSchema().dump(loaded)
    dumped["children"][0].pop("date_of_birth_estimated")
    assert dumped == sample_record


def test_optional_fields_default_to_none_so_loaded_records_are_complete(sample_record):
    del sample_record["children"][0]["sex"]
    del sample_record["notifier"]
    loaded = load(sample_record)
    assert loaded["children"][0]["sex"] is None
    assert loaded["notifier"] is None


CODE_FIELDS = [
    ("incident.abuse_or_neglect", codes.ABUSE_OR_NEGLECT),
    ("incident.setting", codes.SETTINGS),
    ("children.0.sex", codes.SEXES),
    ("children.0.disability", codes.DISABILITY),
    ("children.0.ethnicity", codes.ETHNICITIES),
    ("children.0.child_protection_plan.category", codes.CP_CATEGORIES),
    ("source.system", codes.SOURCE_SYSTEMS),
]


@pytest.mark.parametrize(("path", "values"), CODE_FIELDS, ids=[p for p, _ in CODE_FIELDS])
def test_every_code_of_each_list_is_accepted(sample_record, path, values):
    for value in values:
        load(set_path(sample_record, path, value))


@pytest.mark.parametrize(("path", "values"), CODE_FIELDS, ids=[p for p, _ in CODE_FIELDS])
def test_an_unknown_code_names_the_field_and_every_allowed_value(sample_record, path, values):
    found = problems(set_path(sample_record, path, "nonsense"))
    assert list(found) == [path]
    assert "'nonsense' is not allowed" in found[path]
    assert all(value in found[path] for value in values)


@pytest.mark.parametrize("nature", codes.NATURES)
def test_every_nature_is_accepted_when_consistent(sample_record, nature):
    record = set_path(sample_record, "incident.nature", nature)
    if nature == "serious_harm":
        record = set_path(record, "children.0.outcome", "seriously_harmed")
        record = set_path(record, "children.0.date_of_death", None)
    if nature == "other":
        record = set_path(
            record, "incident.other_rationale", "near miss the partners chose to notify"
        )
    load(record)


@pytest.mark.parametrize("outcome", codes.OUTCOMES)
def test_every_outcome_is_accepted(sample_record, outcome):
    record = set_path(sample_record, "children.0.outcome", outcome)
    record = set_path(
        record, "children.0.date_of_death", None if outcome != "died" else "2026-11-20"
    )
    record = set_path(record, "incident.nature", "other")
    record = set_path(record, "incident.other_rationale", "testing every outcome")
    load(record)


def test_every_parallel_process_is_accepted_and_unknown_one_refused(sample_record):
    load(set_path(sample_record, "incident.parallel_processes", list(codes.PARALLEL_PROCESSES)))
    found = problems(set_path(sample_record, "incident.parallel_processes", ["inquiry"]))
    assert "mappa_review" in found["incident.parallel_processes.0"]


@pytest.mark.parametrize(
    "path",
    [
        "schema_version",
        "local_authority",
        "local_authority.code",
        "incident",
        "incident.reference",
        "incident.nature",
        "incident.abuse_or_neglect",
        "incident.date",
        "incident.became_aware_on",
        "children",
        "children.0.identity_known",
        "children.0.outcome",
    ],
)
def test_required_fields(sample_record, path):
    record = copy.deepcopy(sample_record)
    *parents, leaf = path.split(".")
    node: Any = record
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    del node[leaf]
    assert path in problems(record)


def test_at_least_one_child(sample_record):
    assert "children" in problems(set_path(sample_record, "children", []))


@pytest.mark.parametrize("path", ["typo", "incident.refrence", "children.0.nhs"])
def test_unknown_keys_are_refused(sample_record, path):
    assert problems(set_path(sample_record, path, "x"))[path] == "Unknown field."


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schema_version", "2"),
        ("local_authority.code", "ABC"),
        ("incident.date", "31/02/2026"),
        ("incident.date", "2026-02-31"),
        ("incident.time", "25:00"),
        ("incident.location.postcode", "NOT A POSTCODE"),
        ("notifier.email", "not-an-email"),
        ("children.0.nhs_number", "9434765918"),  # wrong check digit
        ("children.0.nhs_number", "943476591"),
        ("children.0.upn", "812100234001"),
        ("children.0.age_years", -1),
        ("children.0.identity_known", "perhaps"),
    ],
)
def test_malformed_values_are_refused_at_their_field(sample_record, path, value):
    assert path in problems(set_path(sample_record, path, value))


def test_valid_identifiers_are_accepted(sample_record):
    record = set_path(sample_record, "children.0.nhs_number", "9434765919")
    record = set_path(record, "children.0.upn", "A812100234001")
    load(record)


# Consistency rules (DESIGN.md §3) -------------------------------------------------------------


def test_s2_nature_must_agree_with_a_death(sample_record):
    found = problems(set_path(sample_record, "incident.nature", "serious_harm"))
    assert "which make it 'death'" in found["incident.nature"]


def test_s2_nature_must_agree_with_serious_harm(sample_record):
    record = set_path(sample_record, "children.0.outcome", "seriously_harmed")
    record = set_path(record, "children.0.date_of_death", None)
    assert "which make it 'serious_harm'" in problems(record)["incident.nature"]


def test_s2_death_with_no_child_died_or_unknown_is_refused(sample_record):
    record = set_path(sample_record, "children.0.outcome", "not_harmed")
    record = set_path(record, "children.0.date_of_death", None)
    assert "no child's outcome is 'died'" in problems(record)["incident.nature"]


def test_s2_death_with_an_unknown_outcome_is_allowed(sample_record):
    record = set_path(sample_record, "children.0.outcome", "unknown")
    load(set_path(record, "children.0.date_of_death", None))


def test_s2_other_needs_a_rationale(sample_record):
    record = set_path(sample_record, "incident.nature", "other")
    assert "clear rationale" in problems(record)["incident.other_rationale"]
    assert "incident.other_rationale" in problems(
        set_path(record, "incident.other_rationale", "  ")
    )


def test_s2_unknown_identity_needs_only_an_outcome(sample_record):
    sample_record["children"] = [{"identity_known": False, "outcome": "died"}]
    loaded = load(sample_record)
    assert loaded["children"][0]["date_of_birth"] is None


def test_s2_unknown_identity_may_give_an_age(sample_record):
    sample_record["children"] = [{"identity_known": False, "outcome": "died", "age_years": 4}]
    assert load(sample_record)["children"][0]["age_years"] == 4


@pytest.mark.parametrize(
    "child_update",
    [{"date_of_birth": None, "age_years": 7}, {"date_of_birth": None, "unborn": True}],
    ids=["age_years", "unborn"],
)
def test_known_child_may_give_age_or_unborn_instead_of_birth_date(sample_record, child_update):
    sample_record["children"][0].update(child_update)
    load(sample_record)


def test_known_child_needs_birth_date_age_or_unborn(sample_record):
    record = set_path(sample_record, "children.0.date_of_birth", None)
    assert "date_of_birth, age_years or unborn" in problems(record)["children.0.date_of_birth"]


def test_date_of_death_only_with_outcome_died(sample_record):
    record = set_path(sample_record, "children.0.outcome", "seriously_harmed")
    record = set_path(record, "incident.nature", "serious_harm")
    assert "not 'died'" in problems(record)["children.0.date_of_death"]


def test_date_of_death_not_before_birth(sample_record):
    record = set_path(sample_record, "children.0.date_of_death", "2014-01-01")
    assert "before the date of birth" in problems(record)["children.0.date_of_death"]


def test_unborn_child_has_no_birth_date(sample_record):
    record = set_path(sample_record, "children.0.unborn", True)
    assert "unborn" in problems(record)["children.0.date_of_birth"]


def test_became_aware_not_before_incident(sample_record):
    record = set_path(sample_record, "incident.became_aware_on", "2026-11-19")
    assert "before the incident date" in problems(record)["incident.became_aware_on"]


def test_became_aware_not_in_the_future_when_submitted(sample_record):
    record = set_path(sample_record, "incident.became_aware_on", "2026-11-28")
    assert "in the future" in problems(record, today=TODAY)["incident.became_aware_on"]


def test_future_became_aware_is_not_an_error_without_today(sample_record):
    """`plan` asks what-if questions about future dates: it only warns (DESIGN.md §3)."""
    load(set_path(sample_record, "incident.became_aware_on", "2027-01-04"), today=None)


def test_every_child_is_kept(sample_record):
    child = sample_record["children"][0]
    sample_record["children"] = [dict(child, forenames=f"Child{i}") for i in range(6)]
    assert len(load(sample_record)["children"]) == 6


def test_children_are_bounded(sample_record):
    sample_record["children"] = sample_record["children"] * (MAX_CHILDREN + 1)
    assert "children" in problems(sample_record)


def test_many_children_are_all_kept(sample_record):
    """§2 speaks of the abuse of many children in one institution: every child is kept."""
    sample_record["children"] = sample_record["children"] * 51
    assert len(load(sample_record)["children"]) == 51


@pytest.mark.parametrize("padded", [" NEL-2026-014", "NEL-2026-014 ", "\tNEL-2026-014\n"])
def test_a_reference_is_kept_without_surrounding_spaces(sample_record, padded):
    """§4: one notification per reference; a padded one is the same incident, not a second."""
    assert (
        load(set_path(sample_record, "incident.reference", padded))["incident"]["reference"]
        == "NEL-2026-014"
    )


def test_a_blank_reference_is_refused(sample_record):
    assert "incident.reference" in problems(set_path(sample_record, "incident.reference", "   "))


@pytest.mark.parametrize("shown", ["943 476 5919", "943-476-5919", " 9434765919 "])
def test_an_nhs_number_in_its_display_form_is_kept_as_its_digits(sample_record, shown):
    sample_record["children"][0]["nhs_number"] = shown
    assert load(sample_record)["children"][0]["nhs_number"] == "9434765919"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("DN31 1HU", "DN31 1HU"),
        ("dn31 1hu", "DN31 1HU"),
        ("DN311HU", "DN31 1HU"),
        ("dn311hu", "DN31 1HU"),
        (" DN31  1HU ", "DN31 1HU"),
        ("ec1a1bb", "EC1A 1BB"),
        ("W1A0AX", "W1A 0AX"),
        ("m11ae", "M1 1AE"),
    ],
)
def test_a_postcode_is_kept_in_its_normal_form(sample_record, given, kept):
    """One form in every document sent: upper case, one space before the inward code."""
    loaded = load(set_path(sample_record, "incident.location.postcode", given))
    assert loaded["incident"]["location"]["postcode"] == kept
    assert IncidentRecordSchema().dump(loaded)["incident"]["location"]["postcode"] == kept


@pytest.mark.parametrize("given", ["D N31 1HU", "DN31 1H", "DN31-1HU", "\uff24N31 1HU", "DN31"])
def test_a_postcode_that_is_not_one_is_refused_quoting_it(sample_record, given):
    found = problems(set_path(sample_record, "incident.location.postcode", given))
    assert found["incident.location.postcode"] == (
        f"'{given}' is not a UK postcode: expected one such as DN31 1HU"
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("children.0.sex", 5, "expected one of: "),
        ("incident.date", "20/11/2025", "expected YYYY-MM-DD"),
    ],
)
def test_type_errors_say_what_was_expected(sample_record, path, value, expected):
    """§3: a field-level error naming the allowed values (or the date form)."""
    assert expected in problems(set_path(sample_record, path, value))[path]


def test_free_text_is_bounded(sample_record):
    assert "incident.summary" in problems(set_path(sample_record, "incident.summary", "x" * 20_001))


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        ("incident.suicide", "yes", "expected a JSON boolean"),
        ("incident.historical_harm", 0, "expected a JSON boolean"),
        ("children.0.identity_known", "true", "expected a JSON boolean"),
        ("children.0.age_years", "12", "expected a JSON integer"),
        ("children.0.age_years", 12.0, "expected a JSON integer"),
        ("children.0.age_years", True, "expected a JSON integer"),
    ],
)
def test_booleans_and_numbers_are_json_ones_not_strings(
    sample_record: dict[str, Any], path: str, value: Any, says: str
) -> None:
    """§3: a record is JSON; "yes" or 0 where a boolean goes is a mistake to report, not to
    guess at ("no" and "0" read as false by a lenient parser would silently flip a fact)."""
    found = problems(set_path(sample_record, path, value))
    assert found == {path: says}
