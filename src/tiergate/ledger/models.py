"""Ledger tables (SQLAlchemy 2). Changing them needs a migration in `migrations/versions/`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

# Explicit constraint names, so migrations name the same things on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@dataclass(frozen=True, slots=True)
class Written:
    """A JSON column's value given as the text to store (a big commit's contents, an audit
    entry's payload as its hash was taken over), not as a value to write."""

    text: str


class Json(TypeDecorator[Any]):
    """JSON, which also takes a value `Written` already: its text is stored as it is."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        written = self.impl_instance.dialect_impl(dialect).bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, Written):
                return value.text
            return value if written is None else written(value)

        return process


class Exact(TypeDecorator[Decimal]):
    """An exact decimal with `places` decimal places: NUMERIC on PostgreSQL, decimal text on
    SQLite (whose NUMERIC keeps floating-point numbers). Takes `Decimal`s, never floats: the
    caller says how a float becomes exact (`ledger.amounts.exact`)."""

    impl = String(40)
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(30, self.places, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"an exact column takes a Decimal, not {type(value).__name__}")
        exact = value.quantize(Decimal(1).scaleb(-self.places))
        return exact if dialect.name == "postgresql" else str(exact)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class CommittedLine(Base):
    """A shipment line recorded as shipped; (shipment_id, line_id) is unique: idempotency."""

    __tablename__ = "committed_lines"
    __table_args__ = (UniqueConstraint("shipment_id", "line_id", name="uq_committed_lines_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(String(200))
    line_id: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[str] = mapped_column(String(10))
    destination: Mapped[str | None] = mapped_column(String(2))
    eccn: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int | None] = mapped_column(Integer)
    total_tpp: Mapped[Decimal | None] = mapped_column(Exact(2))
    outcome: Mapped[str] = mapped_column(String(20))
    exception: Mapped[str | None] = mapped_column(String(20))
    input_hash: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # [[allowance_id, holder, period, tpp], ...]: what this line took from its allowances
    # (tpp as decimal text since 0007, a JSON number before).
    debits: Mapped[list[Any]] = mapped_column(Json)
    # Every column of the line as given (`model.line_content`): a re-commit of the same ids
    # is the same line only with the same content. None for lines committed before 0005.
    content: Mapped[dict[str, str] | None] = mapped_column(Json, nullable=True)


class AllowanceUsage(Base):
    """TPP used per allowance, holder (consignee or country) and period (year or range)."""

    __tablename__ = "allowance_usage"
    __table_args__ = (
        UniqueConstraint("allowance_id", "holder", "period", name="uq_allowance_usage_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    allowance_id: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(400))
    period: Mapped[str] = mapped_column(String(40))
    used_tpp: Mapped[Decimal] = mapped_column(Exact(2))


class AuditEntry(Base):
    """Append-only audit trail; each entry's hash covers its content and the previous hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    input_hash: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[str] = mapped_column(String(100))
    list_edition: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(Text)


class AuditHead(Base):
    """The audit trail's head, one row written with every entry: the number of entries and
    the newest one's id and hash. `audit verify` checks the trail ends where the head says."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class Licence(Base):
    """A licence the company holds (issued by BIS): what, where, how much, until when."""

    __tablename__ = "licences"
    __table_args__ = (UniqueConstraint("number", name="uq_licences_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(400))
    items: Mapped[list[Any]] = mapped_column(JSON)
    destinations: Mapped[list[Any]] = mapped_column(JSON)
    parties: Mapped[list[Any]] = mapped_column(JSON)
    authorized_quantity: Mapped[int] = mapped_column(Integer)
    authorized_value: Mapped[Decimal | None] = mapped_column(Exact(2))  # US dollars
    valid_from: Mapped[str] = mapped_column(String(10))
    valid_to: Mapped[str] = mapped_column(String(10))
    conditions: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # active or revoked


class LicenceUse(Base):
    """Quantity a line took from a licence: reserved by a check, used when the line is
    committed, released when it is cancelled."""

    __tablename__ = "licence_uses"
    __table_args__ = (
        UniqueConstraint("licence_number", "shipment_id", "line_id", name="uq_licence_uses_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    licence_number: Mapped[str] = mapped_column(String(100))
    shipment_id: Mapped[str] = mapped_column(String(200))
    line_id: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), server_default="used")  # reserved/used/released
    value: Mapped[Decimal | None] = mapped_column(Exact(2))  # US dollars, when the line gave it


class Hold(Base):
    """A held line waiting for, or carrying, a person's decision. `signature` names the rules
    that held it: a decision covers the line only while the same rules hold it."""

    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("shipment_id", "line_id", "signature", name="uq_holds_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(String(200))
    line_id: Mapped[str] = mapped_column(String(200))
    signature: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # open, released, rejected
    created_at: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class SuppressionRow(Base):
    """A reviewed false positive (see `screening.suppressions`): active until the list
    changes the entry, then lapsed. Each suppression and each lapse is an audit entry."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party: Mapped[str] = mapped_column(Text)
    party_key: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    entry_id: Mapped[str] = mapped_column(String(100))
    entry_fingerprint: Mapped[str] = mapped_column(String(64))
    list_edition: Mapped[str] = mapped_column(String(100))
    by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # active or lapsed
    lapsed_at: Mapped[str | None] = mapped_column(String(40))


class ApiKeyRow(Base):
    """An API key of the HTTP service: its name, its role and the SHA-256 of the key (the
    key itself is shown once, when it is made, and never stored)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[str | None] = mapped_column(String(40))
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class WebSessionRow(Base):
    """A browser signed in to the web pages: the SHA-256 of its cookie's token, the key it
    signed in with, the token its forms send back, and when the session ends."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_name: Mapped[str] = mapped_column(String(200))
    form_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[str] = mapped_column(String(40))


# The tables read and written in bulk, as Core tables.
COMMITTED = Base.metadata.tables["committed_lines"]
USAGE = Base.metadata.tables["allowance_usage"]
USES = Base.metadata.tables["licence_uses"]
HOLDS = Base.metadata.tables["holds"]
