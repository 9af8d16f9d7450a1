"""Persistence: SQLite (embedded default) and PostgreSQL, one schema, Alembic migrations."""

from legato.store.commands import CommandItem, Outcome, Started, StartRequest
from legato.store.database import Database
from legato.store.definitions import Deployment, StoredDefinition
from legato.store.jobs import ClaimedJob
from legato.store.store import Store
from legato.store.writer import Handoff, wait_key

__all__ = [
    "ClaimedJob",
    "CommandItem",
    "Database",
    "Deployment",
    "Handoff",
    "Outcome",
    "StartRequest",
    "Started",
    "Store",
    "StoredDefinition",
    "wait_key",
]
