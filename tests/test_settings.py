"""Settings come from one place: a command's option wins over its environment variable, the
variable over the default, and the environment is read when a command runs."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest
from typer.testing import CliRunner

from tiergate.cli import app
from tiergate.errors import UsageError
from tiergate.workflow import Settings


def test_an_option_wins_over_its_variable_which_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("MATCH_THRESHOLD", "POTENTIAL_THRESHOLD", "COUNTRY_ALLOCATION_TPP"):
        monkeypatch.delenv(f"TIERGATE_{name}", raising=False)
    monkeypatch.delenv("TIERGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("TIERGATE_HOME")
    default = Settings.load()
    assert default.home == Path(platformdirs.user_data_dir("tiergate"))
    assert (default.db, default.match_threshold, default.country_allocation_tpp) == (
        None,
        None,
        None,
    )
    monkeypatch.setenv("TIERGATE_HOME", str(tmp_path))
    monkeypatch.setenv("TIERGATE_DATABASE_URL", "sqlite:///from-env.sqlite3")
    monkeypatch.setenv("TIERGATE_MATCH_THRESHOLD", "0.9")
    monkeypatch.setenv("TIERGATE_COUNTRY_ALLOCATION_TPP", "1000000")
    configured = Settings.load()
    assert configured.home == tmp_path
    assert configured.db == "sqlite:///from-env.sqlite3"
    assert (configured.match_threshold, configured.country_allocation_tpp) == (0.9, 1e6)
    given = Settings.load(
        db="sqlite:///from-option.sqlite3", match_threshold=0.95, country_allocation_tpp=0.0
    )
    assert given.db == "sqlite:///from-option.sqlite3"
    assert (given.match_threshold, given.country_allocation_tpp) == (0.95, 0.0)


def test_a_bad_variable_is_a_usage_error_that_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, problem in [("1.5", "not between 0 and 1"), ("high", "not a number")]:
        monkeypatch.setenv("TIERGATE_POTENTIAL_THRESHOLD", value)
        with pytest.raises(
            UsageError, match=f"TIERGATE_POTENTIAL_THRESHOLD: `{value}` is {problem}"
        ):
            Settings.load()
    monkeypatch.delenv("TIERGATE_POTENTIAL_THRESHOLD")
    for value, problem in [("-1", "below 0"), ("inf", "not a finite number")]:
        monkeypatch.setenv("TIERGATE_COUNTRY_ALLOCATION_TPP", value)
        with pytest.raises(
            UsageError, match=f"TIERGATE_COUNTRY_ALLOCATION_TPP: `{value}` is {problem}"
        ):
            Settings.load()


def test_each_command_reads_the_environment_as_it_runs(tmp_path: Path) -> None:
    # One process, three environments: the ledger the command opens follows each.
    runner = CliRunner()
    env_url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    option_url = f"sqlite:///{tmp_path / 'option.sqlite3'}"
    by_default = runner.invoke(
        app, ["db", "upgrade"], env={"TIERGATE_HOME": str(tmp_path), "TIERGATE_DATABASE_URL": ""}
    )
    assert by_default.exit_code == 0, by_default.output
    assert f"sqlite:///{tmp_path / 'ledger.sqlite3'}" in by_default.stdout
    by_env = runner.invoke(app, ["db", "upgrade"], env={"TIERGATE_DATABASE_URL": env_url})
    assert f"`{env_url}`" in by_env.stdout
    by_option = runner.invoke(
        app, ["db", "upgrade", "--db", option_url], env={"TIERGATE_DATABASE_URL": env_url}
    )
    assert f"`{option_url}`" in by_option.stdout


def test_the_default_folders_follow_the_platform_variables_and_settings_are_read_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Settings are kept while the variables they depend on stay the same: a change to one of
    # the platform's folder variables must still reach the default home and cache.
    from dataclasses import FrozenInstanceError

    from tiergate.settings import load

    monkeypatch.delenv("TIERGATE_HOME")
    monkeypatch.delenv("TIERGATE_CACHE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = load()
    assert first.home == Path(platformdirs.user_data_dir("tiergate"))
    assert first.cache == Path(platformdirs.user_cache_dir("tiergate"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    assert load().home == Path(platformdirs.user_data_dir("tiergate"))
    with pytest.raises(FrozenInstanceError):
        first.home = tmp_path  # type: ignore[misc]


def test_variables_are_read_in_any_case_and_an_empty_one_is_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tiergate.settings import load

    monkeypatch.delenv("TIERGATE_HOME")
    monkeypatch.setenv("tiergate_home", str(tmp_path))
    monkeypatch.setenv("TIERGATE_MATCH_THRESHOLD", "")
    monkeypatch.setenv("TIERGATE_UNKNOWN_SETTING", "ignored: another program's")
    settings = load()
    assert (settings.home, settings.match_threshold) == (tmp_path, None)
    # Two spellings of one variable with different values: which wins would be a guess.
    monkeypatch.setenv("TIERGATE_HOME", str(tmp_path / "other"))
    with pytest.raises(
        UsageError, match=r"TIERGATE_HOME.*tiergate_home|tiergate_home.*TIERGATE_HOME"
    ):
        load()
    monkeypatch.setenv("TIERGATE_HOME", str(tmp_path))
    assert load().home == tmp_path
