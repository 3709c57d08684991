"""The rulebook: dated, cited facts loaded strictly from the YAML files in `tiergate/data/`.

One concern per file (see `data/README.md`): countries, country groups, destination sets,
item classes, rules, licence exceptions, advisories, allowances and the chip catalog. Every
model forbids unknown keys, so a typo in a rulebook fails at load with the file, the path
inside it and what was expected, instead of silently meaning nothing.

The models live by file: `base` (what they share), `places` (countries, country groups,
destination sets), `items` (item classes, chips), `rules` (rules, exceptions, advisories,
allowances); `loader` reads the files into one `Rulebook`. Import them from here: each is
imported when first asked for (PEP 562), so that reading `countries.yaml` alone (as the
screener does) does not import the models of every other file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tiergate.rulebook_files import RULEBOOK_FILES
from tiergate.terms import View

if TYPE_CHECKING:
    from tiergate.rulebook.base import (
        Cited,
        Dated,
        ItemType,
        ReviewPolicy,
        Strict,
        Tier,
        Transaction,
    )
    from tiergate.rulebook.items import (
        Chip,
        ChipsFile,
        Contains,
        DerivedModelExclusion,
        EccnMap,
        EccnScope,
        Figure,
        ItemClass,
        ItemClassesFile,
        Test,
    )
    from tiergate.rulebook.loader import (
        Edition,
        Rulebook,
        RulebookMeta,
        default_rulebook,
        load_rulebook,
        parse_file,
    )
    from tiergate.rulebook.places import (
        AmbiguousName,
        CountriesFile,
        CountryAlias,
        CountryGroup,
        CountryGroupsFile,
        DestinationSet,
        DestinationSetsFile,
        Membership,
        Region,
        SetTerm,
        TreatedAs,
    )
    from tiergate.rulebook.rules import (
        AdvisoriesFile,
        Advisory,
        Allowance,
        AllowancesFile,
        ExceptionsFile,
        LicenceException,
        Rule,
        RuleKind,
        RulesFile,
        Standing,
        StandingReason,
    )

# The model modules, cheapest first: a name is looked up in them in this order.
_MODULES = ("base", "places", "items", "rules", "loader")


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for module in _MODULES:
        found = importlib.import_module(f"{__name__}.{module}")
        if name in vars(found):
            value = getattr(found, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} lists {name!r} but no module defines it")


__all__ = [
    "RULEBOOK_FILES",
    "AdvisoriesFile",
    "Advisory",
    "Allowance",
    "AllowancesFile",
    "AmbiguousName",
    "Chip",
    "ChipsFile",
    "Cited",
    "Contains",
    "CountriesFile",
    "CountryAlias",
    "CountryGroup",
    "CountryGroupsFile",
    "Dated",
    "DerivedModelExclusion",
    "DestinationSet",
    "DestinationSetsFile",
    "EccnMap",
    "EccnScope",
    "Edition",
    "ExceptionsFile",
    "Figure",
    "ItemClass",
    "ItemClassesFile",
    "ItemType",
    "LicenceException",
    "Membership",
    "Region",
    "ReviewPolicy",
    "Rule",
    "RuleKind",
    "Rulebook",
    "RulebookMeta",
    "RulesFile",
    "SetTerm",
    "Standing",
    "StandingReason",
    "Strict",
    "Test",
    "Tier",
    "Transaction",
    "TreatedAs",
    "View",
    "default_rulebook",
    "load_rulebook",
    "parse_file",
]
