"""Screening without a book: parties by name or from a file, the reviewed false positives
(suppressions), and the restricted-party list editions (status, update, differences)."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiergate.errors import UsageError
from tiergate.screening.parties import read_parties
from tiergate.screening.service import Screener, ScreenResult
from tiergate.screening.store import ListStore

if TYPE_CHECKING:
    from tiergate.screening.rescreen import PartyChange
    from tiergate.screening.store import UpdateResult
    from tiergate.screening.suppressions import Suppression
    from tiergate.workflow import Workspace

log = logging.getLogger("tiergate")


@dataclass(frozen=True, slots=True)
class Screened:
    """Parties screened: each result with its pass-through columns (`extras`, from a file),
    and the list editions used."""

    results: list[ScreenResult]
    extras: list[dict[str, str]]
    editions: dict[str, Any]
    edition_name: str
    edition_date: date

    @property
    def clear(self) -> bool:
        """True when no party matches or may match a listed party."""
        return all(r.status == "clear" for r in self.results)

    def document(self) -> dict[str, Any]:
        """The JSON document: the editions and every result with its pass-through columns."""
        results = [{**r.as_dict(), **e} for r, e in zip(self.results, self.extras, strict=True)]
        return {"list_editions": self.editions, "results": results}

    def rows(self) -> list[dict[str, Any]]:
        """One CSV row per party: its status, its best hit, and its pass-through columns."""
        rows = []
        for result, extra in zip(self.results, self.extras, strict=True):
            top = result.hits[0] if result.hits else None
            rows.append(
                {
                    "id": result.party_id,
                    "name": result.name,
                    "country": result.country,
                    "status": result.status,
                    "hits": len(result.hits),
                    "list": top.entry.list_code if top else None,
                    "entry_id": top.entry.entry_id if top else None,
                    "listed_name": top.entry.name if top else None,
                    "matched_name": top.matched_name if top else None,
                    "score": round(top.score, 3) if top else None,
                    "license_requirement": top.entry.license_requirement if top else None,
                    "license_policy": top.entry.license_policy if top else None,
                    "errors": list(result.errors),
                    **extra,
                }
            )
        return rows


def screen(
    workspace: Workspace,
    *,
    name: str | None = None,
    country: str | None = None,
    file: Path | None = None,
    actor: str = "library",
) -> Screened:
    """Screen party `name` (in `country`), or every party of the CSV `file`, with the
    ledger's suppressions; a suppression found lapsed is recorded in the ledger, audited."""
    if (name is None) == (file is None):
        raise UsageError("give either a NAME or --file (see `tiergate screen --help`)")
    screener = workspace.screener(workspace.ledger(read_only=True))
    if file is not None:
        rows = read_parties(file)
        log.info("read %d parties from %s", len(rows), file)
        results = [
            screener.screen(r.name or "", r.country, r.party_id, r.error)
            for r in workspace.progress.track(rows, "screening")
        ]
        extras = [r.extra for r in rows]
    else:
        assert name is not None
        results = [screener.screen(name, country)]
        extras = [{}]
    if screener.lapsed:
        workspace.ledger(required=True).record_lapses(screener.lapsed.values(), actor)
    edition = screener.edition
    return Screened(results, extras, screener.editions(), edition.name, edition.edition_date)


def suppress(
    workspace: Workspace, name: str, country: str | None, entry: str, by: str, reason: str
) -> Suppression:
    """Record that party `name` is not list entry `entry` (a reviewed false positive, by
    `by`), audited; it lapses when the list changes the entry."""
    ledger = workspace.ledger(required=True)
    ledger.require_current()
    screener = Screener.shared(workspace.settings.home)
    suppression = screener.suppression(name, country, entry, by, reason)
    return ledger.add_suppression(suppression, by.strip())


def suppressions(workspace: Workspace) -> list[dict[str, Any]]:
    """The recorded suppressions, active and lapsed."""
    return [s.as_dict() for s in workspace.ledger(required=True, read_only=True).suppressions()]


def list_status(workspace: Workspace) -> dict[str, Any]:
    """The list edition in use: date, age, entries per list, and warnings (stale)."""
    store = ListStore(workspace.settings.home)
    pointer = store.pointer.read_bytes() if store.pointer.is_file() else b""
    return copy.deepcopy(_list_status(store.folder, pointer, date.today()))


@lru_cache(maxsize=4)
def _list_status(folder: Path, pointer: bytes, today: date) -> dict[str, Any]:
    """`ListStore.status` of the edition `pointer` names in `folder` (the edition installed
    there, or the bundled one) on `today`: counting a list's entries takes milliseconds,
    and a service is asked often."""
    return ListStore(folder.parent).status(today)


def update_lists(
    workspace: Workspace,
    *,
    file: Path | None = None,
    url: str | None = None,
    force: bool = False,
    edition_date: date | None = None,
) -> UpdateResult:
    """Install a new list edition from `file` or `url`; a failed or suspicious update keeps
    the current one (`force` accepts a shrunk or older edition). The new edition's screening
    index is built in the cache now, so the next screen or check does not wait for it."""
    with workspace.progress.working(f"installing the list edition from {file or url}"):
        result = ListStore(workspace.settings.home).update(
            file=file, url=url, force=force, edition_date=edition_date
        )
    log.info("%s", result.message)
    if result.switched:
        with workspace.progress.working("indexing the new edition for screening"):
            Screener.shared(workspace.settings.home)
    return result


@dataclass(frozen=True, slots=True)
class ListDiff:
    """Two editions compared: the JSON document, and the parties whose result changes."""

    document: dict[str, Any]
    changes: list[PartyChange]


def diff_lists(workspace: Workspace, old: Path, new: Path, parties: Path | None = None) -> ListDiff:
    """Entries added, removed and changed from edition file `old` to `new`, and the parties
    (of the CSV `parties`) whose screening result changes."""
    # The list readers (and the country names they use) load only for a diff.
    from tiergate.screening.readers import diff_editions, read_list
    from tiergate.screening.rescreen import rescreen

    before, after = read_list(old), read_list(new)
    difference = diff_editions(before, after)
    rows = read_parties(parties) if parties else []
    changes = rescreen(rows, before, after, workspace.progress) if rows else []
    document = {
        "old": {"date": before.edition_date.isoformat(), "entries": len(before.entries)},
        "new": {"date": after.edition_date.isoformat(), "entries": len(after.entries)},
        "counts": difference.counts(),
        "added": [e.entry_id for e in difference.added],
        "removed": [e.entry_id for e in difference.removed],
        "changed": [n.entry_id for _, n in difference.changed],
        "parties_changed": [change.as_dict() for change in changes],
    }
    return ListDiff(document, changes)
