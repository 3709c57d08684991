"""Write the generated reference documents: docs/cli.md, docs/rulebook.schema.json and
docs/overlay.schema.json.

Run after changing the CLI or the rulebook models: python scripts/generate_docs.py
"""

from __future__ import annotations

from pathlib import Path

from tiergate.reference import cli_reference, overlay_schema, rulebook_schema

DOCS = Path(__file__).resolve().parents[1] / "docs"

if __name__ == "__main__":
    (DOCS / "cli.md").write_text(cli_reference(), encoding="utf-8")
    (DOCS / "rulebook.schema.json").write_text(rulebook_schema(), encoding="utf-8")
    (DOCS / "overlay.schema.json").write_text(overlay_schema(), encoding="utf-8")
    print(f"wrote docs/cli.md, docs/rulebook.schema.json and docs/overlay.schema.json in {DOCS}")
