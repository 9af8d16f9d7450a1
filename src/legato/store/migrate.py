"""Schema migrations through Alembic, run from the package (no alembic.ini needed).

Every process that opens a store calls `upgrade`; it is a cheap check when the schema is
current, and concurrent upgrades from several workers are serialised by the database (an
advisory lock on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from legato.store.database import Database

_SCRIPTS = Path(__file__).parent / "migrations"
_LOCK_ID = 7_301_944_112  # arbitrary, constant: Legato's migration advisory lock


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    if revision == "head" and current(database) == head():
        return
    config = _config()
    with database.write(watched=False) as conn:  # a migration may take longer than a request
        if not database.is_sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_ID})")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
