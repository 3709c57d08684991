"""The tiergate home: where installed list editions, the screening index and the default
SQLite ledger live. Kept free of heavy imports: every command asks where it is."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

LEDGER_FILE = "ledger.sqlite3"


def tiergate_home() -> Path:
    """`TIERGATE_HOME`, else the platform's user data folder for tiergate."""
    configured = os.environ.get("TIERGATE_HOME")
    return Path(configured) if configured else Path(platformdirs.user_data_dir("tiergate"))


def default_ledger_path() -> Path:
    """The default SQLite ledger file (it may not exist yet)."""
    return tiergate_home() / LEDGER_FILE


def ledger_configured() -> bool:
    """True when a ledger is in use without being named: `TIERGATE_DATABASE_URL` is set, or
    the default SQLite file exists."""
    return "TIERGATE_DATABASE_URL" in os.environ or default_ledger_path().is_file()
