"""Text files as people's programs save them, read the same way by every reader.

UTF-8 with or without a byte-order mark; UTF-16 and UTF-32 with one (what spreadsheet programs
save as "Unicode text"). Text that is not UTF-8 and has no mark is refused with a message that
says how to save it; so is UTF-16 without a mark, which is recognised by its zero bytes. JSON
nested deeper than Python can parse is refused, not an internal error.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

# Longest marks first: the UTF-32 little-endian mark begins with the UTF-16 one.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SAVE_AS = "save it as UTF-8 (in a spreadsheet program: CSV UTF-8)"


class TextProblem(ValueError):
    """The bytes are not text tiergate can read; the message says why and what to do."""


def decode_text(raw: bytes) -> str:
    """The text of a file's bytes (see the module docstring for the encodings read)."""
    encoding = next((name for mark, name in _MARKS if raw.startswith(mark)), "utf-8")
    # ASCII written as UTF-16 is valid UTF-8 full of zero bytes: never read it as such.
    if encoding == "utf-8" and _looks_like_utf16(raw):
        raise TextProblem(f"the text looks like UTF-16 without a byte-order mark: {_SAVE_AS}")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TextProblem(
            f"the text is not {encoding.upper().replace('-SIG', '')} (byte {exc.start} cannot "
            f"be read): {_SAVE_AS}"
        ) from exc


def _looks_like_utf16(raw: bytes) -> bool:
    """Most even or most odd bytes are zero: ASCII text written as UTF-16."""
    sample = raw[:2000]
    if len(sample) < 4:
        return False
    half = len(sample) // 2
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    return max(even, odd) > half * 0.6


def load_json(text: str, **options: Any) -> Any:
    """`json.loads(text, **options)`; a document nested too deep to parse is a `ValueError`
    (`json.JSONDecodeError` already is one)."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise TextProblem(
            "the JSON is nested too deeply to read (thousands of levels); no book or list "
            "tiergate reads nests that deep"
        ) from None
