"""The screening index kept on disk in tiergate's cache, so a command that screens one name
reads the index instead of building it (building takes seconds for the whole CSL).

The index is a pure function of the list edition and of the matcher settings that shape it
(name analysis and candidate terms; thresholds and weights only score, so they are not part
of it): its file is named by a hash of both, and rebuilt whenever that hash has no file, or
the file fails its checksum. Every home shares the cache (an index is named by what it was
built from), and the `KEEP` most recently used indexes are kept. When the folder cannot be
written the index is built in memory each time, with the same answers.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import tempfile
from pathlib import Path

from tiergate.screening.lists import ListEdition

# Bump when the layout of `Built` changes: older files are then simply not found.
FORMAT = 1
# Indexes kept in one folder, the most recently used: an installed edition and the bundled
# one, and a few settings, each about 15 MB for the CSL.
KEEP = 4
_PREFIX = "index-"
_SUFFIX = ".marshal"

# One variant: entry index, original name, strong tokens, weak tokens, numbers (sorted).
Variant = tuple[int, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
# The variants in order, and each term's variant ids.
Built = tuple[list[Variant], dict[str, tuple[int, ...]]]


def index_key(edition: ListEdition, shaping: dict[str, object]) -> str:
    """The hash that names an index: the edition's content and the settings that shape it."""
    document = {"format": FORMAT, "edition": edition.content_hash, "settings": shaping}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def load(folder: Path, key: str) -> Built | None:
    """The index stored under `key`, or None when there is none or it is damaged."""
    path = folder / f"{_PREFIX}{key[:32]}{_SUFFIX}"
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    digest, body = raw[:64], raw[64:]
    if hashlib.sha256(body).hexdigest().encode() != digest:
        return None
    try:
        stored_key, variants, postings = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    if stored_key != key:
        return None
    _used(path)
    return variants, postings


def _used(path: Path) -> None:
    """Mark `path` as just used, so it is the last to be removed."""
    try:
        os.utime(path)
    except OSError:
        return


def save(folder: Path, key: str, built: Built) -> None:
    """Store the index under `key` (atomically) and remove all but the `KEEP` most recently
    used; a folder that cannot be written keeps nothing, which only costs the next command a
    rebuild."""
    body = marshal.dumps((key, *built))
    target = folder / f"{_PREFIX}{key[:32]}{_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(hashlib.sha256(body).hexdigest().encode())
                out.write(body)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        kept = sorted(
            folder.glob(f"{_PREFIX}*{_SUFFIX}"), key=lambda path: path.stat().st_mtime, reverse=True
        )
        for old in kept[KEEP:]:
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        return
