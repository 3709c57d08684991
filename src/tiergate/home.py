"""The tiergate home: where installed list editions, the screening index and the default
SQLite ledger live. Cheap to import: the settings (pydantic) are read only when a path is
asked for."""

from __future__ import annotations

from pathlib import Path

LEDGER_FILE = "ledger.sqlite3"


def tiergate_home() -> Path:
    """`TIERGATE_HOME`, else the platform's user data folder for tiergate (see
    `tiergate.settings`), as the environment says when asked."""
    from tiergate.settings import load

    return load().home


def default_ledger_path() -> Path:
    """The default SQLite ledger file (it may not exist yet)."""
    return tiergate_home() / LEDGER_FILE
