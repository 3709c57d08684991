"""Exceptions raised by tiergate, each carrying the CLI exit code it maps to.

Exit codes (also in the README): 0 every line may ship, 3 some line may not ship as is,
2 unusable input or usage, 1 internal error.
"""

from __future__ import annotations

from collections.abc import Callable

# Marks an option's name in a message (`option`): each door writes the name its own way.
_MARK = "\x1f"


def option(name: str) -> str:
    """The option `name` (as the library and the HTTP service name it: `valid_to`) in an
    error's message; the message names it `--valid-to` on the command line (`str`) and
    `valid_to` over HTTP (`TiergateError.for_http`)."""
    return f"{_MARK}{name}{_MARK}"


class TiergateError(Exception):
    """Base class: an error a person can act on; `exit_code` is what the CLI returns. Its
    message names options as the command line does; `for_http` as the HTTP service does."""

    exit_code = 1

    def __str__(self) -> str:
        return _named(super().__str__(), lambda name: "--" + name.replace("_", "-"))

    def for_http(self) -> str:
        """The message, each option named as a request names it (`valid_to`)."""
        return _named(super().__str__(), lambda name: f"`{name}`")


def _named(message: str, name: Callable[[str], str]) -> str:
    if _MARK not in message:
        return message
    parts = message.split(_MARK)
    return "".join(name(part) if i % 2 else part for i, part in enumerate(parts))


class InputError(TiergateError):
    """The input as a whole cannot be used (unreadable file, wrong format, empty book)."""

    exit_code = 2


class UsageError(TiergateError):
    """A command-line or API argument is invalid (bad date, unknown view, unknown item class)."""

    exit_code = 2


class RulebookError(TiergateError):
    """A rulebook file is malformed; the message names the file and the path inside it."""

    exit_code = 1


class OverlayError(RulebookError):
    """A rulebook overlay a person gave is malformed or makes an invalid rulebook: their
    input, not a fault in tiergate's own rulebook."""

    exit_code = 2
