"""Every setting tiergate reads from the environment, in one place (as yente's settings.py).

Each is an environment variable with a `TIERGATE_` prefix (in any case; an empty one counts
as unset); a command-line option given for the same setting wins over the variable, and the
variable over the default. Settings are read when a command runs (`load`), never at import,
so one process can run commands with different environments.

The variables are validated by a pydantic model here rather than by pydantic-settings, whose
import (asyncio, ssl, importlib.metadata) added 0.15-0.3 s to the start of every command.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field


def _platform_home() -> Path:
    return Path(platformdirs.user_data_dir("tiergate"))


def _platform_cache() -> Path:
    return Path(platformdirs.user_cache_dir("tiergate"))


_PREFIX = "TIERGATE_"


class TiergateSettings(BaseModel):
    """tiergate's settings, each from its environment variable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # TIERGATE_HOME: where installed list editions and the default SQLite ledger live;
    # default: the platform's user data folder for tiergate.
    home: Path = Field(default_factory=_platform_home)
    # TIERGATE_CACHE: where derived files live (the screening indexes, each named by the hash
    # of its list edition), shared by every home and safe to delete; default: the
    # platform's user cache folder for tiergate.
    cache: Path = Field(default_factory=_platform_cache)
    # TIERGATE_DATABASE_URL: the ledger database (sqlite:///path or postgresql://...);
    # default: ledger.sqlite3 in the home, used only when it exists or a command needs one.
    database_url: str | None = None
    # TIERGATE_MATCH_THRESHOLD: the score from which a list hit decides the outcome;
    # default: data/screening.yaml's (0.92).
    match_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # TIERGATE_POTENTIAL_THRESHOLD: the score from which a hit is a possible match, held for
    # review; default: data/screening.yaml's (0.80).
    potential_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # TIERGATE_COUNTRY_ALLOCATION_TPP: the Tier 2 country allocation in TPP; default: the
    # rulebook's, flagged UNCERTAIN.
    country_allocation_tpp: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)


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
    from pydantic import ValidationError

    from tiergate.errors import UsageError

    values: dict[str, str] = {}
    given: dict[str, str] = {}
    for name, value in environment:
        field = name[len(_PREFIX) :].lower()
        if not name.upper().startswith(_PREFIX) or field not in TiergateSettings.model_fields:
            continue  # another program's variable, or a test's (TIERGATE_TEST_...)
        if not value:
            continue
        if field in values and values[field] != value:
            raise UsageError(
                f"environment variables {given[field]} and {name} both set "
                f"{_PREFIX}{field.upper()}, to different values: keep one"
            )
        values[field], given[field] = value, name
    try:
        return TiergateSettings.model_validate(values)
    except ValidationError as error:
        problem = error.errors()[0]
        name = given.get(str(problem["loc"][0]), _PREFIX + str(problem["loc"][0]).upper())
        raise UsageError(f"environment variable {name}: {problem['msg'].lower()}") from None
