"""Name matching against a list edition: normalise, index, find candidates, score, explain.

Settings (thresholds, weights, legal forms, abbreviations) are data in `data/screening.yaml`.
A query is compared only with the listed names that share a strong token or a token's
phonetic key with it (tens of candidates, not the whole list), and every hit says which
listed name or alias matched and how each feature moved the score.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from tiergate.screening.index import Index, build
from tiergate.screening.lists import ListEdition, ListEntry
from tiergate.screening.names import Analyser, MatchSettings, NameKey, default_settings, terms


@dataclass(frozen=True, slots=True)
class Hit:
    """One listed entry that resembles the query, with the evidence."""

    entry: ListEntry
    matched_name: str
    score: float
    status: str  # "match" or "potential"
    features: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        e = self.entry
        return {
            "entry_id": e.entry_id,
            "list": e.list_code,
            "name": e.name,
            "matched_name": self.matched_name,
            "score": round(self.score, 3),
            "status": self.status,
            "countries": list(e.countries),
            "programs": list(e.programs),
            "license_requirement": e.license_requirement,
            "license_policy": e.license_policy,
            "explanation": {name: round(value, 3) for name, value in self.features.items()},
        }


class Matcher:
    """Screens names against one edition's index."""

    def __init__(self, index: Index, settings: MatchSettings) -> None:
        self.index = index
        self.settings = settings
        self.analyser = Analyser(settings)
        self._keys: dict[int, NameKey] = {}

    @classmethod
    def of(cls, edition: ListEdition, settings: MatchSettings | None = None) -> Matcher:
        """A matcher over `edition`, its index built in memory."""
        settings = settings or default_settings()
        return cls(build(edition, settings), settings)

    def _variant_keys(self, ids: list[int]) -> dict[int, tuple[int, NameKey]]:
        """Each variant's entry number and key; a key is made when a query first reaches it."""
        found = self.index.variants(ids)
        keys = {}
        for variant_id, (entry, original, strong, weak, numbers) in found.items():
            key = self._keys.get(variant_id)
            if key is None:
                key = self._keys[variant_id] = NameKey(original, strong, weak, frozenset(numbers))
            keys[variant_id] = (entry, key)
        return keys

    def candidates(self, query: NameKey) -> list[int]:
        """Variant ids sharing a strong token or phonetic key, best shared weight first."""
        weights: dict[int, float] = defaultdict(float)
        postings = self.index.postings(terms(query, self.settings.candidates))
        # Terms in order and ties by id: the same candidates from every index of the edition.
        for term in sorted(postings):
            ids = postings[term]
            weight = math.log(1 + max(self.index.size, 1) / len(ids))  # inverse frequency
            for variant_id in ids:
                weights[variant_id] += weight
        # The best `max_per_query`, as sorting them all would order them (without the sort).
        return heapq.nsmallest(
            self.settings.candidates.max_per_query, weights, key=lambda v: (-weights[v], v)
        )

    def score(
        self, query: NameKey, listed: NameKey, entry: ListEntry, country: str | None
    ) -> tuple[float, dict[str, float]]:
        """The score of `listed` for `query`, and each feature's contribution."""
        w = self.settings.weights
        features: dict[str, float] = {
            "name_similarity": fuzz.token_sort_ratio(query.text, listed.text) / 100
        }
        if query.numbers != listed.numbers:
            features["numbers_disagree"] = w.numbers_disagree
        listed_tokens = set(listed.strong)
        if listed_tokens:
            missing = len(listed_tokens - _fuzzy_cover(set(query.strong), listed_tokens)) / len(
                listed_tokens
            )
            if missing:
                features["coverage_shortfall"] = w.coverage_shortfall * missing
        if (entry.entity_type or "").casefold() in ("vessel", "aircraft"):
            features["vessel_or_aircraft"] = w.vessel_or_aircraft
        if country is not None and entry.countries:
            if country in entry.countries:
                features["country_agrees"] = w.country_agrees
            else:
                features["country_disagrees"] = w.country_disagrees
        score = max(0.0, min(1.0, sum(features.values())))
        return score, features

    def screen(self, name: str, country: str | None = None, limit: int = 10) -> list[Hit]:
        """Listed entries resembling `name` at or above the potential threshold, best first,
        one hit per entry (its best-matching name)."""
        query = self.analyser.analyse(name)
        if not query.strong:
            return []
        thresholds = self.settings.thresholds
        variants = self._variant_keys(self.candidates(query))
        entries = self.index.entries({entry for entry, _ in variants.values()})
        best: dict[int, Hit] = {}
        for number, key in variants.values():
            entry = entries[number]
            score, features = self.score(query, key, entry, country)
            if score < thresholds.potential:
                continue
            status = "match" if score >= thresholds.match else "potential"
            previous = best.get(number)
            if previous is None or score > previous.score:
                best[number] = Hit(entry, key.original, score, status, features)
        severity = self.settings.severity
        return sorted(
            best.values(),
            key=lambda hit: (-hit.score, severity(hit.entry.list_code), hit.entry.entry_id),
        )[:limit]


def _fuzzy_cover(query_tokens: set[str], listed_tokens: set[str]) -> set[str]:
    """Listed tokens the query has, exactly or within one edit in five letters."""
    covered = set()
    for listed in listed_tokens:
        if listed in query_tokens:
            covered.add(listed)
            continue
        for token in query_tokens:
            if fuzz.ratio(listed, token) >= 80:
                covered.add(listed)
                break
    return covered
