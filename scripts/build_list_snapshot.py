"""Build the bundled restricted-party list snapshot from the shared CSL data.

Usage: python scripts/build_list_snapshot.py [SOURCE] [TARGET]
Default SOURCE: ../shared/data/screening/csl_consolidated_screening_list_compact_2026-07-31.json
Default TARGET: src/tiergate/data/lists/csl.json.gz
"""

from __future__ import annotations

import sys
from pathlib import Path

from tiergate.screening.lists import read_csl_compact_json
from tiergate.screening.snapshot import write_snapshot

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (
    ROOT.parent
    / "shared"
    / "data"
    / "screening"
    / "csl_consolidated_screening_list_compact_2026-07-31.json"
)
TARGET = ROOT / "src" / "tiergate" / "data" / "lists" / "csl.json.gz"
PROVENANCE = (
    "US Consolidated Screening List (trade.gov consolidated.json, US government work, public "
    "domain), edition generated 2026-07-31, as compacted in the project's shared reference data "
    "(csl_consolidated_screening_list_compact_2026-07-31.json); converted by "
    "scripts/build_list_snapshot.py"
)

if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    edition = read_csl_compact_json(source)
    write_snapshot(edition, target, PROVENANCE)
    print(f"wrote {target}: {len(edition.entries)} entries, edition {edition.edition_date}")
