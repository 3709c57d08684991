"""The strict loader: each file parsed with its model, the whole as one `Rulebook` named by
its content, and the bundled rulebook loaded once per process."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from pydantic import Field

from tiergate.errors import RulebookError
from tiergate.rulebook.base import Strict
from tiergate.rulebook.items import ChipsFile, ItemClassesFile
from tiergate.rulebook.parse import bundled, bundled_text, parse
from tiergate.rulebook.places import CountriesFile, CountryGroupsFile, DestinationSetsFile
from tiergate.rulebook.rules import AdvisoriesFile, AllowancesFile, ExceptionsFile, RulesFile
from tiergate.rulebook_files import (
    RULEBOOK_FILES,
    content_hash,
    rulebook_version,
)

# --- rulebook.yaml -----------------------------------------------------------------------


class Edition(Strict):
    """One outside data edition the rulebook was derived from."""

    name: str
    date: date
    source: str
    licence: str


class RulebookMeta(Strict):
    version: str
    earliest_date: date
    description: str
    h100_tpp: float = Field(gt=0)
    h100_tpp_source: str
    editions: list[Edition]


# --- loading -----------------------------------------------------------------------------


class Rulebook(Strict):
    """Every rulebook file, loaded and validated; `version` names the exact content."""

    meta: RulebookMeta
    countries: CountriesFile
    country_groups: CountryGroupsFile
    destination_sets: DestinationSetsFile
    item_classes: ItemClassesFile
    rules: RulesFile
    exceptions: ExceptionsFile
    advisories: AdvisoriesFile
    allowances: AllowancesFile
    chips: ChipsFile
    content_hash: str

    @property
    def version(self) -> str:
        """The rulebook version with a short hash of the files, so an edit shows."""
        return rulebook_version(self.meta.version, self.content_hash)


_FILE_MODELS: dict[str, type[Strict]] = {
    "rulebook.yaml": RulebookMeta,
    "countries.yaml": CountriesFile,
    "country_groups.yaml": CountryGroupsFile,
    "destination_sets.yaml": DestinationSetsFile,
    "item_classes.yaml": ItemClassesFile,
    "rules.yaml": RulesFile,
    "exceptions.yaml": ExceptionsFile,
    "advisories.yaml": AdvisoriesFile,
    "allowances.yaml": AllowancesFile,
    "chips.yaml": ChipsFile,
}


def parse_file(name: str, text: str, source: str) -> Strict:
    """Parse one rulebook file's text with its model; errors name `source` and the path."""
    return parse(_FILE_MODELS[name], text, source)


def load_rulebook(directory: Path | None = None) -> Rulebook:
    """Load the rulebook from `directory`, or the one bundled with the package."""
    texts: dict[str, tuple[str, str]] = {}
    for name in RULEBOOK_FILES:
        if directory is None:
            text, source = bundled_text(name), f"tiergate/data/{name}"
        else:
            path = directory / name
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise RulebookError(f"cannot read rulebook file `{path}`: {exc}") from exc
            source = str(path)
        texts[name] = (text, source)
    parsed = {
        name: bundled(_FILE_MODELS[name], name)
        if directory is None
        else parse_file(name, text, source)
        for name, (text, source) in texts.items()
    }
    return Rulebook(
        meta=parsed["rulebook.yaml"],
        countries=parsed["countries.yaml"],
        country_groups=parsed["country_groups.yaml"],
        destination_sets=parsed["destination_sets.yaml"],
        item_classes=parsed["item_classes.yaml"],
        rules=parsed["rules.yaml"],
        exceptions=parsed["exceptions.yaml"],
        advisories=parsed["advisories.yaml"],
        allowances=parsed["allowances.yaml"],
        chips=parsed["chips.yaml"],
        content_hash=content_hash({name: text for name, (text, _) in texts.items()}),
    )


@cache
def default_rulebook() -> Rulebook:
    """The bundled rulebook, loaded once per process."""
    return load_rulebook()
