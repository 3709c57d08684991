"""Logging and progress for the command line, both on stderr so stdout stays the data.

`--verbose` (-v: info, -vv: debug), given before the command, sets how much tiergate logs;
`--log-format json` writes one JSON object per line, for log collectors. A progress bar shows
long work only when stderr is a terminal: piped or captured, stderr gets nothing but logs and
errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

    from tiergate.progress import Progress

T = TypeVar("T")
LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(verbosity: int, log_format: str, stream: TextIO) -> None:
    """Send tiergate's log to `stream` at the level `verbosity` asks (0: warnings, 1: info,
    2 or more: debug), replacing what an earlier command in this process set."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tiergate")
    logger.handlers = [handler]
    logger.setLevel(LEVELS[min(verbosity, len(LEVELS) - 1)])
    logger.propagate = False


class TerminalProgress:
    """Progress drawn with rich on a terminal, erased when the work is done."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        from rich.progress import track

        yield from track(items, description=description, console=self.console, transient=True)

    def working(self, description: str) -> AbstractContextManager[object]:
        return self.console.status(description)


def progress_for(stream: TextIO) -> Progress:
    """Progress on `stream` when it is a terminal; silent otherwise."""
    from tiergate.progress import Silent

    if not stream.isatty():
        return Silent()
    from rich.console import Console

    return TerminalProgress(Console(file=stream))
