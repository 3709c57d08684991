"""The application `tiergate serve` runs, made from the environment's settings when
imported: each of uvicorn's worker processes imports it and has a workspace of its own."""

from __future__ import annotations

from tiergate.service.app import create_app
from tiergate.workflow import Workspace

app = create_app(Workspace())
