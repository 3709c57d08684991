"""The operations every door offers, in one place: the CLI parses and formats around them, and
the HTTP service and the batch path call the same ones.

A `Workspace` holds what a session of work uses: the ledger (when there is one), the engine
and the screener built with the ledger's suppressions. `Workspace.check` is the whole check
workflow: read the book's bytes once, determine every line against the ledger's allowances,
licences and hold decisions, then audit the check (reserving licence quantity) or commit it,
and record suppressions the screening found lapsed. The other operations live beside it, one
module per concern: `reference` (classify, tiers, rules), `screening` (screen, suppressions,
list editions) and `records` (allowances, licences, cancel, holds, audit, the database).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from tiergate import settings as environment
from tiergate.errors import UsageError, option
from tiergate.home import LEDGER_FILE
from tiergate.normalise import text
from tiergate.progress import Progress, Silent
from tiergate.terms import View

if TYPE_CHECKING:  # the engine, the ledger (SQLAlchemy) and screening are imported when used
    from collections.abc import Callable

    from tiergate.batch.checking import Columns, Determined
    from tiergate.batch.reading import Book
    from tiergate.engine import Engine
    from tiergate.ledger.books import Keys
    from tiergate.ledger.ledger import CommitResult, Ledger
    from tiergate.model import Line, Report
    from tiergate.rulebook import Rulebook
    from tiergate.screening.service import Screener

log = logging.getLogger("tiergate")
K = TypeVar("K")
V = TypeVar("V")

# A book from this many lines counts its lines off as they are determined (below, a check
# takes under a second on a laptop; benchmarks/check_rows.py).
LONG_BOOK = 2_000


@dataclass(frozen=True, slots=True)
class Settings:
    """How a workspace is set up: the tiergate home, the ledger database (`db`: a URL; None:
    the home's SQLite file, used when it exists or an operation needs a ledger), the
    screening thresholds and the Tier 2 country allocation (None: the defaults). Build it
    with `Settings.load`, which reads `tiergate.settings`."""

    home: Path
    db: str | None = None
    match_threshold: float | None = None
    potential_threshold: float | None = None
    country_allocation_tpp: float | None = None

    @classmethod
    def load(
        cls,
        *,
        db: str | None = None,
        match_threshold: float | None = None,
        potential_threshold: float | None = None,
        country_allocation_tpp: float | None = None,
    ) -> Settings:
        """The environment's settings as they are now, each value given here (a command's
        option) winning over its environment variable."""
        env = environment.load()
        return cls(
            home=env.home,
            db=db or env.database_url,
            match_threshold=_first(match_threshold, env.match_threshold),
            potential_threshold=_first(potential_threshold, env.potential_threshold),
            country_allocation_tpp=_first(country_allocation_tpp, env.country_allocation_tpp),
        )


def _first(given: float | None, configured: float | None) -> float | None:
    return given if given is not None else configured


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

    settings: Settings = field(default_factory=Settings.load)
    progress: Progress = field(default_factory=Silent)
    # By (read_only, apart).
    _ledgers: dict[tuple[bool, bool], Ledger] = field(default_factory=dict, repr=False)
    # Kept for the next check (a service answers many): engines over the bundled rulebook by
    # screener, and screeners by what built them (suppressions, thresholds, edition, day).
    _engines: dict[Screener | None, Engine] = field(default_factory=dict, repr=False)
    _screeners: dict[tuple[object, ...], Screener] = field(default_factory=dict, repr=False)

    @overload
    def ledger(
        self, *, required: Literal[True], read_only: bool = False, apart: bool = False
    ) -> Ledger: ...

    @overload
    def ledger(
        self, *, required: bool = False, read_only: bool = False, apart: bool = False
    ) -> Ledger | None: ...

    def ledger(
        self, *, required: bool = False, read_only: bool = False, apart: bool = False
    ) -> Ledger | None:
        """The ledger in use: `settings.db`, else the home's SQLite file when it exists. None
        when there is none, unless `required` (then opening it says how to create it). A
        `read_only` ledger never creates or writes anything; one `apart` (read-only too) has
        connections of its own, for quick reads on another thread while the workspace's work
        goes on (a service finding keys and sessions). The one way tiergate opens a ledger:
        the URL always comes from the settings."""
        read_only = read_only or apart
        found = self._ledgers.get((read_only, apart))
        if found is not None:
            return found
        url = self.settings.db
        if url is None:
            default = self.settings.home / LEDGER_FILE
            if not (required or default.is_file()):
                return None
            if not read_only:
                default.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{default}"
        # SQLAlchemy is imported only when there is a ledger to open.
        from sqlalchemy import make_url

        from tiergate.ledger.ledger import Ledger

        found = self._ledgers[read_only, apart] = Ledger(url, read_only=read_only)
        shown = make_url(found.url).render_as_string(hide_password=True)
        log.info("ledger opened: %s%s", shown, " (read-only)" if read_only else "")
        return found

    def engine(self, screener: Screener | None = None, rulebook: Rulebook | None = None) -> Engine:
        """An engine over `rulebook` (None: the bundled one) with the settings' country
        allocation and `screener` (None: lines are not screened). One over the bundled
        rulebook is kept for the next call with the same screener: its memos are what make
        the next check fast, and they hold answers that never change."""
        from tiergate.engine import Engine

        if rulebook is None:
            kept = self._engines.get(screener)
            if kept is not None:
                return kept
        engine = Engine(
            rulebook,
            country_allocation_tpp=self.settings.country_allocation_tpp,
            screener=screener,
        )
        log.info("rulebook %s", engine.rulebook.version)
        if rulebook is None:
            _keep(self._engines, screener, engine)
        return engine

    def close(self) -> None:
        """Give back the ledger's database connections."""
        for ledger in self._ledgers.values():
            ledger.close()

    def screener(self, ledger: Ledger | None) -> Screener:
        """A screener with the settings' thresholds and `ledger`'s suppressions."""
        from tiergate.screening.names import default_settings
        from tiergate.screening.service import Screener

        suppressions = tuple(ledger.suppressions()) if ledger is not None else ()
        match, potential = self.settings.match_threshold, self.settings.potential_threshold
        shared = Screener.shared(self.settings.home)
        if match is None and potential is None and not suppressions:
            return _logged(shared)
        # What the screener is built from; the day, as it reads country names on it.
        key = (suppressions, match, potential, shared.edition.content_hash, date.today())
        kept = self._screeners.get(key)
        if kept is not None:
            return kept
        settings = default_settings()
        thresholds = settings.thresholds.model_copy(
            update={
                "match": match if match is not None else settings.thresholds.match,
                "potential": potential if potential is not None else settings.thresholds.potential,
            }
        )
        if thresholds.potential > thresholds.match:
            raise UsageError(
                f"{option('potential_threshold')} {thresholds.potential} is above "
                f"{option('match_threshold')} "
                f"{thresholds.match}: a possible match must score no more than a match"
            )
        screener = Screener(
            settings=settings.model_copy(update={"thresholds": thresholds}),
            suppressions=suppressions,
            home=self.settings.home,
        )
        return _logged(_keep(self._screeners, key, screener))

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
        from tiergate.inputs import read_input

        raw = read_input(path)  # the bytes read once: what is checked is what is hashed
        return self.check_bytes(
            raw,
            path,
            as_of=as_of,
            view=view,
            screen=screen,
            commit=commit,
            reserve=reserve,
            actor=actor,
        )

    def check_bytes(
        self,
        raw: bytes,
        path: Path,
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        screen: bool = True,
        commit: bool = False,
        reserve: bool = True,
        actor: str = "library",
    ) -> CheckResult:
        """`check` of a book given as its bytes (`raw`, a CSV, JSON or Parquet book by the
        extension of `path`, which names its source: an upload, a request's body)."""
        from tiergate.inputs import parse_book

        if commit and not reserve:
            raise UsageError(
                f"a commit uses the check's reservations: {option('no_reserve')} is for checks "
                "that do "
                "not commit"
            )
        ledger = self.ledger(required=commit)
        digest = hashlib.sha256(raw).hexdigest()
        lines = parse_book(raw, path)
        log.info("read %d lines from %s (sha256 %s)", len(lines), path, digest[:16])
        # The list edition and its index are loaded only for a book that names a party.
        screener = self.screener(ledger) if screen and any(map(_names_party, lines)) else None
        engine = self.engine(screener)
        if as_of is not None:
            engine.check_range(as_of)
        progress = self.progress if len(lines) >= LONG_BOOK else None
        report = _determine(engine, ledger, lines, as_of, view, progress)
        committed = None
        if ledger is not None and commit:
            limits = engine.allowance_limits()
            committed = ledger.commit(report, limits, actor, source=str(path), input_hash=digest)
            assert committed.report is not None
            report = committed.report  # what the ledger recorded
            log.info("committed: %s", committed.summary())
        elif ledger is not None:
            ledger.record_check(report, str(path), actor, input_hash=digest, reserve=reserve)
            log.info("check recorded in the ledger%s", "" if reserve else " (no reservation)")
        if ledger is not None:
            _lapses(ledger, screener, actor)
        return CheckResult(report, digest, committed)

    def check_columnar(
        self,
        path: Path,
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        screen: bool = True,
        ready: Callable[[Determined], None] | None = None,
        reserve: bool = True,
        actor: str = "library",
        source: str | None = None,
    ) -> Columns | None:
        """The book at `path` determined by the columnar path (`tiergate.batch`), which gives
        what `check` gives, line for line, and audited as `check` audits it when there is a
        ledger (then `ready` is not used: the ledger reads every batch). None where `check`
        must do it: a CSV book shorter than `LONG_BOOK` lines (the row path answers it
        sooner), a JSON book, or a book whose texts the columnar path cannot read exactly as
        the row reader (`batch.reading`); then whatever was given to `ready` (`Columns` says
        what) is to be thrown away, and nothing was recorded. `source` names the book in the
        audit trail (default: `path`)."""
        if not _columnar(path):
            return None
        ledger = self.ledger()
        if ledger is not None:
            from tiergate.batch.committing import checked_book
            from tiergate.ledger.books import Checked

            read = self._in_ledger(path, ledger, as_of, view, screen)
            if read is None:
                return None
            found, keys, digest, screener = read
            summary = found.summary.as_dict()
            ledger.record_lines(
                checked_book(found, keys),
                Checked(view.value, as_of, summary),
                source or str(path),
                actor,
                input_hash=digest,
                reserve=reserve,
            )
            log.info("check recorded in the ledger%s", "" if reserve else " (no reservation)")
            _lapses(ledger, screener, actor)
            return found
        book = self._columnar_book(path)
        if book is None:
            return None
        from tiergate.batch.checking import Columns
        from tiergate.batch.reading import NotColumnar

        engine = self.engine(self.screener(None) if screen else None)
        if as_of is not None:
            engine.check_range(as_of)
        try:
            found = Columns(engine, book, as_of=as_of, view=view, ready=ready)
        except NotColumnar:
            return None
        log.info("read %d lines from %s into columns", found.lines, path)
        return found

    def commit_columnar(
        self,
        path: Path,
        *,
        as_of: date | None = None,
        view: View = View.ENFORCED,
        screen: bool = True,
        actor: str = "library",
        weighed: Callable[[Columns], None] | None = None,
        source: str | None = None,
    ) -> tuple[Columns, CommitResult] | None:
        """`check(path, commit=True)` by the columnar path, for a book it takes (a Parquet
        book, or a CSV book of at least `LONG_BOOK` lines): every line determined against
        the ledger's allowances, licences and hold decisions, committed, and given as the
        ledger recorded it (`Columns.amend`), with what the commit did. None where `check`
        must do it: nothing was committed.

        `weighed` is given the book as the ledger records it once the ledger has weighed
        every line, while it still writes (`Commits.commit_lines`): a report made from it
        then is the report of the commit, to be thrown away if the commit fails."""
        if not _columnar(path):
            return None
        from tiergate.batch.committing import checked_book

        ledger = self.ledger(required=True)
        read = self._in_ledger(path, ledger, as_of, view, screen)
        if read is None:
            return None
        found, keys, digest, screener = read
        limits = found.engine.allowance_limits()

        def recorded(outcome: CommitResult) -> None:
            found.amend(outcome.changed)
            if weighed is not None:
                weighed(found)

        done = ledger.commit_lines(
            checked_book(found, keys),
            limits,
            actor,
            source=source or str(path),
            input_hash=digest,
            weighed=recorded,
        )
        log.info("committed: %s", done.summary())
        _lapses(ledger, screener, actor)
        return found, done

    def _in_ledger(
        self, path: Path, ledger: Ledger, as_of: date | None, view: View, screen: bool
    ) -> tuple[Columns, Keys, str, Screener | None] | None:
        """The book at `path` determined by the columnar path against the ledger's
        allowances, licences and hold decisions (screened with its suppressions), with every
        line's ids, the SHA-256 of the bytes read and the screener; None where the row path
        must read it."""
        from tiergate.batch.checking import Columns
        from tiergate.batch.committing import book_keys
        from tiergate.batch.reading import NotColumnar

        read = _book_read(path)
        if read is None:
            return None
        book, digest = read
        screener = self.screener(ledger) if screen else None
        engine = self.engine(screener)
        if as_of is not None:
            engine.check_range(as_of)
        keys = book_keys(book)
        try:
            found = Columns(
                engine,
                book,
                as_of=as_of,
                view=view,
                allowances=ledger.allowance_state(exclude=keys),
                licences=ledger.licence_book(exclude=keys),
                hold_decisions=ledger.hold_decisions(),
            )
        except NotColumnar:
            return None
        log.info("read %d lines from %s into columns (sha256 %s)", found.lines, path, digest[:16])
        return found, keys, digest, screener

    def takes_columns(self, path: Path) -> bool:
        """Whether `check_columnar` may check the book at `path`: a Parquet book, or a CSV
        book of at least `LONG_BOOK` lines (it may still find a book the row path must
        read)."""
        return _columnar(path)

    def columnar_book(self, path: Path) -> Book | None:
        """The book at `path` for the columnar path: a Parquet book, or a CSV book of at
        least `LONG_BOOK` lines (read a batch at a time when it is UTF-8). polars is imported
        only for those."""
        return self._columnar_book(path) if _columnar(path) else None

    def _columnar_book(self, path: Path) -> Book | None:
        """`columnar_book`, its length known to be enough."""
        from tiergate.batch.reading import open_csv_book, open_parquet_book, read_csv_book
        from tiergate.inputs import read_input

        if path.suffix.casefold() == ".parquet":
            return open_parquet_book(path)
        book = open_csv_book(path)
        if book is not None:
            return book
        from tiergate.textfiles import TextProblem, decode_text

        try:
            return read_csv_book(decode_text(read_input(path)), str(path))
        except TextProblem:
            return None  # the row reader says what is wrong with it


# Engines and screeners a workspace keeps: the last few (each engine holds its memos).
KEPT = 4


def _keep(kept: dict[K, V], key: K, value: V) -> V:
    """`value` kept under `key`, forgetting the oldest past `KEPT`."""
    if len(kept) >= KEPT:
        kept.pop(next(iter(kept)))
    kept[key] = value
    return value


def _lapses(ledger: Ledger, screener: Screener | None, actor: str) -> None:
    """Record the suppressions `screener` found lapsed."""
    if screener is not None:
        # Taken at once: a commit's report may still be screening a book read again.
        ledger.record_lapses(tuple(screener.lapsed.values()), actor)


def _book_read(path: Path) -> tuple[Book, str] | None:
    """The book at `path` for the columnar path, read from its bytes read once (what is
    committed is what is hashed), with their SHA-256; None where the row reader must read
    it (a CSV book not in UTF-8, or with what the columnar reader cannot read exactly)."""
    from tiergate.batch.reading import read_csv_book, read_parquet_book
    from tiergate.inputs import read_input
    from tiergate.textfiles import TextProblem, decode_text

    raw = read_input(path)
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix.casefold() == ".parquet":
        return read_parquet_book(raw, str(path)), digest
    try:
        book = read_csv_book(decode_text(raw), str(path))
    except TextProblem:
        return None  # the row reader says what is wrong with it
    return None if book is None else (book, digest)


def _columnar(path: Path) -> bool:
    """Whether the book at `path` is one for the columnar path: a Parquet book, or a CSV
    book of at least `LONG_BOOK` lines (a JSON book never is)."""
    suffix = path.suffix.casefold()
    return suffix == ".parquet" or (suffix == ".csv" and _at_least(path, LONG_BOOK))


def _at_least(path: Path, lines: int) -> bool:
    """Whether the file at `path` has `lines` line breaks or more (False when it cannot be
    read: the row path says why)."""
    found = 0
    try:
        with path.open("rb") as handle:
            while found < lines and (block := handle.read(1 << 20)):
                found += block.count(b"\n")
    except OSError:
        return False
    return found >= lines


def _logged(screener: Screener) -> Screener:
    edition = screener.edition
    log.info("list edition: %s of %s", edition.name, edition.edition_date.isoformat())
    return screener


def _names_party(line: Line) -> bool:
    parties = (line.consignee, line.end_user, *line.intermediate_consignees)
    return any(text(party.name) is not None for party in parties)


def _determine(
    engine: Engine,
    ledger: Ledger | None,
    lines: list[Line],
    as_of: date | None,
    view: View,
    progress: Progress | None,
) -> Report:
    """Every line determined against the ledger's allowances, licences and hold decisions;
    the book's own committed lines do not count against it twice."""
    if ledger is None:
        return engine.check(lines, as_of=as_of, view=view, progress=progress)
    from tiergate.ledger.books import Keys

    keys = Keys(
        (text(line.shipment_id) or "", text(line.line_id) or str(i + 1))
        for i, line in enumerate(lines)
    )
    return engine.check(
        lines,
        as_of=as_of,
        view=view,
        allowances=ledger.allowance_state(exclude=keys),
        licences=ledger.licence_book(exclude=keys),
        hold_decisions=ledger.hold_decisions(),
        progress=progress,
    )
