"""One rulebook file parsed with its model, and the bundled files parsed once per process:
the screener reads country names with `countries.yaml` alone, without the other models."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from tiergate.errors import RulebookError
from tiergate.rulebook.base import Strict
from tiergate.rulebook_files import SAFE_LOADER

M = TypeVar("M", bound=Strict)


def parse(model: type[M], text: str, source: str) -> M:
    """`text` parsed with `model`; errors name `source` and the path inside it."""
    try:
        raw: Any = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise RulebookError(f"rulebook file `{source}` is not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RulebookError(describe(exc, f"rulebook file `{source}`")) from exc


def describe(error: ValidationError, what: str) -> str:
    """A validation error of `what` (e.g. "rulebook file `rules.yaml`"), one line a path."""
    lines = [f"{what} is invalid:"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  at `{where}`: {item['msg']}")
    return "\n".join(lines)


def bundled_text(name: str) -> str:
    """The text of the bundled rulebook file `name`."""
    return resources.files("tiergate.data").joinpath(name).read_text(encoding="utf-8")


@cache
def bundled(model: type[M], name: str) -> M:
    """The bundled rulebook file `name`, parsed with `model` once per process."""
    return parse(model, bundled_text(name), f"tiergate/data/{name}")
