"""Every setting tiergate reads from the environment, in one place (as yente's settings.py).

Each is an environment variable with a `TIERGATE_` prefix (in any case; an empty one counts
as unset); a command-line option given for the same setting wins over the variable, and the
variable over the default. Settings are read when a command runs (`load`), never at import,
so one process can run commands with different environments.

The variables are read and checked here by hand, without pydantic-settings or pydantic: six
scalars do not need them, and their imports (asyncio, ssl, importlib.metadata, the schema
machinery) cost 0.15-0.3 s at the start of every command.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any


def _platform_home() -> Path:
    import platformdirs  # only when TIERGATE_HOME is not set

    return Path(platformdirs.user_data_dir("tiergate"))


def _platform_cache() -> Path:
    import platformdirs  # only when TIERGATE_CACHE is not set

    return Path(platformdirs.user_cache_dir("tiergate"))


_PREFIX = "TIERGATE_"


@dataclass(frozen=True)
class TiergateSettings:
    """tiergate's settings, each from its environment variable."""

    # TIERGATE_HOME: where installed list editions and the default SQLite ledger live;
    # default: the platform's user data folder for tiergate.
    home: Path = field(default_factory=_platform_home)
    # TIERGATE_CACHE: where derived files live (the screening indexes, each named by the hash
    # of its list edition), shared by every home and safe to delete; default: the
    # platform's user cache folder for tiergate.
    cache: Path = field(default_factory=_platform_cache)
    # TIERGATE_DATABASE_URL: the ledger database (sqlite:///path or postgresql://...);
    # default: ledger.sqlite3 in the home, used only when it exists or a command needs one.
    database_url: str | None = None
    # TIERGATE_MATCH_THRESHOLD: the score from which a list hit decides the outcome;
    # default: data/screening.yaml's (0.92).
    match_threshold: float | None = None
    # TIERGATE_POTENTIAL_THRESHOLD: the score from which a hit is a possible match, held for
    # review; default: data/screening.yaml's (0.80).
    potential_threshold: float | None = None
    # TIERGATE_COUNTRY_ALLOCATION_TPP: the Tier 2 country allocation in TPP; default: the
    # rulebook's, flagged UNCERTAIN.
    country_allocation_tpp: float | None = None
    # TIERGATE_RATE_LIMIT: the requests a second each API key may make of `tiergate serve`, on
    # average (twice as many at once); 0: no limit; default: 100.
    rate_limit: float | None = None


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"`{value}` is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"`{value}` is not a finite number")
    return number


def _share(value: str) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError(f"`{value}` is not between 0 and 1")
    return number


def _amount(value: str) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError(f"`{value}` is below 0")
    return number


# How each setting's variable is read.
_READERS: dict[str, Callable[[str], object]] = {
    "home": Path,
    "cache": Path,
    "database_url": str,
    "match_threshold": _share,
    "potential_threshold": _share,
    "country_allocation_tpp": _amount,
    "rate_limit": _amount,
}


def load() -> TiergateSettings:
    """The settings as the environment gives them now; a bad value is a usage error that
    names the variable. Reading them costs about a millisecond, so they are read again only
    when a variable they depend on has changed (a server screening one name per request
    calls this every time)."""
    return _settings(
        tuple(
            (name, value)
            for name, value in os.environ.items()
            if name.upper().startswith(_PREFIX) or name in _PLATFORM_VARIABLES
        )
    )


# The variables the platform folders (the defaults of `home` and `cache`) are derived from.
_PLATFORM_VARIABLES = frozenset({"HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"})


@lru_cache(maxsize=8)
def _settings(environment: tuple[tuple[str, str], ...]) -> TiergateSettings:
    """The settings of `environment` (the variables they depend on, as `load` found them)."""
    from tiergate.errors import UsageError

    values: dict[str, Any] = {}
    given: dict[str, tuple[str, str]] = {}  # setting: the variable that gave it, its value
    for name, value in environment:
        setting = name[len(_PREFIX) :].lower()
        if not name.upper().startswith(_PREFIX) or setting not in _READERS:
            continue  # another program's variable, or a test's (TIERGATE_TEST_...)
        if not value:
            continue
        if setting in given and given[setting][1] != value:
            raise UsageError(
                f"environment variables {given[setting][0]} and {name} both set "
                f"{_PREFIX}{setting.upper()}, to different values: keep one"
            )
        try:
            values[setting] = _READERS[setting](value)
        except ValueError as error:
            raise UsageError(f"environment variable {name}: {error}") from None
        given[setting] = (name, value)
    return TiergateSettings(**values)
