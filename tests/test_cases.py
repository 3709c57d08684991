"""Determination cases as data: every `tests/cases/*.yaml` case runs through `tiergate.check`.

A case gives the input in the JSON input format (`shipments`), the as-of date (or none, to use
each line's own date), the view, and what each line must come out as. Unknown keys are
rejected, so a mistyped expectation cannot silently pass.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

import tiergate
from tiergate.inputs import parse_json_document

CASES_DIR = Path(__file__).parent / "cases"


class Want(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: str | None = None
    outcome: str
    tier: str | None = None
    no_tier: bool = False
    exception: str | None = None
    review_policy: str | None = None
    eccn: str | None = None
    destination: str | None = None
    reasons_include: list[str] = []
    reasons_exclude: list[str] = []
    conditions_include: list[str] = []
    errors_include: list[str] = []
    uncertain: bool | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    as_of: date | None = None
    view: str = "enforced"
    country_allocation_tpp: float | None = None
    input: dict[str, Any]
    want: list[Want] = Field(min_length=1)


def _load() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            cases.append(Case.model_validate(raw))
    return cases


CASES = _load()


def test_case_names_are_unique_and_plentiful() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    assert len(names) >= 80


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case) -> None:
    lines = parse_json_document(case.input, case.name)
    engine = (
        tiergate.Engine(country_allocation_tpp=case.country_allocation_tpp)
        if case.country_allocation_tpp
        else tiergate.default_engine()
    )
    report = engine.check(lines, as_of=case.as_of, view=tiergate.View(case.view))
    assert report.summary.lines_in == report.summary.lines_out == len(lines)
    by_id = {line.line_id: line for line in report.lines}
    for index, want in enumerate(case.want):
        got = by_id[want.line_id] if want.line_id is not None else report.lines[index]
        rule_ids = [r.rule for r in got.reasons]
        context = f"{case.name} line {got.line_id}: reasons {rule_ids}, errors {got.errors}"
        assert got.outcome.value == want.outcome, context
        if want.tier is not None:
            assert got.tier is not None, context
            assert got.tier.value == want.tier, context
        if want.no_tier:
            assert got.tier is None, context
        if want.exception is not None:
            assert got.exception == want.exception, context
        if want.review_policy is not None:
            assert got.review_policy is not None, context
            assert got.review_policy.value == want.review_policy, context
        if want.eccn is not None:
            assert got.eccn == want.eccn, context
        if want.destination is not None:
            assert got.destination == want.destination, context
        rules = {reason.rule for reason in got.reasons}
        for rule in want.reasons_include:
            assert rule in rules, context
        for rule in want.reasons_exclude:
            assert rule not in rules, context
        for text in want.conditions_include:
            assert any(text in condition for condition in got.conditions), context
        for text in want.errors_include:
            assert any(text in error for error in got.errors), context
        if want.uncertain is not None:
            assert got.uncertain is want.uncertain, context


def test_every_rule_exception_advisory_and_allowance_has_a_case() -> None:
    from tiergate.rulebook import default_rulebook

    rb = default_rulebook()
    ids = (
        {r.id for r in rb.rules.rules}
        | {e.id for e in rb.exceptions.exceptions}
        | {a.id for a in rb.advisories.advisories}
        | {a.id for a in rb.allowances.allowances}
    )
    named = {rule for case in CASES for want in case.want for rule in want.reasons_include}
    assert sorted(ids - named) == []
