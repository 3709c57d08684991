"""The rulebook: dated, cited facts loaded strictly from the YAML files in `tiergate/data/`.

One concern per file (see `data/README.md`): countries, country groups, destination sets,
item classes, rules, licence exceptions, advisories, allowances and the chip catalog. Every
model forbids unknown keys, so a typo in a rulebook fails at load with the file, the path
inside it and what was expected, instead of silently meaning nothing.

The models live by file: `base` (what they share), `places` (countries, country groups,
destination sets), `items` (item classes, chips), `rules` (rules, exceptions, advisories,
allowances); `loader` reads the files into one `Rulebook`. Import them from here.
"""

from __future__ import annotations

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
from tiergate.rulebook_files import RULEBOOK_FILES
from tiergate.terms import View

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
