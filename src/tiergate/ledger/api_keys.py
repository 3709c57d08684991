"""API keys of the HTTP service as the ledger keeps them: a name, a role and the SHA-256 of
the key. The key is made here, shown once to whoever made it, and never stored; making and
revoking one are audit entries (naming the key, never holding it). A browser signs in to the
web pages with a key and gets a session (`WebSession`): a token in a cookie, of which the
ledger keeps the SHA-256; the session ends at its time, when the browser signs out, or when
its key is revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import RowMapping, delete, insert, select, update

from tiergate.errors import UsageError
from tiergate.keys import Role
from tiergate.ledger.audit import append_event
from tiergate.ledger.models import ApiKeyRow, WebSessionRow
from tiergate.ledger.store import NotRecorded, RecordConflict, Store

# What every key starts with, so that one found in a log or a file is known for what it is.
PREFIX = "tg_"
# The longest name a key may have (the column's length).
MAX_KEY_NAME = 200


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as listed: its name, role, who made it and when, and its revocation."""

    name: str
    role: Role
    created_at: str
    created_by: str
    revoked_at: str | None
    revoked_by: str | None


@dataclass(frozen=True, slots=True)
class WebSession:
    """A browser signed in: the key it signed in with, and the token its forms send back."""

    key: ApiKey
    form_token: str


def key_hash(key: str) -> str:
    """The SHA-256 of a key, as the ledger stores it. A key holds 256 random bits, so a
    plain hash is as safe to keep as a slow one and is fast to look up."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys(Store):
    """Making, listing, finding and revoking API keys."""

    def create_key(self, name: str, role: Role, actor: str) -> str:
        """Make a key named `name` (unique, kept after revocation) with `role`, audited;
        returns the key, which is not kept anywhere."""
        name = name.strip()
        if not name or len(name) > MAX_KEY_NAME:
            raise UsageError(f"a key's name must be 1 to {MAX_KEY_NAME} characters, not `{name}`")
        self.require_current()
        key = PREFIX + secrets.token_urlsafe(32)
        now = _now()
        with self._writing() as connection:
            self._serialise(connection)
            taken = connection.execute(select(ApiKeyRow.id).where(ApiKeyRow.name == name))
            if taken.first() is not None:
                raise RecordConflict(f"a key named `{name}` exists already: choose another name")
            connection.execute(
                insert(ApiKeyRow).values(
                    name=name,
                    role=role.value,
                    key_hash=key_hash(key),
                    created_at=now,
                    created_by=actor,
                )
            )
            append_event(connection, actor, "key.create", {"name": name, "role": role.value})
        return key

    def api_keys(self) -> list[ApiKey]:
        """Every key, in the order they were made, revoked ones included."""
        self.require_current()
        with self.engine.connect() as connection:
            rows = connection.execute(select(*_LISTED).order_by(ApiKeyRow.id))
            return [_listed(row) for row in rows.mappings()]

    def key_named_by(self, key: str) -> ApiKey | None:
        """The key `key` is, when it is one and not revoked; None otherwise."""
        self.require_current()
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(*_LISTED).where(
                        ApiKeyRow.key_hash == key_hash(key), ApiKeyRow.revoked_at.is_(None)
                    )
                )
                .mappings()
                .first()
            )
            return None if row is None else _listed(row)

    def open_session(self, key: str, hours: float) -> tuple[str, WebSession] | None:
        """Sign a browser in with `key` for `hours` (audited under the key's name): the
        cookie's token, kept nowhere, and the session; None when `key` is not a key that is
        not revoked. Sessions past their end are forgotten meanwhile."""
        found = self.key_named_by(key)
        if found is None:
            return None
        token, form_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        ends = _stamp(now + timedelta(hours=hours))
        with self._writing() as connection:
            self._serialise(connection)
            connection.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= _stamp(now)))
            connection.execute(
                insert(WebSessionRow).values(
                    token_hash=key_hash(token),
                    key_name=found.name,
                    form_token=form_token,
                    created_at=_stamp(now),
                    expires_at=ends,
                )
            )
            append_event(connection, found.name, "session.open", {"expires_at": ends})
        return token, WebSession(found, form_token)

    def session_named_by(self, token: str) -> WebSession | None:
        """The session `token` opened, while it lasts and its key is not revoked."""
        self.require_current()
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(*_LISTED, WebSessionRow.form_token)
                    .join(ApiKeyRow, ApiKeyRow.name == WebSessionRow.key_name)
                    .where(
                        WebSessionRow.token_hash == key_hash(token),
                        WebSessionRow.expires_at > _now(),
                        ApiKeyRow.revoked_at.is_(None),
                    )
                )
                .mappings()
                .first()
            )
            return None if row is None else WebSession(_listed(row), row["form_token"])

    def close_session(self, token: str) -> None:
        """Sign the browser holding `token` out (audited, when it was signed in)."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            row = connection.execute(
                select(WebSessionRow.id, WebSessionRow.key_name).where(
                    WebSessionRow.token_hash == key_hash(token)
                )
            ).first()
            if row is not None:
                connection.execute(delete(WebSessionRow).where(WebSessionRow.id == row.id))
                append_event(connection, row.key_name, "session.close", {})

    def revoke_key(self, name: str, actor: str) -> None:
        """Revoke the key named `name` (audited): it opens nothing from then on."""
        self.require_current()
        with self._writing() as connection:
            self._serialise(connection)
            changed = connection.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=_now(), revoked_by=actor)
            ).rowcount
            if not changed:
                raise NotRecorded(f"no key named `{name}` that is not revoked already")
            append_event(connection, actor, "key.revoke", {"name": name})


# A key's columns as listed (never its hash).
_LISTED = (
    ApiKeyRow.name,
    ApiKeyRow.role,
    ApiKeyRow.created_at,
    ApiKeyRow.created_by,
    ApiKeyRow.revoked_at,
    ApiKeyRow.revoked_by,
)


def _listed(row: RowMapping) -> ApiKey:
    return ApiKey(
        row["name"],
        Role(row["role"]),
        row["created_at"],
        row["created_by"],
        row["revoked_at"],
        row["revoked_by"],
    )


def _now() -> str:
    return _stamp(datetime.now(UTC))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
