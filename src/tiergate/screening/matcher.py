"""Name matching against a list edition: normalise, index, find candidates, score, explain.

Settings (thresholds, weights, legal forms, abbreviations) are data in `data/screening.yaml`.
A query is compared only with the listed names that share a strong token or a token's
phonetic key with it (tens of candidates, not the whole list), and every hit says which
listed name or alias matched and how each feature moved the score.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz
from rigour.text import ascii_text, metaphone

from tiergate.rulebook import SAFE_LOADER
from tiergate.screening import index
from tiergate.screening.lists import ListEdition, ListEntry


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    match: float = Field(gt=0, le=1)
    potential: float = Field(gt=0, le=1)


class Weights(_Strict):
    numbers_disagree: float
    country_agrees: float
    country_disagrees: float
    coverage_shortfall: float
    vessel_or_aircraft: float


class CandidateSettings(_Strict):
    max_per_query: int = Field(gt=0)
    min_phonetic_length: int = Field(gt=0)
    min_deletion_length: int = Field(gt=1)


class ListEffect(_Strict):
    """What a hit on one list does to a shipment line."""

    effect: str = Field(pattern="^(prohibited|entry_policy|hold)$")
    citation: str
    description: str


class MatchSettings(_Strict):
    """The contents of `data/screening.yaml`."""

    thresholds: Thresholds
    weights: Weights
    candidates: CandidateSettings
    legal_form_phrases: list[str]
    weak_tokens: list[str]
    abbreviations: dict[str, str]
    lists: dict[str, ListEffect]

    def severity(self, list_code: str) -> int:
        """0 for the most severe list; unknown lists last."""
        order = list(self.lists)
        return order.index(list_code) if list_code in order else len(order)


@cache
def default_settings() -> MatchSettings:
    """The bundled matching settings."""
    text = resources.files("tiergate.data").joinpath("screening.yaml").read_text(encoding="utf-8")
    return MatchSettings.model_validate(yaml.load(text, Loader=SAFE_LOADER))


_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name as the matcher sees it."""

    original: str
    strong: tuple[str, ...]
    weak: tuple[str, ...]
    numbers: frozenset[str]

    @property
    def text(self) -> str:
        """The strong tokens, sorted and joined: what similarity is computed on."""
        return " ".join(sorted(self.strong))


class Analyser:
    """Turns names into `NameKey`s under one set of settings (results cached per name)."""

    def __init__(self, settings: MatchSettings) -> None:
        self.settings = settings
        phrases = sorted(settings.legal_form_phrases, key=len, reverse=True)
        self._phrases = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b")
        self._abbreviations = settings.abbreviations
        self._weak = frozenset(self._canonical(t) for t in settings.weak_tokens)
        self._cache: dict[str, NameKey] = {}

    def _canonical(self, token: str) -> str:
        return self._abbreviations.get(token, token)

    def analyse(self, name: str) -> NameKey:
        """Transliterate, lower-case, split, join initials, expand abbreviations, and
        separate legal forms and filler (weak) from the distinctive (strong) tokens."""
        found = self._cache.get(name)
        if found is not None:
            return found
        text = ascii_text(name).casefold()
        weak: list[str] = []
        if self._phrases.search(text):
            weak.extend(p.replace(" ", "") for p in self._phrases.findall(text))
            text = self._phrases.sub(" ", text)
        tokens = _join_initials(_TOKEN.findall(text))
        strong: list[str] = []
        for raw in tokens:
            token = self._canonical(raw)
            (weak if token in self._weak else strong).append(token)
        key = NameKey(
            original=name,
            strong=tuple(strong),
            weak=tuple(weak),
            numbers=frozenset(t for t in strong if t.isdigit()),
        )
        self._cache[name] = key
        return key


def _join_initials(tokens: list[str]) -> list[str]:
    """Join runs of single letters: "j p morgan" -> "jp morgan", "s a" -> "sa"."""
    out: list[str] = []
    run: list[str] = []
    for token in tokens:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(token)
    if run:
        out.append("".join(run))
    return out


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


@dataclass(frozen=True, slots=True)
class _Variant:
    entry_index: int
    key: NameKey


@dataclass
class Matcher:
    """An index over one list edition; with `index_folder`, the index is read from there when
    it was built before (`screening.index`), else built and kept there."""

    edition: ListEdition
    settings: MatchSettings = field(default_factory=default_settings)
    index_folder: Path | None = None

    def __post_init__(self) -> None:
        self.analyser = Analyser(self.settings)
        built = None
        if self.index_folder is not None:
            key = index.index_key(self.edition, self._shaping())
            built = index.load(self.index_folder, key)
            if built is None:
                built = self._build()
                index.save(self.index_folder, key, built)
        # Kept as read: a variant's key is made when a query first reaches it, and a term's
        # weight when a query uses it, so loading the index is a read and little more.
        self._raw, self._postings = built if built is not None else self._build()
        self._keys: dict[int, _Variant] = {}
        self._total = max(len(self._raw), 1)

    def variant(self, variant_id: int) -> _Variant:
        """One listed name (a variant) with its entry's index and its key."""
        found = self._keys.get(variant_id)
        if found is None:
            entry, original, strong, weak, numbers = self._raw[variant_id]
            key = NameKey(original, strong, weak, frozenset(numbers))
            found = self._keys[variant_id] = _Variant(entry, key)
        return found

    def _shaping(self) -> dict[str, object]:
        """The settings the index depends on (thresholds and weights only score)."""
        return self.settings.model_dump(mode="json", exclude={"thresholds", "weights", "lists"})

    def _build(self) -> index.Built:
        """Every listed name's key and the variant ids of each term (the slow part)."""
        variants: list[index.Variant] = []
        postings: dict[str, list[int]] = defaultdict(list)
        candidates = self.settings.candidates
        for number, entry in enumerate(self.edition.entries):
            for name in dict.fromkeys(entry.names):
                key = self.analyser.analyse(name)
                if not key.strong:
                    continue
                for term in _terms(
                    key, candidates.min_phonetic_length, candidates.min_deletion_length
                ):
                    postings[term].append(len(variants))
                variants.append(
                    (number, key.original, key.strong, key.weak, tuple(sorted(key.numbers)))
                )
        return variants, {term: tuple(ids) for term, ids in postings.items()}

    def candidates(self, query: NameKey) -> list[int]:
        """Variant ids sharing a strong token or phonetic key, best shared weight first."""
        weights: dict[int, float] = defaultdict(float)
        settings = self.settings.candidates
        for term in _terms(query, settings.min_phonetic_length, settings.min_deletion_length):
            ids = self._postings.get(term)
            if ids is None:
                continue
            weight = math.log(1 + self._total / len(ids))  # the term's inverse frequency
            for variant_id in ids:
                weights[variant_id] += weight
        ranked = sorted(weights, key=lambda v: -weights[v])
        return ranked[: self.settings.candidates.max_per_query]

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
        best: dict[int, Hit] = {}
        for variant_id in self.candidates(query):
            variant = self.variant(variant_id)
            entry = self.edition.entries[variant.entry_index]
            score, features = self.score(query, variant.key, entry, country)
            if score < thresholds.potential:
                continue
            status = "match" if score >= thresholds.match else "potential"
            previous = best.get(variant.entry_index)
            if previous is None or score > previous.score:
                best[variant.entry_index] = Hit(
                    entry, variant.key.original, score, status, features
                )
        severity = self.settings.severity
        return sorted(
            best.values(),
            key=lambda hit: (-hit.score, severity(hit.entry.list_code), hit.entry.entry_id),
        )[:limit]


def _terms(key: NameKey, min_phonetic_length: int, min_deletion_length: int) -> set[str]:
    """Index terms of a name: its strong tokens, their phonetic keys (`~`), and for long
    tokens each one-letter deletion (`-`), so one typo still shares a term."""
    terms = set(key.strong)
    for token in key.strong:
        if token.isdigit():
            continue
        if len(token) >= min_phonetic_length:
            terms.add("~" + metaphone(token))
        if len(token) >= min_deletion_length:
            terms.update("-" + token[:i] + token[i + 1 :] for i in range(len(token)))
            terms.add("-" + token)
    return terms


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
