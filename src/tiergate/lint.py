"""Rulebook lint: the checks a rulebook must pass beyond its schema.

Each problem is a sentence naming the file and the entry. The test suite runs `lint` on the
bundled rulebook (and on deliberately broken copies, to show each check can fail).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date

import pycountry

from tiergate.catalog import catalog_key
from tiergate.countries import EXTRA_CODES
from tiergate.rulebook import Dated, ReviewPolicy, Rulebook, Test, Tier

KNOWN_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | frozenset(EXTRA_CODES)


def _overlaps(a: tuple[date, date | None], b: tuple[date, date | None]) -> bool:
    a_end = a[1] or date.max
    b_end = b[1] or date.max
    return a[0] <= b_end and b[0] <= a_end


def _find_overlaps(
    facts: Iterable[tuple[object, tuple[date, date | None], str]], what: str
) -> list[str]:
    by_key: dict[object, list[tuple[tuple[date, date | None], str]]] = defaultdict(list)
    problems = []
    for key, interval, label in facts:
        for other_interval, other_label in by_key[key]:
            if _overlaps(interval, other_interval):
                problems.append(
                    f"{what}: `{label}` and `{other_label}` state the same fact over overlapping "
                    f"intervals ({interval[0]}..{interval[1] or 'open'} and "
                    f"{other_interval[0]}..{other_interval[1] or 'open'})"
                )
        by_key[key].append((interval, label))
    return problems


def _interval(fact: Dated) -> tuple[date, date | None]:
    return (fact.effective_from, fact.effective_to)


def _test_key(test: Test | None) -> str:
    return "" if test is None else test.model_dump_json(exclude_none=True)


def lint(rulebook: Rulebook) -> list[str]:
    """Every problem found in `rulebook`; an empty list means it passes."""
    rb = rulebook
    problems: list[str] = []

    # Duplicate ids, per file and across the files that share a namespace.
    id_sources = {
        "rules.yaml": [r.id for r in rb.rules.rules],
        "exceptions.yaml": [e.id for e in rb.exceptions.exceptions],
        "advisories.yaml": [a.id for a in rb.advisories.advisories],
        "allowances.yaml": [a.id for a in rb.allowances.allowances],
        "item_classes.yaml": [c.id for c in rb.item_classes.classes],
        "item_classes.yaml eccn_scopes": [e.id for e in rb.item_classes.eccn_scopes],
        "destination_sets.yaml": [s.id for s in rb.destination_sets.sets],
        "country_groups.yaml": [g.id for g in rb.country_groups.groups],
        "chips.yaml": [c.id for c in rb.chips.chips],
    }
    for source, ids in id_sources.items():
        for entry_id, count in Counter(ids).items():
            if count > 1:
                problems.append(f"{source}: id `{entry_id}` is used {count} times")
    decision_ids = (
        id_sources["rules.yaml"] + id_sources["exceptions.yaml"] + id_sources["advisories.yaml"]
    )
    for entry_id, count in Counter(decision_ids).items():
        if count > 1:
            problems.append(f"rule, exception and advisory ids must be unique: `{entry_id}`")

    # Citations: every decision-making entry cites its source.
    cited = [
        *rb.rules.rules,
        *rb.exceptions.exceptions,
        *rb.advisories.advisories,
        *rb.allowances.allowances,
        *rb.item_classes.classes,
    ]
    citation = re.compile(r"(\d+\s*FR\s*\d+|CFR|§|\b7\d\d\.\d+|ECCN|CCL|BIS|Part\s+7\d\d)")
    for fact in cited:
        if not citation.search(fact.citation):
            problems.append(
                f"`{fact.id}` cites `{fact.citation}`, which names no FR page, CFR section, CCL "
                "entry or BIS document"
            )

    # Country codes.
    def check_code(code: str, where: str) -> None:
        if code not in KNOWN_CODES:
            problems.append(f"{where}: `{code}` is not an ISO 3166-1 alpha-2 code")

    for alias in rb.countries.aliases:
        check_code(alias.code, f"countries.yaml alias `{alias.name}`")
    for ambiguous in rb.countries.ambiguous:
        for code in ambiguous.choices:
            check_code(code, f"countries.yaml ambiguous name `{ambiguous.name}`")
    for treated in rb.countries.treated_as:
        check_code(treated.code, f"countries.yaml `{treated.id}`")
        check_code(treated.treated_as, f"countries.yaml `{treated.id}`")
    for region in rb.countries.regions:
        check_code(region.country, f"countries.yaml region `{region.id}`")
    for group in rb.country_groups.groups:
        for member in group.members:
            check_code(member.country, f"country_groups.yaml group `{group.id}`")
            if member.uncertain and not member.uncertain_note:
                problems.append(
                    f"country_groups.yaml: `{group.id}` member `{member.country}` is uncertain "
                    "without an uncertain_note"
                )
            if (member.effective_from or member.effective_to) and not member.citation:
                problems.append(
                    f"country_groups.yaml: dated member `{member.country}` of `{group.id}` has "
                    "no citation"
                )
    for definition in rb.destination_sets.sets:
        for term in [*definition.any_of, *definition.none_of]:
            if term.country is not None:
                check_code(term.country, f"destination_sets.yaml `{definition.id}`")

    # Overlapping intervals for the same fact.
    baseline = rb.country_groups.baseline_from
    problems += _find_overlaps(
        (
            (
                (group.id, m.country),
                (m.effective_from or baseline, m.effective_to),
                f"{group.id}:{m.country}",
            )
            for group in rb.country_groups.groups
            for m in group.members
        ),
        "country_groups.yaml",
    )
    problems += _find_overlaps(
        (
            (
                (
                    r.kind,
                    r.destinations,
                    r.headquarters,
                    r.end_use_destinations,
                    tuple(r.scopes or ()),
                    tuple(r.views),
                    tuple(r.transactions or ()),
                    tuple(r.end_uses or ()),
                    tuple(r.regions or ()),
                    _test_key(r.item_conditions),
                    r.headquarters_outside,
                    tuple(r.item_types or ()),
                    tuple(r.eccns or ()),
                ),
                _interval(r),
                r.id,
            )
            for r in rb.rules.rules
        ),
        "rules.yaml",
    )
    problems += _find_overlaps(
        (
            (
                (
                    e.symbol,
                    e.destinations,
                    e.headquarters_in,
                    e.headquarters_not_in,
                    tuple(e.requires_veu or ()),
                    tuple(e.scopes),
                    tuple(e.views),
                    tuple(e.eccns or ()),
                    _test_key(e.item_conditions),
                ),
                _interval(e),
                e.id,
            )
            for e in rb.exceptions.exceptions
        ),
        "exceptions.yaml",
    )
    problems += _find_overlaps(
        ((t.code, _interval(t), t.id) for t in rb.countries.treated_as), "countries.yaml"
    )

    # References between files.
    set_ids = set(id_sources["destination_sets.yaml"])
    group_ids = set(id_sources["country_groups.yaml"])
    scopes = set(rb.item_classes.scopes)
    symbols = {e.symbol for e in rb.exceptions.exceptions}
    rule_ids = set(id_sources["rules.yaml"])
    allowance_ids = set(id_sources["allowances.yaml"])
    chip_ids = set(id_sources["chips.yaml"])
    region_ids = {r.id for r in rb.countries.regions}
    end_uses = set(rb.rules.end_uses)

    def ref(value: str | None, known: set[str], what: str, where: str) -> None:
        if value is not None and value not in known:
            problems.append(f"{where}: unknown {what} `{value}`")

    for definition in rb.destination_sets.sets:
        for term in [*definition.any_of, *definition.none_of]:
            ref(term.group, group_ids, "country group", f"destination set `{definition.id}`")
            ref(term.set, set_ids, "destination set", f"destination set `{definition.id}`")
    for r in rb.rules.rules:
        where = f"rule `{r.id}`"
        for value in (
            r.destinations,
            r.headquarters,
            r.end_use_destinations,
            r.headquarters_outside,
        ):
            ref(value, set_ids, "destination set", where)
        # The one rule for tiers (README, "Tiers"): a presumption of denial is `prohibited`.
        if (r.review_policy is ReviewPolicy.DENIAL) != (r.tier is Tier.PROHIBITED):
            problems.append(
                f"{where}: review policy `{r.review_policy}` with tier `{r.tier}`: a denial "
                "policy gives tier `prohibited`, and only a denial policy does"
            )
        for scope in r.scopes or ():
            ref(scope, scopes, "scope", where)
        for symbol in r.exceptions:
            ref(symbol, symbols, "licence exception symbol", where)
        for other in r.supersedes:
            ref(other, rule_ids, "rule", where)
        ref(r.allocation, allowance_ids, "allowance", where)
        for pattern in r.eccns or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}: ECCN pattern `{pattern}` does not compile: {exc}")
        for region_id in r.regions or ():
            ref(region_id, region_ids, "region", where)
        for end_use in r.end_uses or ():
            ref(end_use, end_uses, "end use", where)
    for e in rb.exceptions.exceptions:
        where = f"exception `{e.id}`"
        for value in (e.destinations, e.headquarters_in, e.headquarters_not_in):
            ref(value, set_ids, "destination set", where)
        for scope in e.scopes:
            ref(scope, scopes, "scope", where)
        ref(e.allowance, allowance_ids, "allowance", where)
        for pattern in e.eccns or ():
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{where}: ECCN pattern `{pattern}` does not compile: {exc}")
    for a in rb.advisories.advisories:
        where = f"advisory `{a.id}`"
        ref(a.destinations, set_ids, "destination set", where)
        ref(a.headquarters, set_ids, "destination set", where)
        for region_id in a.regions or ():
            ref(region_id, region_ids, "region", where)
        for scope in a.scopes or ():
            ref(scope, scopes, "scope", where)
        for chip_id in a.chips or ():
            ref(chip_id, chip_ids, "chip", where)
        for end_use in a.end_uses or ():
            ref(end_use, end_uses, "end use", where)
    for scope in rb.item_classes.outside_ear:
        ref(scope, scopes, "scope", "item_classes.yaml outside_ear")
    for item_class in rb.item_classes.classes:
        ref(item_class.scope, scopes, "scope", f"item class `{item_class.id}`")
        ref(item_class.non_datacenter_scope, scopes, "scope", f"item class `{item_class.id}`")
    for entry in rb.item_classes.eccn_scopes:
        ref(entry.scope, scopes, "scope", f"eccn scope `{entry.id}`")
        try:
            re.compile(entry.pattern)
        except re.error as exc:
            problems.append(f"eccn scope `{entry.id}`: pattern does not compile: {exc}")
    for chip in rb.chips.chips:
        if chip.contains is not None:
            ref(chip.contains.chip, chip_ids, "chip", f"chip `{chip.id}`")

    # Catalog names must resolve to one chip only.
    seen: dict[str, str] = {}
    for chip in rb.chips.chips:
        for name in {chip.id, chip.name, *chip.aliases}:
            key = catalog_key(name)
            if key in seen and seen[key] != chip.id:
                problems.append(f"chips.yaml: `{name}` names both `{seen[key]}` and `{chip.id}`")
            seen[key] = chip.id
    return problems
