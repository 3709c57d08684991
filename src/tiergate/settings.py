"""Every setting tiergate reads from the environment, in one place (as yente's settings.py).

Each is an environment variable with a `TIERGATE_` prefix; a command-line option given for
the same setting wins over the variable, and the variable over the default. Settings are
read when a command runs (`load`), never at import, so one process can run commands with
different environments.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _platform_home() -> Path:
    return Path(platformdirs.user_data_dir("tiergate"))


def _platform_cache() -> Path:
    return Path(platformdirs.user_cache_dir("tiergate"))


class TiergateSettings(BaseSettings):
    """tiergate's settings, each from its environment variable."""

    model_config = SettingsConfigDict(
        env_prefix="TIERGATE_", env_ignore_empty=True, extra="ignore", frozen=True
    )

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
            if name.upper().startswith("TIERGATE_") or name in _PLATFORM_VARIABLES
        )
    )


# The variables the platform folders (the defaults of `home` and `cache`) are derived from.
_PLATFORM_VARIABLES = frozenset({"HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"})


@lru_cache(maxsize=8)
def _settings(environment: tuple[tuple[str, str], ...]) -> TiergateSettings:
    """The settings of `environment` (the variables they depend on, as `load` found them)."""
    from pydantic import ValidationError

    from tiergate.errors import UsageError

    try:
        return TiergateSettings()
    except ValidationError as error:
        problem = error.errors()[0]
        name = "TIERGATE_" + str(problem["loc"][0]).upper()
        raise UsageError(f"environment variable {name}: {problem['msg'].lower()}") from None
