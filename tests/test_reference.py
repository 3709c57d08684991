"""Generated documents don't drift: docs/ holds exactly what the code makes."""

from __future__ import annotations

from pathlib import Path

from tiergate.reference import cli_reference, overlay_schema, rulebook_schema

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is stale: run python scripts/generate_docs.py"
    )


def test_rulebook_schema_is_current() -> None:
    assert (DOCS / "rulebook.schema.json").read_text(encoding="utf-8") == rulebook_schema(), (
        "docs/rulebook.schema.json is stale: run python scripts/generate_docs.py"
    )


def test_overlay_schema_is_current() -> None:
    assert (DOCS / "overlay.schema.json").read_text(encoding="utf-8") == overlay_schema(), (
        "docs/overlay.schema.json is stale: run python scripts/generate_docs.py"
    )
