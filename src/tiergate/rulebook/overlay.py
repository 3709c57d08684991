"""Rulebook overlays: a YAML file of rules, licence exceptions, advisories, destination sets
and allowances added to the bundled rulebook or replacing its entries of the same id, so an
analyst can see what a proposed or hypothetical rule would do to a real book
(`tiergate diff --rulebook-overlay`).

An overlay is loaded as strictly as the bundled rulebook: every entry is parsed with the
bundled file's model (unknown keys, wrong types and missing citations are errors naming the
overlay file and the path inside it), and the rulebook it makes must pass `tiergate.lint`
(known ids, no overlapping dated facts, known countries). A rule of the bundled rulebook is
ended the way the regulations end one: give it again, with an `effective_to`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import Field, ValidationError

from tiergate.errors import OverlayError, RulebookError
from tiergate.rulebook.base import Strict
from tiergate.rulebook.loader import Rulebook
from tiergate.rulebook.parse import describe, parse
from tiergate.rulebook.places import DestinationSet
from tiergate.rulebook.rules import Advisory, Allowance, LicenceException, Rule


class Overlay(Strict):
    """What an overlay file holds: a name and where the proposal comes from, then entries."""

    name: str
    description: str
    citation: str
    rules: list[Rule] = Field(default=[])
    exceptions: list[LicenceException] = Field(default=[])
    advisories: list[Advisory] = Field(default=[])
    destination_sets: list[DestinationSet] = Field(default=[])
    allowances: list[Allowance] = Field(default=[])


class Identified(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=Identified)


def merged(bundled: Sequence[E], given: Sequence[E], what: str, source: str) -> list[E]:
    """`bundled` with each entry of `given` replacing the one of the same id, in place, or
    added at the end; an id given twice in the overlay is refused."""
    by_id: dict[str, E] = {}
    for entry in given:
        if entry.id in by_id:
            raise OverlayError(f"rulebook overlay `{source}` gives {what} `{entry.id}` twice")
        by_id[entry.id] = entry
    known = {entry.id for entry in bundled}
    kept = [by_id.get(entry.id, entry) for entry in bundled]
    return kept + [entry for entry in given if entry.id not in known]


def apply_overlay(rulebook: Rulebook, overlay: Overlay, text: str, source: str) -> Rulebook:
    """`rulebook` with `overlay` applied, named by its content and the overlay's text, and
    checked by `tiergate.lint`."""
    from tiergate.lint import lint

    rules = rulebook.rules
    exceptions = rulebook.exceptions
    advisories = rulebook.advisories
    sets = rulebook.destination_sets
    allowances = rulebook.allowances
    digest = hashlib.sha256(f"{rulebook.content_hash}\0{text}".encode()).hexdigest()
    try:
        overlaid = Rulebook(
            meta=rulebook.meta,
            countries=rulebook.countries,
            country_groups=rulebook.country_groups,
            destination_sets=type(sets)(
                sets=merged(sets.sets, overlay.destination_sets, "destination set", source)
            ),
            item_classes=rulebook.item_classes,
            rules=type(rules)(
                end_uses=rules.end_uses,
                standing=rules.standing,
                rules=merged(rules.rules, overlay.rules, "rule", source),
            ),
            exceptions=type(exceptions)(
                exceptions=merged(exceptions.exceptions, overlay.exceptions, "exception", source)
            ),
            advisories=type(advisories)(
                advisories=merged(advisories.advisories, overlay.advisories, "advisory", source)
            ),
            allowances=type(allowances)(
                allowances=merged(allowances.allowances, overlay.allowances, "allowance", source)
            ),
            chips=rulebook.chips,
            content_hash=digest,
        )
    except ValidationError as exc:
        raise OverlayError(describe(exc, f"rulebook overlay `{source}`")) from exc
    problems = lint(overlaid)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise OverlayError(f"rulebook overlay `{source}` makes an invalid rulebook:\n{listed}")
    return overlaid


def read_overlay(path: Path) -> tuple[Overlay, str]:
    """The overlay file at `path`, parsed strictly, and its text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OverlayError(f"cannot read rulebook overlay `{path}`: {exc}") from exc
    return parse_overlay(raw, str(path))


def parse_overlay(raw: bytes, source: str) -> tuple[Overlay, str]:
    """The overlay `raw` (YAML, UTF-8) named `source`, parsed strictly, and its text."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OverlayError(f"cannot read rulebook overlay `{source}`: {exc}") from exc
    try:
        return parse(Overlay, text, source), text
    except RulebookError as exc:
        raise OverlayError(str(exc).replace("rulebook file", "rulebook overlay", 1)) from exc
