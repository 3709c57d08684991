"""The typed values the stages pass on: a finding (one contribution to a line's outcome), a
finding that waits on an allowance, the static part of a line's determination, a line's
normalised bundle, and the work item a line is while it is determined."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from tiergate.classify import Classification
from tiergate.countries import Place
from tiergate.licences import LicenceGrant
from tiergate.model import TIER_SEVERITY, Line, Outcome, Reason
from tiergate.rulebook import Allowance, ReviewPolicy, Tier, Transaction


@dataclass(frozen=True, slots=True)
class Finding:
    """One contribution to a line's outcome."""

    outcome: Outcome
    tier: Tier | None
    review_policy: ReviewPolicy | None = None
    exception: str | None = None
    conditions: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pending:
    """A finding that depends on an allowance: `within` if the line fits, else `beyond`."""

    allowance: Allowance
    key_kind: str  # "consignee" or "country"
    within: Finding
    beyond: Finding | Pending


@dataclass(frozen=True, slots=True, eq=False)
class StaticDetermination:
    """Everything about a line that does not depend on earlier lines. Compared by identity:
    the engine shares one object among the lines that get it (memo keys hold it)."""

    findings: tuple[Finding, ...]
    pendings: tuple[Pending, ...]
    tier: Tier | None


def most_severe_tier(tiers: Iterable[Tier | None]) -> Tier | None:
    """The strictest of `tiers` (None when none is given).

    The one rule for a line's tier (README, "Reading an answer"): the strictest tier among
    the licence requirements that reach the line, each rule declaring its own in the rulebook, and
    `prohibited` for any requirement reviewed under a policy of denial (a rule's presumption of
    denial, a country allocation used up, a list hit reviewed under denial).
    """
    given = [t for t in tiers if t is not None]
    return max(given, key=TIER_SEVERITY.__getitem__) if given else None


def tier_of_policy(policy: ReviewPolicy | None) -> Tier | None:
    """The tier a licence requirement with `policy` gives (None: no licence requirement)."""
    if policy is None:
        return None
    return Tier.PROHIBITED if policy is ReviewPolicy.DENIAL else Tier.RESTRICTED


def needs_licence(finding: Finding) -> bool:
    """An EAR licence requirement (which a held licence replaces), not a list hit."""
    return (
        finding.outcome in (Outcome.LICENSE_REQUIRED, Outcome.PROHIBITED)
        and finding.review_policy is not None
    )


@dataclass(frozen=True, slots=True, eq=False)
class Bundle:
    """A line's static values normalised and classified, with the places and parties they
    name resolved. Compared by identity: the engine shares one among lines with equal static
    values (memo keys hold it)."""

    classification: Classification
    signature: int  # equal for items the rules cannot tell apart
    place: Place | None
    consignee_country: str
    transaction: Transaction
    places: tuple[tuple[Place, str], ...]
    place_keys: tuple[tuple[str, str | None, str], ...]
    hqs: tuple[tuple[str, str], ...]
    end_use: str | None
    end_use_place: Place | None
    veu: str | None
    errors: tuple[str, ...]
    reasons: tuple[Reason, ...]
    base: int  # equal for bundles that combine alike (same classification, place, notes)


@dataclass(slots=True)
class Work:
    """A line being determined: what each stage has found so far."""

    index: int
    line: Line
    as_of: date | None
    errors: list[str]
    reasons: list[Reason]
    classification: Classification | None = None
    quantity: int | None = None
    value: float | None = None
    place: Place | None = None
    consignee_key: str | None = None
    static: StaticDetermination | None = None
    bundle: Bundle | None = None
    resolved: list[Finding] = field(default_factory=list)
    parties: tuple[Finding, ...] = ()
    debits: list[tuple[str, str, str, float]] = field(default_factory=list)
    licence: tuple[LicenceGrant, Finding] | None = None
    hold_decision: HoldDecision | None = None


@dataclass(frozen=True, slots=True)
class HoldDecision:
    """A person's decision on a held line, for the rules (`signature`) that held it."""

    signature: str
    status: str  # "released" or "rejected"
    by: str
    at: str
    reason: str
