"""Installed list editions: status, safe updates, and the edition screening uses.

Editions live in the tiergate home (`TIERGATE_HOME`, else the platform's user data folder)
under `lists/`: one snapshot file per edition and `current.json` naming the one in use. An
update downloads or reads the new edition, parses it completely, checks it (no list may lose
more than 10 % of its entries unless forced; its date may not be after today, nor before the
installed edition's unless forced), writes its snapshot, and only then switches
`current.json` with an atomic rename. Any failure before the switch leaves the previous edition
serving. With nothing installed, the edition bundled with tiergate is used.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from tiergate.errors import InputError
from tiergate.home import tiergate_home
from tiergate.screening.lists import ListEdition, ListFormatError
from tiergate.screening.snapshot import (
    Snapshot,
    open_snapshot,
    read_snapshot,
    snapshot_digest,
    write_snapshot,
)

BUNDLED_SNAPSHOT = "lists/csl.json.gz"
# The SHA-256 of the bundled snapshot's bytes (a test recomputes it and the content hash).
BUNDLED_SHA256 = "8b6a9e133d07668feb022d63047d3ce13d469eaa8b0af89df18455a75f4d35ac"


@cache
def bundled_snapshot() -> Snapshot:
    """The snapshot of the list edition shipped with tiergate (the CSL of 2026-07-31)."""
    return open_snapshot(
        resources.files("tiergate.data").joinpath(BUNDLED_SNAPSHOT), sha256=BUNDLED_SHA256
    )


@cache
def bundled_edition() -> ListEdition:
    """The list edition shipped with tiergate."""
    return bundled_snapshot().edition()


# A list edition older than this is stale: `data status` warns (the CSL is republished daily).
STALE_AFTER_DAYS = 7
# Refuse an update in which any list loses more than this share of its entries: a truncated
# or garbled download looks exactly like that.
MAX_DROP = 0.10
DOWNLOAD_TIMEOUT_SECONDS = 60


class UpdateRefused(InputError):
    """A new edition that fails its checks; the previous edition keeps serving."""


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What an update did."""

    switched: bool
    edition: ListEdition
    previous: ListEdition
    message: str


class ListStore:
    """The list editions installed under one tiergate home."""

    def __init__(self, home: Path | None = None) -> None:
        self.folder = (home or tiergate_home()) / "lists"
        self.pointer = self.folder / "current.json"

    def installed(self) -> Path | None:
        """The snapshot file in use, or None when none is installed."""
        pointer = self._pointer()
        return None if pointer is None else self.folder / str(pointer["csl"])

    def _pointer(self) -> dict[str, Any] | None:
        """`current.json`: the snapshot in use and (since it was recorded) its SHA-256."""
        if not self.pointer.is_file():
            return None
        try:
            pointer = json.loads(self.pointer.read_text(encoding="utf-8"))
            str(pointer["csl"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ListFormatError(f"`{self.pointer}` is damaged: {exc}") from exc
        return dict(pointer)

    def current(self) -> ListEdition:
        """The edition in use: the installed one, else the bundled one."""
        if self._pointer() is None:
            return bundled_edition()
        return self.current_snapshot().edition()

    def current_snapshot(self) -> Snapshot:
        """The snapshot of the edition in use, read but not parsed."""
        pointer = self._pointer()
        if pointer is None:
            return bundled_snapshot()
        digest = pointer.get("sha256")
        return open_snapshot(
            self.folder / str(pointer["csl"]), sha256=digest if isinstance(digest, str) else None
        )

    def status(self, today: date | None = None) -> dict[str, Any]:
        """The edition in use with its counts, its age, and warnings."""
        today = today or date.today()
        path = self.installed()
        edition = self.current()
        age = (today - edition.edition_date).days
        warnings = []
        if age > STALE_AFTER_DAYS:
            warnings.append(
                f"the list edition is {age} days old (more than {STALE_AFTER_DAYS}): run "
                "`tiergate data update` to install the current one"
            )
        return {
            "name": edition.name,
            "edition_date": edition.edition_date.isoformat(),
            "age_days": age,
            "entries": len(edition.entries),
            "counts": edition.counts(),
            "content_hash": edition.content_hash,
            "source": edition.source,
            "installed_at": str(path) if path else "bundled with tiergate",
            "warnings": warnings,
        }

    def update(
        self,
        *,
        file: Path | None = None,
        url: str | None = None,
        force: bool = False,
        edition_date: date | None = None,
    ) -> UpdateResult:
        """Install a new edition from a file or a URL; see the module docstring."""
        from tiergate.screening.readers import read_list  # the formats' parsers, for updates

        if (file is None) == (url is None):
            raise InputError("give exactly one of a file or a URL to update from")
        previous = self.current()
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            if file is not None:
                new = read_list(file, edition_date)
            else:
                downloaded = _download(str(url), Path(scratch))
                new = read_list(downloaded, edition_date or date.today())
            _refuse_empty_or_misdated(new, previous, file or url, force)
            if new.content_hash == previous.content_hash:
                return UpdateResult(
                    False, previous, previous, "already current: the new file has the same content"
                )
            _refuse_drops(previous, new, force)
            name, digest = self._install_snapshot(
                new, Path(scratch), f"imported from {url or file}"
            )
        _write_atomically(self.pointer, json.dumps({"csl": name, "sha256": digest}) + "\n")
        return UpdateResult(
            True,
            new,
            previous,
            f"switched from the edition of {previous.edition_date} to {new.edition_date} "
            f"({len(new.entries)} entries)",
        )

    def _install_snapshot(self, new: ListEdition, scratch: Path, source: str) -> tuple[str, str]:
        """Write `new`'s snapshot in `scratch`, check it reads back whole, and move it into
        the folder; its file name and SHA-256, for `current.json`."""
        name = f"csl-{new.edition_date.isoformat()}-{new.content_hash[:12]}.json.gz"
        staged = scratch / name
        write_snapshot(new, staged, source)
        read_snapshot(staged)  # what is switched to must read back whole
        digest = snapshot_digest(staged)
        os.replace(staged, self.folder / name)
        return name, digest


def _refuse_empty_or_misdated(
    new: ListEdition, previous: ListEdition, source: Path | str | None, force: bool
) -> None:
    """Refuse an edition with no entries, one dated after today, and (unless forced) one
    older than the installed edition."""
    if not new.entries:
        raise UpdateRefused(f"`{source}` holds no entries: keeping the current edition")
    if new.edition_date > date.today():
        raise UpdateRefused(
            f"the edition of `{source}` is dated {new.edition_date}, after today "
            f"({date.today()}): an edition from the future would silence the staleness "
            "warning; give its real date with --edition-date. Keeping the current edition"
        )
    if new.edition_date < previous.edition_date and not force:
        raise UpdateRefused(
            f"the edition of `{source}` is dated {new.edition_date}, before the "
            f"installed edition of {previous.edition_date}: keeping the current edition; "
            "use --force to go back to an older edition"
        )


def _refuse_drops(previous: ListEdition, new: ListEdition, force: bool) -> None:
    """Refuse (unless forced) an edition in which a list loses more than `MAX_DROP` of its
    entries."""
    drops = _drops(previous, new)
    if drops and not force:
        raise UpdateRefused(
            "refusing the new edition, which would drop "
            + "; ".join(drops)
            + ": this looks like a truncated or partial file. Keeping the current "
            "edition; use --force if the lists really shrank"
        )


def _drops(old: ListEdition, new: ListEdition) -> list[str]:
    before, after = old.counts(), new.counts()
    found = []
    for code, count in before.items():
        remaining = after.get(code, 0)
        if count and (count - remaining) / count > MAX_DROP:
            found.append(f"{code} from {count} to {remaining} entries")
    return found


def _download(url: str, folder: Path) -> Path:
    import urllib.error  # 15 ms to import: only for downloads
    import urllib.request

    target = folder / ("download" + (".json" if ".json" in url else ".csv"))
    try:
        # The user names the URL (an https address of the CSL, or a local mirror).
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            target.write_bytes(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UpdateRefused(f"cannot download `{url}`: {exc}; keeping the current edition") from exc
    return target


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old or the new file, never a mix."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".current-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
