"""The ledger: committed shipments, allowance usage and the audit trail, in a real database
(SQLite file by default, PostgreSQL by URL), with Alembic migrations."""
