"""The operations every door offers, in one place: the CLI parses and formats around them, and
the HTTP service and the batch path call the same ones.

A `Workspace` holds what a session of work uses: the ledger (when there is one), the engine
and the screener built with the ledger's suppressions. `Workspace.check` is the whole check
workflow: read the book's bytes once, determine every line against the ledger's allowances,
licences and hold decisions, then audit the check (reserving licence quantity) or commit it,
and record suppressions the screening found lapsed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tiergate.engine import Engine
from tiergate.errors import UsageError
from tiergate.home import ledger_configured
from tiergate.inputs import parse_book, read_input
from tiergate.model import Line, Report
from tiergate.normalise import text
from tiergate.rulebook import View
from tiergate.screening.matcher import default_settings
from tiergate.screening.service import Screener

if TYPE_CHECKING:  # the ledger (SQLAlchemy) is imported by the commands that use it
    from tiergate.ledger.ledger import CommitResult, Ledger


@dataclass(frozen=True, slots=True)
class Settings:
    """How a workspace is set up: the ledger database (`db`: a URL; default
    `TIERGATE_DATABASE_URL`, else the home's SQLite file when it exists), the screening
    thresholds, and the Tier 2 country allocation (default: the rulebook's)."""

    db: str | None = None
    match_threshold: float | None = None
    potential_threshold: float | None = None
    country_allocation_tpp: float | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A checked book: the report (as the ledger recorded it, after a commit), the SHA-256 of
    the bytes that were checked, and what the commit did."""

    report: Report
    input_hash: str
    commit: CommitResult | None = None


@dataclass
class Workspace:
    """The ledger, engine and screener of one session of work, built from `Settings`."""

    settings: Settings = field(default_factory=Settings)
    _ledgers: dict[bool, Ledger] = field(default_factory=dict, repr=False)  # by read_only

    def ledger(self, *, required: bool = False, read_only: bool = False) -> Ledger | None:
        """The ledger in use: `settings.db`, else `TIERGATE_DATABASE_URL`, else the default
        file when it exists. None when there is none, unless `required` (then opening it says
        how to create it). A `read_only` ledger never creates or writes anything."""
        found = self._ledgers.get(read_only)
        if found is None and (required or self.settings.db is not None or ledger_configured()):
            # SQLAlchemy is imported only when there is a ledger to open.
            from tiergate.ledger.ledger import Ledger

            found = self._ledgers[read_only] = Ledger(self.settings.db, read_only=read_only)
        return found

    def close(self) -> None:
        """Give back the ledger's database connections."""
        for ledger in self._ledgers.values():
            ledger.close()

    def screener(self, ledger: Ledger | None) -> Screener:
        """A screener with the settings' thresholds and `ledger`'s suppressions."""
        suppressions = ledger.suppressions() if ledger is not None else []
        match, potential = self.settings.match_threshold, self.settings.potential_threshold
        if match is None and potential is None and not suppressions:
            return Screener.shared()
        settings = default_settings()
        thresholds = settings.thresholds.model_copy(
            update={
                "match": match if match is not None else settings.thresholds.match,
                "potential": potential if potential is not None else settings.thresholds.potential,
            }
        )
        if thresholds.potential > thresholds.match:
            raise UsageError(
                f"--potential-threshold {thresholds.potential} is above --match-threshold "
                f"{thresholds.match}: a possible match must score no more than a match"
            )
        return Screener(
            settings=settings.model_copy(update={"thresholds": thresholds}),
            suppressions=suppressions,
        )

    def check(
        self,
        path: Path,
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        screen: bool = True,
        commit: bool = False,
        reserve: bool = True,
        actor: str = "library",
    ) -> CheckResult:
        """Check the book at `path` against the ledger when there is one (always when
        committing): audited, reserving the licence quantity of covered lines unless not
        `reserve`, or committed. Lines in equal lines out."""
        if commit and not reserve:
            raise UsageError(
                "a commit uses the check's reservations: --no-reserve is for checks that do "
                "not commit"
            )
        ledger = self.ledger(required=commit)
        raw = read_input(path)  # the bytes read once: what is checked is what is hashed
        digest = hashlib.sha256(raw).hexdigest()
        lines = parse_book(raw, path)
        # The list edition and its index are loaded only for a book that names a party.
        screener = self.screener(ledger) if screen and any(map(_names_party, lines)) else None
        engine = Engine(
            country_allocation_tpp=self.settings.country_allocation_tpp, screener=screener
        )
        if as_of is not None:
            engine.check_range(as_of)
        report = _determine(engine, ledger, lines, as_of, view)
        committed = None
        if ledger is not None and commit:
            limits = {
                a.id: engine.allowance_limit(a.id) for a in engine.rulebook.allowances.allowances
            }
            committed = ledger.commit(report, limits, actor, source=str(path), input_hash=digest)
            assert committed.report is not None
            report = committed.report  # what the ledger recorded
        elif ledger is not None:
            ledger.record_check(report, str(path), actor, input_hash=digest, reserve=reserve)
        if ledger is not None and screener is not None:
            ledger.record_lapses(screener.lapsed.values(), actor)
        return CheckResult(report, digest, committed)


def _names_party(line: Line) -> bool:
    parties = (line.consignee, line.end_user, *line.intermediate_consignees)
    return any(text(party.name) is not None for party in parties)


def _determine(
    engine: Engine, ledger: Ledger | None, lines: list[Line], as_of: date | None, view: View
) -> Report:
    """Every line determined against the ledger's allowances, licences and hold decisions;
    the book's own committed lines do not count against it twice."""
    if ledger is None:
        return engine.check(lines, as_of=as_of, view=view)
    keys = {
        (text(line.shipment_id) or "", text(line.line_id) or str(i + 1))
        for i, line in enumerate(lines)
    }
    return engine.check(
        lines,
        as_of=as_of,
        view=view,
        allowances=ledger.allowance_state(exclude=keys),
        licences=ledger.licence_book(exclude=keys),
        hold_decisions=ledger.hold_decisions(),
    )
