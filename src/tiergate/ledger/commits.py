"""Committing shipped lines: each line that may ship is re-checked against the ledger as read
under the write lock (its allowances, its licence, the lines already committed with its ids)
and recorded, or refused with the reason; a check that does not commit is audited too.

One commit is one database transaction, serialised against other committers (`Store`), so
concurrent committers can never take an allowance past its limit; a line that no longer fits
is not committed and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from tiergate.engine import LICENCE_CITATION, summarise
from tiergate.gcpause import cyclic_gc_paused
from tiergate.keys import LicenceUseState
from tiergate.ledger.allowances import Debits, Usage
from tiergate.ledger.amounts import exact
from tiergate.ledger.audit import Decisions, append, list_edition
from tiergate.ledger.books import ROW_NAMES, Checked, CheckedBook, Held, Part
from tiergate.ledger.bulk import FramesBehind, insert_values
from tiergate.ledger.canonical import LineTexts, text_hash
from tiergate.ledger.holds import record_holds
from tiergate.ledger.licensing import LicenceTaker, release_stale, reserves
from tiergate.ledger.models import COMMITTED
from tiergate.ledger.store import Store, rows_in
from tiergate.model import SHIPPABLE, LineResult, Outcome, Reason, Report, line_content

if TYPE_CHECKING:
    import polars as pl


@dataclass
class CommitResult:
    """What a commit did, line by line."""

    committed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    # The lines recorded as other than checked (refused though they may ship), by their place
    # in the book: the line as checked, and as recorded.
    changed: dict[int, tuple[LineResult, LineResult]] = field(default_factory=dict)
    # The report as the ledger recorded it: a line that may ship but was refused is shown as
    # what it now is (LICENSE_REQUIRED or INDETERMINATE, with the reason).
    report: Report | None = None

    def recorded(self) -> dict[str, Any]:
        """What the audit entry of the commit says became of the lines, by id."""
        return {
            "committed": self.committed,
            "already": self.already,
            "refused": self.refused,  # each (key, why) written as a JSON list
        }

    def summary(self) -> str:
        return (
            f"{len(self.committed)} line(s) committed, {len(self.already)} already committed "
            f"(unchanged), {len(self.refused)} not committed"
        )


class Commits(Store):
    """Committing checked lines as shipped, and auditing checks."""

    def commit(
        self,
        report: Report,
        limits: dict[str, float],
        actor: str,
        *,
        source: str | None = None,
        input_hash: str | None = None,
    ) -> CommitResult:
        """Record every line that may ship as shipped, debiting its allowances and licence;
        idempotent by (shipment_id, line_id). `source` and `input_hash` name the input (a
        file and the SHA-256 of its bytes) in the audit trail; without them the report's lines
        are hashed. The result's report is the report as the ledger recorded it."""
        input_hash = input_hash or LineTexts().lines_hash(report)
        outcome = self.commit_lines(
            CheckedBook.of_report(report), limits, actor, source=source, input_hash=input_hash
        )
        if outcome.changed:
            # A line that may ship was refused: the report says what it now is.
            lines = list(report.lines)
            for place, (_, recorded) in outcome.changed.items():
                lines[place] = recorded
            report = replace(
                report, lines=tuple(lines), summary=summarise(report.summary.lines_in, tuple(lines))
            )
        outcome.report = report
        return outcome

    def commit_lines(
        self,
        book: CheckedBook,
        limits: dict[str, float],
        actor: str,
        *,
        source: str | None,
        input_hash: str,
        weighed: Callable[[CommitResult], None] | None = None,
    ) -> CommitResult:
        """`commit` of a book given as `CheckedBook`; the result says which lines the ledger
        recorded as other than checked (`CommitResult.changed`, by their place in the book).
        `weighed` is given the result once every line is weighed, while the ledger still
        writes: a caller may start on what follows from it (the report), and must throw it
        away if the commit then fails.

        The ledger's balances are read once, inside the locked transaction, every line is
        re-checked against them in order (`_Batch`) and hashed when it is committed, and the
        writes go out as a few bulk statements: a line that no longer fits is refused and
        leaves nothing behind."""
        self.require_current()
        texts = LineTexts()
        now = datetime.now(UTC)
        # A big book's lines, rows and audit entries are many small acyclic objects.
        with (
            cyclic_gc_paused(),
            self._writing() as connection,
            FramesBehind(connection, COMMITTED, {"committed_at": now}) as plain_rows,
        ):
            self._serialise(connection)
            release_stale(connection, book)
            batch = _Batch(
                limits,
                now,
                shipped=_committed(connection, book.keys.shipments),
                usage=Usage.load(connection, book.drawing),
                taker=LicenceTaker.load(connection, book.drawing),
                repeated=book.repeated,
                texts=texts,
                plain_rows=plain_rows,
            )
            kept = Decisions(texts)
            held: list[Held] = []
            place = 0
            # The ids committed before this commit (it adds to `batch.shipped` as it goes).
            before = frozenset(batch.shipped)
            for part in book.lines(before):
                recorded = list(part.results)
                for index, line in enumerate(part.results):
                    if line is None:
                        continue
                    found = recorded[index] = batch.add(line, index)
                    if found is not line:
                        batch.outcome.changed[place + index] = (line, found)
                    if found.outcome is Outcome.HOLD:
                        held.append((found.shipment_id, found.line_id, found))
                batch.settle(part, before)
                held += part.held
                kept.add_part(part, recorded)
                place += len(part.results)
            if weighed is not None:
                weighed(batch.outcome)
            plain_rows.finish()
            batch.write(connection)
            record_holds(connection, held)
            append(
                connection,
                actor=actor,
                action="commit",
                input_hash=input_hash,
                rulebook_version=book.rulebook_version,
                list_edition=list_edition(book.editions),
                payload={"source": source, **batch.outcome.recorded(), **kept.payload()},
            )
        return batch.outcome

    def record_check(
        self,
        report: Report,
        source: str,
        actor: str,
        *,
        input_hash: str | None = None,
        reserve: bool = True,
    ) -> None:
        """Audit a check that did not commit: what was checked and what came out; with
        `reserve`, reserve the licence quantity of the lines a licence covers."""
        self.record_lines(
            CheckedBook.of_report(report),
            Checked(report.view.value, report.as_of, report.summary.as_dict()),
            source,
            actor,
            input_hash=input_hash or LineTexts().lines_hash(report),
            reserve=reserve,
        )

    def record_lines(
        self,
        book: CheckedBook,
        checked: Checked,
        source: str,
        actor: str,
        *,
        input_hash: str,
        reserve: bool = True,
    ) -> None:
        """`record_check` of a book given as `CheckedBook` (`checked` says how it was
        checked): its held lines' holds, the reservations of the lines a licence covers (all
        of them among `book.drawing`), and the audit entry."""
        self.require_current()
        texts = LineTexts()
        kept = Decisions(texts)
        with cyclic_gc_paused(), self._writing() as connection:
            self._serialise(connection)
            held: list[Held] = []
            for part in book.lines(None):
                kept.add_part(part, part.results)
                held += [
                    (line.shipment_id, line.line_id, line)
                    for line in part.results
                    if line and line.outcome is Outcome.HOLD
                ]
                held += part.held
            record_holds(connection, held)
            if reserve:
                release_stale(connection, book)
                taker = LicenceTaker.load(connection, book.drawing)
                for line in book.drawing:
                    # A reservation that no longer fits is not made: committing says why. A
                    # line whose ids another line carries too is never committed.
                    key = f"{line.shipment_id or ''}/{line.line_id or ''}"
                    if key in book.repeated or not reserves(line):
                        continue
                    if taker.problem(line) is None:
                        taker.take(line, LicenceUseState.RESERVED)
                taker.write(connection)
            append(
                connection,
                actor=actor,
                action="check",
                input_hash=input_hash,
                rulebook_version=book.rulebook_version,
                list_edition=list_edition(book.editions),
                payload={
                    "source": source,
                    "view": checked.view,
                    "as_of": checked.as_of.isoformat() if checked.as_of else None,
                    "summary": checked.summary,
                    "reserved": reserve,
                    **kept.payload(),
                },
            )


@dataclass
class _Batch:
    """A commit's lines judged in order against the ledger as read under the write lock and
    as the lines before them changed it; the rows to write, and what became of each line."""

    limits: dict[str, float]
    now: datetime
    shipped: dict[tuple[str, str], _Committed]
    usage: Usage
    taker: LicenceTaker
    repeated: frozenset[str]  # "shipment_id/line_id" of more than one line of the book
    texts: LineTexts  # each committed line is recorded with the hash of its canonical JSON
    plain_rows: FramesBehind  # the rows of plain lines, written as their parts come (`Part.rows`)
    outcome: CommitResult = field(default_factory=CommitResult)
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # in `ROW_NAMES` order
    # What became of the lines of the part being weighed that are not plain, in order: each
    # line's place in its part, what became of it ("committed", "already" or "refused"), its
    # key and why it was refused ("" when it was not).
    weighed: list[tuple[int, str, str, str]] = field(default_factory=list)
    taken_ids: tuple[pl.Series, pl.Series] | None = None  # ids no plain line carries

    def add(self, line: LineResult, place: int) -> LineResult:
        """Commit `line` (at `place` in its part) when it may ship and still fits; returns it
        as the ledger records it (a line that may ship but is refused becomes what it now
        is)."""
        ident = (line.shipment_id or "", line.line_id or "")
        key = f"{ident[0]}/{ident[1]}"
        if key in self.repeated:
            # The ledger records one line per id: which of the lines it would be is not for
            # tiergate to pick, so none is committed.
            why = "more than one line of the book carries this id: give each its own"
            return self._refuse(place, key, line, Outcome.INDETERMINATE, why)
        before = self.shipped.get(ident)
        if before is not None:
            change = before.difference(line, line_content(line))
            if change is None:
                self.weighed.append((place, "already", key, ""))
                return line
            why = (
                f"committed before with other content ({change}): a committed line "
                "does not change; give a new line its own id"
            )
            return self._refuse(place, key, line, Outcome.INDETERMINATE, why)
        if not line.may_ship:
            self.weighed.append((place, "refused", key, _MAY_NOT_SHIP[line.outcome]))
            return line
        planned = Usage.planned(line.debits)
        problem = self.usage.problem(planned, self.limits)
        if problem is None and line.licence is not None:
            problem = self.taker.problem(line)
        if problem is not None:
            return self._refuse(place, key, line, Outcome.LICENSE_REQUIRED, problem)
        self.usage.take(planned)
        if line.licence is not None:
            self.taker.take(line, LicenceUseState.USED)
        content = line_content(line)
        self.shipped[ident] = _Committed(content, line.destination, line.eccn, line.quantity)
        self.rows.append(
            (
                *ident,
                line.as_of.isoformat() if line.as_of else "",
                line.destination,
                line.eccn,
                line.quantity,
                None if line.total_tpp is None else exact(line.total_tpp),
                line.outcome.value,
                line.exception,
                text_hash(self.texts.line(line)),
                _debits(line.debits),
                content,
            )
        )
        self.weighed.append((place, "committed", key, ""))
        return line

    def settle(self, part: Part, before: Collection[tuple[str, str]]) -> None:
        """Settle `part` once its other lines are weighed (`add`): commit its plain lines
        that may ship (they always fit: they draw on nothing), and give the outcome what
        became of each of its lines, in order. `before` holds the ids committed before this
        commit: no plain line carries them."""
        weighed, self.weighed = self.weighed, []
        if part.plain is None or part.plain.is_empty():
            for _, what, key, why in weighed:
                self._became(what, [key], [why])
            return
        import polars as pl

        plain = part.plain.with_columns(key=pl.concat_str("shipment_id", "line_id", separator="/"))
        if self.taken_ids is None:
            # The keys of repeated ids, and the ids committed before joined with a NUL (which
            # would make no two ids one).
            self.taken_ids = (
                pl.Series(sorted(self.repeated), dtype=pl.String),
                pl.Series([f"{s}\x00{n}" for s, n in before], dtype=pl.String),
            )
        repeated, committed = self.taken_ids
        taken = plain.filter(
            pl.col("key").is_in(repeated.implode())
            | pl.concat_str("shipment_id", "line_id", separator="\x00").is_in(committed.implode())
        )
        if not taken.is_empty():
            clash = taken.get_column("key").to_list()[0]
            raise RuntimeError(f"line {clash} was given as plain, but another line has its ids")
        shipping = [outcome.value for outcome in SHIPPABLE]
        ships = pl.col("outcome").is_in(shipping)
        shipped = plain.filter(ships).get_column("place")
        rows = part.rows
        if rows is None or not rows.get_column("place").equals(shipped, check_names=False):
            raise RuntimeError(
                f"a part's {shipped.len()} plain lines that may ship were not given with their rows"
            )
        self.plain_rows.put(rows.drop("place"))
        refusal = pl.col("outcome").replace_strict(
            {outcome.value: why for outcome, why in _MAY_NOT_SHIP.items()}, return_dtype=pl.String
        )
        given = pl.DataFrame(
            weighed,
            schema={"place": pl.UInt32, "what": pl.String, "key": pl.String, "why": pl.String},
            orient="row",
        )
        became = pl.concat(
            [
                given,
                plain.select(
                    pl.col("place").cast(pl.UInt32),
                    what=pl.when(ships).then(pl.lit("committed")).otherwise(pl.lit("refused")),
                    key="key",
                    why=pl.when(ships).then(pl.lit("")).otherwise(refusal),
                ),
            ]
        ).sort("place")
        for what in ("committed", "already", "refused"):
            lines = became.filter(pl.col("what") == what)
            self._became(what, lines.get_column("key").to_list(), lines.get_column("why").to_list())

    def _became(self, what: str, keys: list[str], whys: list[str]) -> None:
        """Lines, in order, that were committed, already committed or refused (`what`)."""
        if what == "committed":
            self.outcome.committed += keys
        elif what == "already":
            self.outcome.already += keys
        else:
            self.outcome.refused += zip(keys, whys, strict=True)

    def _refuse(
        self, place: int, key: str, line: LineResult, outcome: Outcome, why: str
    ) -> LineResult:
        self.weighed.append((place, "refused", key, why))
        return _not_recorded(line, outcome, why)

    def write(self, connection: Connection) -> None:
        """Write the committed lines that are not plain (the plain lines' rows are written as
        they come), the allowance usage and the licence uses, in bulk."""
        insert_values(connection, COMMITTED, ROW_NAMES, self.rows, same={"committed_at": self.now})
        self.usage.write(connection)
        self.taker.write(connection)


# Why a line is not committed, by its outcome.
_MAY_NOT_SHIP = {outcome: f"outcome {outcome.value} may not ship" for outcome in Outcome}


def _debits(debits: Debits) -> list[list[str]]:
    """A line's debits as its committed row keeps them."""
    return [
        [allowance_id, holder, period, str(exact(amount))]
        for allowance_id, holder, period, amount in debits
    ]


@dataclass(frozen=True, slots=True)
class _Committed:
    """What the ledger holds of a committed line: its content (None for lines committed before
    schema 0005, which kept only destination, ECCN and quantity)."""

    content: dict[str, str] | None
    destination: str | None
    eccn: str | None
    quantity: int | None

    def difference(self, line: LineResult, content: dict[str, str]) -> str | None:
        """How `line` differs from this committed line, or None when it is the same line."""
        if self.content is not None:
            before, now = self.content, content
        else:
            before = _recorded_columns(self.destination, self.eccn, self.quantity)
            now = _recorded_columns(line.destination, line.eccn, line.quantity)
        changed = [
            f"{name} {before.get(name, '(blank)')!r} then, {now.get(name, '(blank)')!r} now"
            for name in sorted(before.keys() | now.keys())
            if before.get(name) != now.get(name)
        ]
        if not changed:
            return None
        shown = "; ".join(changed[:3])
        return shown if len(changed) <= 3 else f"{shown}; and {len(changed) - 3} more"


def _recorded_columns(
    destination: str | None, eccn: str | None, quantity: int | None
) -> dict[str, str]:
    columns = {"destination": destination, "eccn": eccn, "quantity": quantity}
    return {name: str(value) for name, value in columns.items() if value is not None}


def _committed(
    connection: Connection, shipment_ids: frozenset[str]
) -> dict[tuple[str, str], _Committed]:
    """The lines of these shipments already committed, by (shipment_id, line_id)."""
    c = COMMITTED.c
    return {
        (shipment_id, line_id): _Committed(content, destination, eccn, quantity)
        for shipment_id, line_id, content, destination, eccn, quantity in rows_in(
            connection,
            select(c.shipment_id, c.line_id, c.content, c.destination, c.eccn, c.quantity),
            c.shipment_id,
            shipment_ids,
        )
    }


def _not_recorded(line: LineResult, outcome: Outcome, why: str) -> LineResult:
    """A line that may ship as checked but the ledger refused: what it is once refused."""
    if outcome is Outcome.LICENSE_REQUIRED:
        message = f"not committed: {why}; beyond it a licence is required"
        # The allowance that no longer fits cites itself among the line's reasons.
        citation = next(
            (r.citation for r in line.reasons if f"`{r.rule}`" in why), LICENCE_CITATION
        )
    else:
        message = f"not committed: {why}"
        citation = "tiergate ledger (one committed line per shipment_id and line_id)"
    return replace(
        line,
        outcome=outcome,
        exception=None,
        licence=None,
        debits=(),
        conditions=(),
        reasons=(*line.reasons, Reason(rule="ledger.commit", message=message, citation=citation)),
    )
