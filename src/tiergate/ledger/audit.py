"""The audit trail: an append-only chain of entries, each hashed with the one before it, and
a head record naming the newest; verifying it finds every break in the chain and every table
changed outside tiergate (`ledger.verify`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Connection, insert, select, update

from tiergate.ledger.books import Part
from tiergate.ledger.canonical import (
    LineTexts,
    ListHash,
    canonical,
    canonical_hash,
    canonical_members,
    text_hash,
)
from tiergate.ledger.models import AuditEntry, AuditHead, Written
from tiergate.ledger.store import Store
from tiergate.ledger.verify import state_problems
from tiergate.model import LineResult
from tiergate.screening.lists import CSL_NAME

GENESIS = "0" * 64
# The fields an entry's hash covers, besides the previous entry's hash.
_HASHED = ("at", "actor", "action", "input_hash", "rulebook_version", "list_edition", "payload")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The chain hash of an audit entry: its fields and the previous entry's hash."""
    return text_hash(prev_hash + canonical(fields))


def _entry_hash(prev_hash: str, fields: dict[str, Any], payload: str) -> str:
    """`entry_hash(prev_hash, fields)`, the payload's canonical text given (`payload`, a big
    book's: hashed as it is, never copied into the entry's text): only the entry has a
    member `payload` (its other fields are texts, within which a quote is written escaped),
    so the placeholder's first place is its place."""
    head, tail = canonical({**fields, "payload": 0}).split('"payload":0', 1)
    digest = hashlib.sha256(f'{prev_hash}{head}"payload":'.encode())
    digest.update(payload.encode())
    digest.update(tail.encode())
    return digest.hexdigest()


def append(connection: Connection, **fields: Any) -> None:
    """Add an entry after the one the head names, and move the head to it (the caller
    holds the write lock)."""
    count, prev_hash = connection.execute(
        select(AuditHead.entries, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one()
    fields["at"] = datetime.now(UTC).isoformat(timespec="microseconds")
    # The payload (a big book's: a decision per line) is written once, as its hash takes it,
    # and stored as that text; a member given `Written` is its text.
    members = fields["payload"]
    payload = canonical_members(
        {name: value for name, value in members.items() if not isinstance(value, Written)},
        {name: value.text for name, value in members.items() if isinstance(value, Written)},
    )
    digest = _entry_hash(prev_hash, fields, payload)
    fields["payload"] = Written(payload)
    entry_id = connection.execute(
        insert(AuditEntry)
        .values(**fields, prev_hash=prev_hash, hash=digest)
        .returning(AuditEntry.id)
    ).scalar_one()
    connection.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(entries=count + 1, last_id=entry_id, last_hash=digest)
    )


def append_event(connection: Connection, actor: str, action: str, payload: dict[str, Any]) -> None:
    """Audit an action that is not a check: a licence, a cancellation, a hold decision, a
    suppression (the payload is hashed as its input)."""
    append(
        connection,
        actor=actor,
        action=action,
        input_hash=canonical_hash(payload),
        rulebook_version="",
        list_edition=None,
        payload=payload,
    )


class Decisions:
    """What an audit entry keeps of each line, a batch of lines at a time (`add_part`): its
    outcome, exception, licence and the rules behind it, plus one hash over every reason's
    full text and citation (the text itself is reproduced by running the same rulebook
    version on the same input).

    A line names the list of its rules by its key (`canonical.rules_key`), and the entry
    gives each list once, by key, in `rules`: a book's lines share a few lists, and
    written out on every line they were most of a big commit's entry (136 of its 165 MB
    for 1,000,000 lines). Entries written before keep each line's list in the line."""

    def __init__(self, texts: LineTexts) -> None:
        self._texts = texts
        self._lines: list[str] = []  # each line's entry as canonical text (a JSON list)
        self._rules: dict[str, str] = {}  # each list of rules named, by key
        self._reasons = ListHash()

    def add_part(self, part: Part, lines: Sequence[LineResult | None]) -> None:
        """The lines of `part` (`books.Part`), each as `lines` gives it (as recorded), a
        plain line (None) as the part gives it."""
        entries, reasons, listed = part.entries, part.reasons, self._texts.listed
        added = [entries[i] if line is None else self._entry(line) for i, line in enumerate(lines)]
        if None in added:
            raise ValueError("a plain line was given without its audit entry")
        for key, rules in part.rules:
            self._named(key, rules)
        self._lines += cast(list[str], added)
        self._reasons.add_all(
            [reasons[i] if line is None else listed(line.reasons) for i, line in enumerate(lines)]
        )

    def _entry(self, line: LineResult) -> str:
        key, rules = self._texts.rules(line.reasons)
        self._named(key, rules)
        return canonical(
            [line.shipment_id, line.line_id, line.outcome.value, line.exception, line.licence, key]
        )

    def _named(self, key: str, rules: str) -> None:
        """The list of rules `rules` (its canonical text) named by `key`."""
        known = self._rules.setdefault(key, rules)
        if known != rules:
            # Two lists whose texts' SHA-256 begin alike: the entry could not say which.
            raise RuntimeError(f"the lists of rules {known} and {rules} have one key, {key}")

    def payload(self) -> dict[str, Any]:
        """The entry's payload members: `lines` and `rules`, written (`Written`), and
        `reasons_hash`."""
        rules = ",".join(f"{canonical(key)}:{self._rules[key]}" for key in sorted(self._rules))
        return {
            "lines": Written(f"[{','.join(self._lines)}]"),
            "rules": Written(f"{{{rules}}}"),
            "reasons_hash": self._reasons.hexdigest(),
        }


def list_edition(editions: Iterable[Mapping[str, str]]) -> str | None:
    """The screening list edition of a report's `editions`, as an audit entry names it."""
    for edition in editions:
        if edition.get("name") == CSL_NAME:
            return f"{edition['date']} {edition.get('content_hash', '')[:12]}"
    return None


class AuditTrail(Store):
    """Reading and verifying the audit trail."""

    def audit_head(self) -> dict[str, Any]:
        """The trail's head as recorded: `entries`, `last_id`, `last_hash`. Keep a copy outside
        the database (`audit export` prints it) and pass its hash to `audit_verify`."""
        self.require_current()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(AuditHead.entries, AuditHead.last_id, AuditHead.last_hash)
            ).first()
        if row is None:
            return {"entries": None, "last_id": None, "last_hash": None}
        return {"entries": row[0], "last_id": row[1], "last_hash": row[2]}

    def audit_entries(self, since: date | None = None) -> list[dict[str, Any]]:
        """The audit trail in order (optionally from a date on)."""
        self.require_current()
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(AuditEntry.__table__).order_by(AuditEntry.id)
            ).mappings()
            entries = [dict(row) for row in rows]
        if since is not None:
            entries = [e for e in entries if str(e["at"])[:10] >= since.isoformat()]
        return entries

    def audit_verify(self, anchor: str | None = None) -> list[str]:
        """Every break in the chain: an edited entry (its hash no longer matches), an
        inserted or deleted one (its `prev_hash` is not the previous entry's hash), newest
        entries deleted (the trail does not end where its head says), and, given the hash of
        an entry kept outside the database (`anchor`), that entry gone from the trail. Then
        every disagreement between the ledger's tables and the trail (`verify.state_problems`):
        a committed line, allowance usage, licence, hold decision or suppression changed
        outside tiergate."""
        entries = self.audit_entries()
        problems = _chain_problems(entries, self.audit_head())
        if anchor is not None and not any(entry["hash"] == anchor for entry in entries):
            problems.append(
                f"no entry has the hash {anchor} kept outside the database: the trail was cut "
                "back or rewritten since"
            )
        with self.engine.connect() as connection:
            return problems + state_problems(connection, entries)


def _chain_problems(entries: list[dict[str, Any]], head: dict[str, Any]) -> list[str]:
    """Each entry against the one before it, and the last one against the head."""
    problems = []
    previous = GENESIS
    for entry in entries:
        if entry["prev_hash"] != previous:
            problems.append(
                f"entry {entry['id']}: does not follow the entry before it (an entry was "
                "deleted or inserted before it)"
            )
        fields = {key: entry[key] for key in _HASHED}
        if entry_hash(entry["prev_hash"], fields) != entry["hash"]:
            problems.append(f"entry {entry['id']}: its content was changed after writing")
        previous = entry["hash"]
    last_id = entries[-1]["id"] if entries else None
    if head["last_hash"] is None:
        problems.append("the trail's head record is missing: it was deleted")
    elif (len(entries), last_id, previous) != (
        head["entries"],
        head["last_id"],
        head["last_hash"],
    ):
        problems.append(
            f"the trail holds {len(entries)} entries ending at entry {last_id}, but its head "
            f"records {head['entries']} ending at entry {head['last_id']} (hash "
            f"{str(head['last_hash'])[:12]}): entries were deleted (or added) outside "
            "tiergate"
        )
    return problems
