"""Names as the matcher reads them: the matching settings, a name's analysis into strong
and weak tokens, and the index terms a name is found by.

Start-up matters here, since `tiergate screen NAME` analyses one name: transliteration (rigour
over normality, about 0.13 s to import) is imported only for a name that is not ASCII, which
it would leave unchanged, and phonetic keys come from rigour's compiled core alone.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field
from rigour._core import metaphone as _metaphone

from tiergate.rulebook_files import SAFE_LOADER


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
# Names an analyser keeps analysed: more than the CSL's 57,167 names and aliases.
_ANALYSED = 200_000


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
        text = _ascii(name).casefold()
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
        if len(self._cache) >= _ANALYSED:
            self._cache.clear()  # a server screening endless new names stays bounded
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


def terms(key: NameKey, candidates: CandidateSettings) -> set[str]:
    """Index terms of a name: its strong tokens, their phonetic keys (`~`), and for long
    tokens each one-letter deletion (`-`), so one typo still shares a term."""
    found = set(key.strong)
    for token in key.strong:
        if token.isdigit():
            continue
        if len(token) >= candidates.min_phonetic_length:
            found.add("~" + metaphone(token))
        if len(token) >= candidates.min_deletion_length:
            found.update("-" + token[:i] + token[i + 1 :] for i in range(len(token)))
            found.add("-" + token)
    return found


def _ascii(name: str) -> str:
    """`name` in ASCII letters (Cyrillic, Chinese pinyin, Arabic, accents transliterated)."""
    if name.isascii():
        return name
    from rigour.text import ascii_text

    return ascii_text(name)


@lru_cache(maxsize=65536)
def metaphone(token: str) -> str:
    """The phonetic key of a token (rigour's metaphone)."""
    return _metaphone(token)


@cache
def analysis_fingerprint() -> tuple[tuple[str, str], ...]:
    """What identifies the code that analyses names, so an index built by other code is not
    read: this module's file, and the installed rigour and normality (their version, from the
    distribution's folder name; else their file's size and time, which an upgrade changes)."""
    found = {"tiergate": _file_identity(Path(__file__)), "byteorder": sys.byteorder}
    for package in ("rigour", "normality"):
        spec = find_spec(package)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        if origin is None:
            found[package] = "missing"
            continue
        versions = sorted(p.name for p in origin.parent.parent.glob(f"{package}-*.dist-info"))
        found[package] = ",".join(versions) or _file_identity(origin)
    return tuple(sorted(found.items()))


def _file_identity(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"
