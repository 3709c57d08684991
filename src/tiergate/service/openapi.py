"""Print the service's OpenAPI document, as committed in docs/openapi.json:
`python -m tiergate.service.openapi > docs/openapi.json` (a test compares the two)."""

from __future__ import annotations

import json
import sys

from tiergate.service.app import create_app
from tiergate.workflow import Workspace


def document() -> str:
    """The OpenAPI document, as JSON text (indented, keys in the order FastAPI gives)."""
    return json.dumps(create_app(Workspace()).openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(document())
