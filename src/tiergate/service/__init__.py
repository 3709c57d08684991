"""tiergate over HTTP (`tiergate serve`): a FastAPI application (`app.create_app`) whose
routes call `tiergate.workflow`, as the CLI's commands do, with API keys and roles
(`tiergate keys`). Errors are JSON problem details (RFC 9457)."""
