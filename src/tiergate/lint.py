"""Rulebook lint: the checks a rulebook must pass beyond its schema.

Each problem is a sentence naming the file and the entry. The test suite runs `lint` on the
bundled rulebook (and on deliberately broken copies, to show each check can fail).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pycountry

from tiergate.catalog import catalog_key
from tiergate.countries import EXTRA_CODES
from tiergate.rulebook import (
    Advisory,
    Dated,
    LicenceException,
    ReviewPolicy,
    Rule,
    Rulebook,
    Test,
    Tier,
)

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


def _ids_by_source(rb: Rulebook) -> dict[str, list[str]]:
    """The ids of every file's entries, by the file (and section) that holds them."""
    return {
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


def _duplicate_ids(rb: Rulebook) -> list[str]:
    """Ids used twice in one file, and ids shared between rules, exceptions and advisories
    (a decision's reasons name them, so one id must mean one entry)."""
    problems = []
    id_sources = _ids_by_source(rb)
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
    return problems


CITATION = re.compile(r"(\d+\s*FR\s*\d+|CFR|§|\b7\d\d\.\d+|ECCN|CCL|BIS|Part\s+7\d\d)")


def _uncited_entries(rb: Rulebook) -> list[str]:
    """Decision-making entries whose citation names no FR page, CFR section, CCL entry or BIS
    document."""
    cited = [
        *rb.rules.rules,
        *rb.exceptions.exceptions,
        *rb.advisories.advisories,
        *rb.allowances.allowances,
        *rb.item_classes.classes,
    ]
    return [
        f"`{fact.id}` cites `{fact.citation}`, which names no FR page, CFR section, CCL "
        "entry or BIS document"
        for fact in cited
        if not CITATION.search(fact.citation)
    ]


def _unknown_code(code: str, where: str) -> list[str]:
    if code in KNOWN_CODES:
        return []
    return [f"{where}: `{code}` is not an ISO 3166-1 alpha-2 code"]


def _country_codes_and_memberships(rb: Rulebook) -> list[str]:
    """Country codes that are not ISO 3166-1 alpha-2 (or tiergate's extra codes), and country
    group members that are uncertain without a note or dated without a citation (reported as
    each member is met, in the file's order)."""
    problems = []
    for alias in rb.countries.aliases:
        problems += _unknown_code(alias.code, f"countries.yaml alias `{alias.name}`")
    for ambiguous in rb.countries.ambiguous:
        for code in ambiguous.choices:
            problems += _unknown_code(code, f"countries.yaml ambiguous name `{ambiguous.name}`")
    for treated in rb.countries.treated_as:
        problems += _unknown_code(treated.code, f"countries.yaml `{treated.id}`")
        problems += _unknown_code(treated.treated_as, f"countries.yaml `{treated.id}`")
    for region in rb.countries.regions:
        problems += _unknown_code(region.country, f"countries.yaml region `{region.id}`")
    for group in rb.country_groups.groups:
        for member in group.members:
            problems += _unknown_code(member.country, f"country_groups.yaml group `{group.id}`")
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
                problems += _unknown_code(term.country, f"destination_sets.yaml `{definition.id}`")
    return problems


def _rule_fact(r: Rule) -> tuple[object, ...]:
    """Everything that decides where and to what a rule applies: two rules alike in all of it
    state the same fact."""
    return (
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
    )


def _exception_fact(e: LicenceException) -> tuple[object, ...]:
    """Everything that decides where and to what a licence exception applies."""
    return (
        e.symbol,
        e.destinations,
        e.headquarters_in,
        e.headquarters_not_in,
        tuple(e.requires_veu or ()),
        tuple(e.scopes),
        tuple(e.views),
        tuple(e.eccns or ()),
        _test_key(e.item_conditions),
    )


def _overlapping_intervals(rb: Rulebook) -> list[str]:
    """The same fact stated twice over intervals that overlap: group memberships, rules,
    licence exceptions, and territories treated as another country."""
    baseline = rb.country_groups.baseline_from
    memberships = (
        (
            (group.id, m.country),
            (m.effective_from or baseline, m.effective_to),
            f"{group.id}:{m.country}",
        )
        for group in rb.country_groups.groups
        for m in group.members
    )
    return [
        *_find_overlaps(memberships, "country_groups.yaml"),
        *_find_overlaps(
            ((_rule_fact(r), _interval(r), r.id) for r in rb.rules.rules), "rules.yaml"
        ),
        *_find_overlaps(
            ((_exception_fact(e), _interval(e), e.id) for e in rb.exceptions.exceptions),
            "exceptions.yaml",
        ),
        *_find_overlaps(
            ((t.code, _interval(t), t.id) for t in rb.countries.treated_as), "countries.yaml"
        ),
    ]


@dataclass(frozen=True, slots=True)
class _Names:
    """The names one rulebook file may use from another, each kind as its file defines them."""

    destination_sets: frozenset[str]
    country_groups: frozenset[str]
    scopes: frozenset[str]
    exception_symbols: frozenset[str]
    rules: frozenset[str]
    allowances: frozenset[str]
    allocations: frozenset[str]  # the per-country allowances a rule may count against
    chips: frozenset[str]
    regions: frozenset[str]
    end_uses: frozenset[str]

    @classmethod
    def of(cls, rb: Rulebook) -> _Names:
        """The names `rb` defines."""
        return cls(
            destination_sets=frozenset(s.id for s in rb.destination_sets.sets),
            country_groups=frozenset(g.id for g in rb.country_groups.groups),
            scopes=frozenset(rb.item_classes.scopes),
            exception_symbols=frozenset(e.symbol for e in rb.exceptions.exceptions),
            rules=frozenset(r.id for r in rb.rules.rules),
            allowances=frozenset(a.id for a in rb.allowances.allowances),
            allocations=frozenset(
                a.id for a in rb.allowances.allowances if a.kind == "per_country_period"
            ),
            chips=frozenset(c.id for c in rb.chips.chips),
            regions=frozenset(r.id for r in rb.countries.regions),
            end_uses=frozenset(rb.rules.end_uses),
        )


def _unknown(value: str | None, known: frozenset[str], what: str, where: str) -> list[str]:
    if value is None or value in known:
        return []
    return [f"{where}: unknown {what} `{value}`"]


def _uncompiled_eccn_patterns(patterns: list[str] | None, where: str) -> list[str]:
    problems = []
    for pattern in patterns or ():
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"{where}: ECCN pattern `{pattern}` does not compile: {exc}")
    return problems


def _rule_problems(r: Rule, names: _Names) -> list[str]:
    """A rule's unknown references, its tier against its review policy, and its ECCN patterns
    that do not compile, in that order of its fields."""
    where = f"rule `{r.id}`"
    problems = []
    for value in (r.destinations, r.headquarters, r.end_use_destinations, r.headquarters_outside):
        problems += _unknown(value, names.destination_sets, "destination set", where)
    # The one rule for tiers (README, "Tiers"): a presumption of denial is `prohibited`.
    if (r.review_policy is ReviewPolicy.DENIAL) != (r.tier is Tier.PROHIBITED):
        problems.append(
            f"{where}: review policy `{r.review_policy}` with tier `{r.tier}`: a denial "
            "policy gives tier `prohibited`, and only a denial policy does"
        )
    for scope in r.scopes or ():
        problems += _unknown(scope, names.scopes, "scope", where)
    for symbol in r.exceptions:
        problems += _unknown(symbol, names.exception_symbols, "licence exception symbol", where)
    for other in r.supersedes:
        problems += _unknown(other, names.rules, "rule", where)
    problems += _unknown(r.allocation, names.allocations, "per-country allowance", where)
    problems += _uncompiled_eccn_patterns(r.eccns, where)
    for region_id in r.regions or ():
        problems += _unknown(region_id, names.regions, "region", where)
    for end_use in r.end_uses or ():
        problems += _unknown(end_use, names.end_uses, "end use", where)
    return problems


def _exception_problems(e: LicenceException, names: _Names) -> list[str]:
    """A licence exception's unknown references and its ECCN patterns that do not compile."""
    where = f"exception `{e.id}`"
    problems = []
    for value in (e.destinations, e.headquarters_in, e.headquarters_not_in):
        problems += _unknown(value, names.destination_sets, "destination set", where)
    for scope in e.scopes:
        problems += _unknown(scope, names.scopes, "scope", where)
    problems += _unknown(e.allowance, names.allowances, "allowance", where)
    problems += _uncompiled_eccn_patterns(e.eccns, where)
    return problems


def _advisory_problems(a: Advisory, names: _Names) -> list[str]:
    """An advisory's unknown references."""
    where = f"advisory `{a.id}`"
    problems = [
        *_unknown(a.destinations, names.destination_sets, "destination set", where),
        *_unknown(a.headquarters, names.destination_sets, "destination set", where),
    ]
    for region_id in a.regions or ():
        problems += _unknown(region_id, names.regions, "region", where)
    for scope in a.scopes or ():
        problems += _unknown(scope, names.scopes, "scope", where)
    for chip_id in a.chips or ():
        problems += _unknown(chip_id, names.chips, "chip", where)
    for end_use in a.end_uses or ():
        problems += _unknown(end_use, names.end_uses, "end use", where)
    return problems


def _item_class_problems(rb: Rulebook, names: _Names) -> list[str]:
    """Unknown scopes in item_classes.yaml, and ECCN scope patterns that do not compile."""
    problems = []
    for scope in rb.item_classes.outside_ear:
        problems += _unknown(scope, names.scopes, "scope", "item_classes.yaml outside_ear")
    for item_class in rb.item_classes.classes:
        where = f"item class `{item_class.id}`"
        problems += _unknown(item_class.scope, names.scopes, "scope", where)
        problems += _unknown(item_class.non_datacenter_scope, names.scopes, "scope", where)
    for entry in rb.item_classes.eccn_scopes:
        problems += _unknown(entry.scope, names.scopes, "scope", f"eccn scope `{entry.id}`")
        try:
            re.compile(entry.pattern)
        except re.error as exc:
            problems.append(f"eccn scope `{entry.id}`: pattern does not compile: {exc}")
    return problems


def _references_between_files(rb: Rulebook) -> list[str]:
    """Names one file uses that the file defining them lacks, file by file; with them, as each
    entry is met, a rule's tier against its review policy and patterns that do not compile."""
    names = _Names.of(rb)
    problems = []
    for definition in rb.destination_sets.sets:
        where = f"destination set `{definition.id}`"
        for term in [*definition.any_of, *definition.none_of]:
            problems += _unknown(term.group, names.country_groups, "country group", where)
            problems += _unknown(term.set, names.destination_sets, "destination set", where)
    for r in rb.rules.rules:
        problems += _rule_problems(r, names)
    for e in rb.exceptions.exceptions:
        problems += _exception_problems(e, names)
    for a in rb.advisories.advisories:
        problems += _advisory_problems(a, names)
    problems += _item_class_problems(rb, names)
    for chip in rb.chips.chips:
        if chip.contains is not None:
            problems += _unknown(chip.contains.chip, names.chips, "chip", f"chip `{chip.id}`")
    return problems


def _catalog_names(rb: Rulebook) -> list[str]:
    """Chip names and aliases that resolve to more than one chip in the catalog."""
    problems = []
    seen: dict[str, str] = {}
    for chip in rb.chips.chips:
        for name in dict.fromkeys((chip.id, chip.name, *chip.aliases)):  # in order, once
            key = catalog_key(name)
            if key in seen and seen[key] != chip.id:
                problems.append(f"chips.yaml: `{name}` names both `{seen[key]}` and `{chip.id}`")
            seen[key] = chip.id
    return problems


# The checks in the order their problems are listed.
CHECKS: tuple[Callable[[Rulebook], list[str]], ...] = (
    _duplicate_ids,
    _uncited_entries,
    _country_codes_and_memberships,
    _overlapping_intervals,
    _references_between_files,
    _catalog_names,
)


def lint(rulebook: Rulebook) -> list[str]:
    """Every problem found in `rulebook`; an empty list means it passes."""
    return [problem for check in CHECKS for problem in check(rulebook)]
