"""The screening index of one list edition: each listed name's analysis, the names each index
term finds, and the entries, so that screening a name reads a few dozen of them.

`build(edition, settings)` makes an index in memory (seconds for the whole CSL). `stored(folder,
snapshot, settings)` gives the index of an installed or bundled snapshot from a SQLite file in
tiergate's cache, so a command that screens one name reads a few rows instead of building the
index and reading the edition. The file is named by a hash of the snapshot's bytes, of the
settings that shape the index (name analysis and candidate terms; thresholds and weights only
score) and of the code that analyses names, and by the SHA-256 of its own bytes, which are
checked before it is first used and whenever the file has changed since: a missing, stale or
damaged file is rebuilt from the snapshot.
The `KEEP` most recently used files are kept; a folder that cannot be written keeps none, which
only costs the next command a rebuild.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from abc import ABC, abstractmethod
from array import array
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from tiergate.screening.lists import EditionInfo, ListEdition, ListEntry
from tiergate.screening.names import Analyser, MatchSettings, analysis_fingerprint, terms
from tiergate.screening.snapshot import Snapshot, entry_from_row, entry_row

# Bump when the file's tables change: older files are then simply not found.
FORMAT = 2
# Index files kept in one folder, the most recently used: an installed edition and the bundled
# one, and a few settings, each about 25 MB for the CSL.
KEEP = 4
_PREFIX = "index-"
_SUFFIX = ".sqlite"
_STAMP = ".checked"  # beside an index file: its identity when its digest last matched
# Values bound in one query: below SQLite's oldest limit (999).
_CHUNK = 900
# Rows a stored index keeps of each kind once read, terms that find nothing included: more
# than the CSL's 305,407 terms, so a long book keeps what it uses and a server screening
# endless new names stays bounded.
_KEPT = 500_000

K = TypeVar("K", str, int)
V = TypeVar("V")

# One listed name (a variant): its entry's number, the name, strong tokens, weak tokens, and
# numbers (sorted).
Variant = tuple[int, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Index(ABC):
    """What the matcher reads of an edition."""

    def __init__(self, info: EditionInfo, size: int) -> None:
        self.info = info
        self.size = size  # the number of variants

    @abstractmethod
    def postings(self, terms: Collection[str]) -> Mapping[str, Sequence[int]]:
        """The variant ids each of `terms` finds (terms that find none are left out)."""

    @abstractmethod
    def variants(self, ids: Collection[int]) -> dict[int, Variant]:
        """The variants of `ids`."""

    @abstractmethod
    def entries(self, numbers: Collection[int]) -> dict[int, ListEntry]:
        """The entries of `numbers` (their positions in the edition)."""

    @abstractmethod
    def entry(self, entry_id: str) -> ListEntry | None:
        """The entry with `entry_id`, if the edition has it."""


class MemoryIndex(Index):
    """An index built in memory from a whole edition."""

    def __init__(
        self, edition: ListEdition, variants: list[Variant], postings: dict[str, array[int]]
    ) -> None:
        super().__init__(edition.info(), len(variants))
        self.edition = edition
        self._variants = variants
        self._postings = postings
        self._by_id: dict[str, ListEntry] | None = None

    def postings(self, terms: Collection[str]) -> Mapping[str, Sequence[int]]:
        return {term: self._postings[term] for term in terms if term in self._postings}

    def variants(self, ids: Collection[int]) -> dict[int, Variant]:
        return {i: self._variants[i] for i in ids}

    def entries(self, numbers: Collection[int]) -> dict[int, ListEntry]:
        return {n: self.edition.entries[n] for n in numbers}

    def entry(self, entry_id: str) -> ListEntry | None:
        if self._by_id is None:
            self._by_id = {}
            for e in self.edition.entries:
                self._by_id.setdefault(e.entry_id, e)
        return self._by_id.get(entry_id)

    def all_postings(self) -> Iterator[tuple[str, bytes]]:
        """Every term with its variant ids as stored, in term order (the file's key order)."""
        for term in sorted(self._postings):
            yield term, self._postings[term].tobytes()

    def all_variants(self) -> list[Variant]:
        return self._variants


def build(edition: ListEdition, settings: MatchSettings) -> MemoryIndex:
    """Every listed name's analysis and the variant ids of each term (the slow part)."""
    analyser = Analyser(settings)
    variants: list[Variant] = []
    postings: dict[str, array[int]] = defaultdict(lambda: array("i"))
    for number, entry in enumerate(edition.entries):
        for name in dict.fromkeys(entry.names):
            key = analyser.analyse(name)
            if not key.strong:
                continue
            for term in terms(key, settings.candidates):
                postings[term].append(len(variants))
            variants.append(
                (number, key.original, key.strong, key.weak, tuple(sorted(key.numbers)))
            )
    return MemoryIndex(edition, variants, dict(postings))


class StoredIndex(Index):
    """An index read from its SQLite file as queries need it; what was read is kept (up to
    `_KEPT` of each kind), so a long book screens at about the speed of an index in memory.
    Safe to share between threads."""

    def __init__(self, connection: sqlite3.Connection, info: EditionInfo, size: int) -> None:
        super().__init__(info, size)
        self._connection = connection
        self._lock = threading.Lock()
        self._postings: dict[str, array[int] | None] = {}
        self._variants: dict[int, Variant | None] = {}
        self._entries: dict[int, ListEntry | None] = {}

    def _read(
        self,
        kept: dict[K, V | None],
        keys: Collection[K],
        sql: str,
        value: Callable[[tuple[Any, ...]], V],
    ) -> dict[K, V]:
        """The values of `keys` (those the file has), reading the ones not kept with `sql`
        (its first column the key, `{}` for the placeholders)."""
        with self._lock:
            missing = [key for key in keys if key not in kept]
            if len(kept) + len(missing) > _KEPT:
                kept.clear()
                missing = list(keys)
            for start in range(0, len(missing), _CHUNK):
                chunk = missing[start : start + _CHUNK]
                query = sql.format(",".join("?" * len(chunk)))
                for row in self._connection.execute(query, chunk):
                    kept[row[0]] = value(row)
            for key in missing:
                kept.setdefault(key, None)  # not in the file: not asked for again
            return {key: found for key in keys if (found := kept[key]) is not None}

    def postings(self, terms: Collection[str]) -> Mapping[str, Sequence[int]]:
        return self._read(
            self._postings,
            terms,
            "SELECT term, ids FROM posting WHERE term IN ({})",
            lambda row: _ids(row[1]),
        )

    def variants(self, ids: Collection[int]) -> dict[int, Variant]:
        return self._read(
            self._variants,
            ids,
            "SELECT id, entry, name, strong, weak, numbers FROM variant WHERE id IN ({})",
            lambda row: (row[1], row[2], _tokens(row[3]), _tokens(row[4]), _tokens(row[5])),
        )

    def entries(self, numbers: Collection[int]) -> dict[int, ListEntry]:
        return self._read(
            self._entries,
            numbers,
            "SELECT number, row FROM entry WHERE number IN ({})",
            lambda row: entry_from_row(json.loads(row[1])),
        )

    def entry(self, entry_id: str) -> ListEntry | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT row FROM entry WHERE entry_id = ? ORDER BY number LIMIT 1", (entry_id,)
            ).fetchone()
        return None if row is None else entry_from_row(json.loads(row[0]))


def _ids(blob: bytes) -> array[int]:
    ids = array("i")
    ids.frombytes(blob)
    return ids


def _tokens(joined: str) -> tuple[str, ...]:
    return tuple(joined.split()) if joined else ()


def index_key(identity: str, settings: MatchSettings) -> str:
    """The hash that names an index: what it was built from (`identity`), the settings that
    shape it, and the code that analyses names."""
    shaping = settings.model_dump(mode="json", exclude={"thresholds", "weights", "lists"})
    document = {
        "format": FORMAT,
        "edition": identity,
        "settings": shaping,
        "analysis": analysis_fingerprint(),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def stored(folder: Path, snapshot: Snapshot, settings: MatchSettings) -> Index:
    """The index of `snapshot`'s edition: read from `folder`, else built (and kept there)."""
    key = index_key(f"snapshot:{snapshot.sha256}", settings)
    found = load(folder, key)
    if found is not None:
        return found
    built = build(snapshot.edition(), settings)
    save(folder, key, built)
    return built


def _files(folder: Path, key: str) -> list[Path]:
    return sorted(folder.glob(f"{_PREFIX}{key[:32]}-*{_SUFFIX}"))


def load(folder: Path, key: str) -> StoredIndex | None:
    """The index stored under `key`, or None when there is none or it is damaged."""
    for path in _files(folder, key):
        if not _intact(path):
            continue  # damaged since it was written
        # Read-only and immutable: no locks, so any number of processes read it at once. A
        # writer replaces a file only with the same bytes (the name is their digest).
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            meta = dict(connection.execute("SELECT name, value FROM meta").fetchall())
            if meta.get("key") != key:
                connection.close()
                continue
            info = json.loads(meta["edition"])
            info["edition_date"] = date.fromisoformat(info["edition_date"])
            index = StoredIndex(connection, EditionInfo(**info), int(meta["variants"]))
        except (sqlite3.Error, KeyError, TypeError, ValueError):
            connection.close()
            continue
        _used(path)
        return index
    return None


def _intact(path: Path) -> bool:
    """Whether `path` holds the bytes whose digest its name gives. They are hashed (about
    40 ms for the CSL's index) when the file is first opened and whenever it has changed
    since: the stamp beside it records the file's identity (device, inode, size, modification
    and change times) when its digest last matched, and any write to the file changes that."""
    try:
        identity = _identity(path)
    except OSError:
        return False
    stamp = _stamp(path)
    try:
        if stamp.read_text(encoding="ascii") == identity:
            return True
    except OSError:
        pass  # not checked yet
    try:
        digest = _digest(path)
    except OSError:
        return False
    if not path.name.endswith(f"-{digest[:32]}{_SUFFIX}"):
        return False
    _checked(path, identity)
    return True


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _checked(path: Path, identity: str) -> None:
    """Record that `path`, as `identity` names it, has the bytes its name says."""
    with contextlib.suppress(OSError):  # a folder that cannot be written: checked next time
        _stamp(path).write_text(identity, encoding="ascii")


def _identity(path: Path) -> str:
    found = path.stat()
    return " ".join(
        str(n)
        for n in (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
    )


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + _STAMP)


def _used(path: Path) -> None:
    """Mark `path` as just used, so it is the last to be removed (on its stamp: touching the
    file itself would change its identity)."""
    try:
        os.utime(_stamp(path))
    except OSError:
        return


def _last_used(path: Path) -> float:
    try:
        return _stamp(path).stat().st_mtime
    except OSError:
        return path.stat().st_mtime


def save(folder: Path, key: str, index: MemoryIndex) -> None:
    """Store `index` under `key` (atomically) and remove all but the `KEEP` most recently
    used; a folder that cannot be written keeps nothing."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".tmp")
        os.close(handle)
        try:
            _write(Path(temporary), key, index)
            target = folder / f"{_PREFIX}{key[:32]}-{_digest(Path(temporary))[:32]}{_SUFFIX}"
            os.replace(temporary, target)
            _checked(target, _identity(target))  # just hashed: the next command need not
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for other in _files(folder, key):  # a damaged file under the same key
            if other != target:
                _remove(other)
        # Every index file, those of an older format (another suffix) too.
        files = [path for path in folder.glob(f"{_PREFIX}*") if not path.name.endswith(_STAMP)]
        for old in sorted(files, key=_last_used, reverse=True)[KEEP:]:
            if old != target:
                _remove(old)
        for stamp in folder.glob(f"{_PREFIX}*{_STAMP}"):
            if not stamp.with_name(stamp.name.removesuffix(_STAMP)).exists():
                stamp.unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        return


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _stamp(path).unlink(missing_ok=True)


def _write(path: Path, key: str, index: MemoryIndex) -> None:
    edition = {**asdict(index.info), "edition_date": index.info.edition_date.isoformat()}
    connection = sqlite3.connect(path)
    try:
        connection.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE entry (
                number INTEGER PRIMARY KEY, entry_id TEXT NOT NULL, row TEXT NOT NULL
            );
            CREATE TABLE variant (
                id INTEGER PRIMARY KEY, entry INTEGER NOT NULL, name TEXT NOT NULL,
                strong TEXT NOT NULL, weak TEXT NOT NULL, numbers TEXT NOT NULL
            );
            CREATE TABLE posting (term TEXT PRIMARY KEY, ids BLOB NOT NULL) WITHOUT ROWID;
            """
        )
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("key", key),
                ("edition", json.dumps(edition, ensure_ascii=False)),
                ("variants", str(index.size)),
            ],
        )
        connection.executemany(
            "INSERT INTO entry VALUES (?, ?, ?)",
            (
                (n, e.entry_id, json.dumps(entry_row(e), ensure_ascii=False))
                for n, e in enumerate(index.edition.entries)
            ),
        )
        connection.execute("CREATE INDEX entry_by_id ON entry (entry_id)")
        connection.executemany(
            "INSERT INTO variant VALUES (?, ?, ?, ?, ?, ?)",
            (
                (i, v[0], v[1], " ".join(v[2]), " ".join(v[3]), " ".join(v[4]))
                for i, v in enumerate(index.all_variants())
            ),
        )
        connection.executemany(
            "INSERT INTO posting VALUES (?, ?)",
            index.all_postings(),
        )
        connection.commit()
    finally:
        connection.close()
