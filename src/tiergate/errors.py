"""Exceptions raised by tiergate, each carrying the CLI exit code it maps to.

Exit codes (also in the README): 0 every line may ship, 3 some line may not ship as is,
2 unusable input or usage, 1 internal error.
"""

from __future__ import annotations


class TiergateError(Exception):
    """Base class: an error a person can act on; `exit_code` is what the CLI returns."""

    exit_code = 1


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
