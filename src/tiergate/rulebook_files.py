"""The rulebook's files and how their content is named, without validating them: `tiergate
version` names the bundled rulebook without loading pydantic (see `tiergate.rulebook`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib import resources

import yaml

RULEBOOK_FILES = (
    "rulebook.yaml",
    "countries.yaml",
    "country_groups.yaml",
    "destination_sets.yaml",
    "item_classes.yaml",
    "rules.yaml",
    "exceptions.yaml",
    "advisories.yaml",
    "allowances.yaml",
    "chips.yaml",
)

# libyaml's safe loader when PyYAML was built with it (eight times faster on the rulebook),
# else the pure-Python one: the same constructor, so the same values.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def content_hash(texts: Mapping[str, str]) -> str:
    """The SHA-256 of every file's name and text, in `RULEBOOK_FILES` order."""
    digest = hashlib.sha256()
    for name in RULEBOOK_FILES:
        digest.update(name.encode())
        digest.update(texts[name].encode())
    return digest.hexdigest()


def rulebook_version(meta_version: str, digest: str) -> str:
    """The rulebook version with a short hash of the files, so an edit shows."""
    return f"{meta_version}+{digest[:12]}"


def bundled_version() -> str:
    """The bundled rulebook's version, as `Rulebook.version` gives it once loaded."""
    folder = resources.files("tiergate.data")
    texts = {name: folder.joinpath(name).read_text(encoding="utf-8") for name in RULEBOOK_FILES}
    meta = yaml.load(texts["rulebook.yaml"], Loader=SAFE_LOADER)
    return rulebook_version(str(meta["version"]), content_hash(texts))
