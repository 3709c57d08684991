"""The tiergate home, where installed list editions and the default SQLite ledger live, and
the cache, where derived files (the screening indexes) live. Cheap to import: the settings
(pydantic) are read only when a path is asked for."""

from __future__ import annotations

from pathlib import Path

LEDGER_FILE = "ledger.sqlite3"


def tiergate_home() -> Path:
    """`TIERGATE_HOME`, else the platform's user data folder for tiergate (see
    `tiergate.settings`), as the environment says when asked."""
    from tiergate.settings import load

    return load().home


def tiergate_cache() -> Path:
    """`TIERGATE_CACHE`, else the platform's user cache folder for tiergate."""
    from tiergate.settings import load

    return load().cache


def default_ledger_path() -> Path:
    """The default SQLite ledger file (it may not exist yet)."""
    return tiergate_home() / LEDGER_FILE
