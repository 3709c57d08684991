"""The HTTP service's keys: made, listed and revoked in the ledger (audited), for `tiergate
keys` and for the service's admins alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiergate.errors import UsageError
from tiergate.keys import Role

if TYPE_CHECKING:
    from tiergate.workflow import Workspace


def create_key(workspace: Workspace, name: str, role: str, actor: str) -> str:
    """Make an API key named `name` with `role` (audited); returns the key, kept nowhere."""
    try:
        found = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise UsageError(f"role `{role}` is not one of {roles}") from None
    return workspace.ledger(required=True).create_key(name, found, actor)


def api_keys(workspace: Workspace) -> list[dict[str, Any]]:
    """Every API key (never the key itself): name, role, made by and when, revocation."""
    return [
        {
            "name": key.name,
            "role": key.role.value,
            "created_at": key.created_at,
            "created_by": key.created_by,
            "revoked_at": key.revoked_at,
            "revoked_by": key.revoked_by,
        }
        for key in workspace.ledger(required=True).api_keys()
    ]


def revoke_key(workspace: Workspace, name: str, actor: str) -> None:
    """Revoke the API key named `name` (audited)."""
    workspace.ledger(required=True).revoke_key(name, actor)
