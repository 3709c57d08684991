"""The Python examples in docs/api.md run as written: the API documentation cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERGATE_HOME", str(tmp_path))
    blocks = BLOCK.findall(API.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"docs/api.md example {number}", "exec")
        exec(code, namespace)
