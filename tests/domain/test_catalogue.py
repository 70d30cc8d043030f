"""The catalogue (``adapter/rules/catalogue.py``): one table of every document the guidance owes.

It is the only place a document's addressees and due rule are written: the code lists agree
with it, the rules and deadlines read it, ``csins-adapter rules`` prints it and ``docs/rules.md``
is that print.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapter.cli import main
from adapter.cli.rules import render_markdown, render_text
from adapter.rules import catalogue
from adapter.rules.catalogue import CATALOGUE, Due, entry
from config.settings import Policy
from schemas import codes
from tests.conftest import REPO

DOCS = REPO / "docs" / "rules.md"


def test_the_code_lists_name_the_catalogues_documents_kinds_and_addressees() -> None:
    assert tuple(d for d in codes.DOCUMENTS if d != "amendment") == catalogue.DOCUMENTS
    assert catalogue.KINDS == codes.OBLIGATION_KINDS
    assert catalogue.ADDRESSEES == codes.DEADLINE_ADDRESSEES
    assert catalogue.NATIONAL_BODIES == codes.ADDRESSEES


@pytest.mark.parametrize("row", CATALOGUE, ids=lambda row: f"{row.document}-{row.case or 'one'}")
def test_every_row_cites_the_guidance_and_is_well_formed(row: catalogue.Entry) -> None:
    assert re.fullmatch(r"§\d+(, §\d+)*", row.section)
    assert len(row.quote) > 40
    assert row.addressees
    assert set(row.addressees) <= set(catalogue.ADDRESSEES)
    assert row.kind in catalogue.KINDS
    assert row.due.count > 0


@pytest.mark.parametrize("row", CATALOGUE, ids=lambda row: f"{row.document}-{row.case or 'one'}")
def test_s5_local_rows_are_never_delivered_to_a_national_body(row: catalogue.Entry) -> None:
    local = any(a in catalogue.LOCAL_ADDRESSEES for a in row.addressees)
    assert row.kind != "local" or local
    if local:
        assert not row.delivered
        assert row.met_by != "delivery"


def test_document_and_case_identify_one_row() -> None:
    keys = [(row.document, row.case) for row in CATALOGUE]
    assert len(keys) == len(set(keys))


def test_s3_s4_lcspr_decision_addressees_by_decision() -> None:
    assert entry("lcspr_decision", "local_review").addressees == ("panel", "ofsted", "dfe")
    assert entry("lcspr_decision", "no_review").addressees == ("panel",)
    assert entry("lcspr_decision", "national_review_recommended").addressees == ("panel",)
    assert {row.case for row in CATALOGUE if row.document == "lcspr_decision"} == set(
        codes.LCSPR_DECISIONS
    )


def test_an_unknown_document_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no catalogue row for 'memo'"):
        entry("memo")


def test_policy_periods_read_their_setting_and_others_do_not() -> None:
    policy = Policy(review_decision_working_days=3, death_notification_working_days=2)
    assert entry("lcspr_decision", "no_review").due.count_for(policy) == 3
    assert entry("care_leaver_death_notification").due.count_for(policy) == 2
    assert entry("incident_notification").due.count_for(policy) == 5
    assert entry("lcspr_decision", "no_review").due.count_for(None) == 5


@pytest.mark.parametrize(
    ("due", "text"),
    [
        (Due(5), "5 working days after"),
        (Due(7, direction="before"), "7 working days before"),
        (Due(6, unit="months"), "6 months after"),
        (Due(1, unit="years"), "1 year after"),
        (Due(5, setting="x_days"), "5 working days after (policy.yaml x_days)"),
    ],
)
def test_a_due_rule_reads_as_words(due: Due, text: str) -> None:
    assert str(due) == text


def test_docs_rules_md_is_what_the_rules_command_prints() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == render_markdown()
    assert DOCS.read_text(encoding="utf-8") == result.output, (
        "docs/rules.md has drifted from the catalogue: regenerate it with "
        "`csins-adapter rules --format markdown > docs/rules.md`"
    )


def test_the_markdown_table_has_a_line_per_row_and_every_quote() -> None:
    page = render_markdown()
    table = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(table) == len(CATALOGUE)
    for row in CATALOGUE:
        assert row.quote in page


def test_the_text_table_names_every_document_with_its_source() -> None:
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0, result.output
    assert result.output == render_text()
    for row in CATALOGUE:
        assert row.document in result.output
    assert "lcspr_decision (local_review)" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 110


def test_no_other_module_writes_a_documents_addressees() -> None:
    """The catalogue is the only place: the rules, deadlines, documents and service name no
    addressee of a document (delivery channels name addressees for routing, not for duty)."""
    written = re.compile(
        r"""["'](secretary_of_state|ofsted|dfe|family|safeguarding_partners)["']"""
    )
    places = [
        *sorted(
            path
            for path in (REPO / "adapter" / "rules").glob("*.py")
            if path.name != "catalogue.py"
        ),
        *sorted((REPO / "adapter" / "deadlines").glob("*.py")),
        *sorted((REPO / "adapter" / "service").glob("*.py")),
    ]
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in places
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1)
        if written.search(line)
    ]
    assert offenders == []
