"""Write the generated reference documents: docs/cli.md and docs/rulebook.schema.json.

Run after changing the CLI or the rulebook models: python scripts/generate_docs.py
"""

from __future__ import annotations

from pathlib import Path

from tiergate.reference import cli_reference, rulebook_schema

DOCS = Path(__file__).resolve().parents[1] / "docs"

if __name__ == "__main__":
    (DOCS / "cli.md").write_text(cli_reference(), encoding="utf-8")
    (DOCS / "rulebook.schema.json").write_text(rulebook_schema(), encoding="utf-8")
    print(f"wrote {DOCS / 'cli.md'} and {DOCS / 'rulebook.schema.json'}")
