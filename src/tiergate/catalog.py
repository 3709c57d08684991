"""The chip catalog: accelerators, boards and systems with sourced figures (`data/chips.yaml`).

Lookup is by id, name or alias, ignoring case, spaces, hyphens and underscores, with or
without the vendor's name in front. Unknown names get close suggestions, never a guess.
"""

from __future__ import annotations

import difflib
import re

from tiergate.rulebook import Chip, Rulebook

_NOISE = re.compile(r"[\s\-_/.]+")


def catalog_key(text: str) -> str:
    """The normalised form names are compared in."""
    return _NOISE.sub("", text).casefold()


class Catalog:
    """Chips by normalised name; `contained` gives the chip inside a board or system."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.chips: dict[str, Chip] = {chip.id: chip for chip in rulebook.chips.chips}
        self.edition = rulebook.chips.edition  # cited by every reason the catalog gives
        self._by_key: dict[str, Chip] = {}
        for chip in rulebook.chips.chips:
            names = [chip.id, chip.name, *chip.aliases]
            if chip.name.casefold().startswith(chip.vendor.casefold()):
                names.append(chip.name[len(chip.vendor) :])
            for name in names:
                self._by_key.setdefault(catalog_key(name), chip)
        self._vendors = sorted({catalog_key(c.vendor) for c in rulebook.chips.chips}, key=len)

    def __len__(self) -> int:
        return len(self.chips)

    def find(self, text: str) -> Chip | None:
        """The chip `text` names, or None."""
        key = catalog_key(text)
        chip = self._by_key.get(key)
        if chip is None:
            for vendor in self._vendors:
                if key.startswith(vendor) and key != vendor:
                    chip = self._by_key.get(key[len(vendor) :])
                    if chip is not None:
                        break
        return chip

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Catalog names close to `text`, for an error message."""
        names = {catalog_key(chip.name): chip.name for chip in self.chips.values()}
        names.update({catalog_key(a): a for chip in self.chips.values() for a in chip.aliases})
        close = difflib.get_close_matches(catalog_key(text), list(names), n=limit, cutoff=0.6)
        return [names[key] for key in close]

    def unit_chip(self, chip: Chip) -> tuple[Chip, int]:
        """The IC whose parameters classify `chip`, and how many a unit holds."""
        if chip.contains is None:
            return chip, 1
        inner, count = self.unit_chip(self.chips[chip.contains.chip])
        return inner, count * chip.contains.count
