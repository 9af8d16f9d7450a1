"""Where a workload runs: a fresh SQLite file, or a fresh PostgreSQL schema, made and removed.

Every workload gets an empty database of its own, so each size figure is that workload's
alone and no run sees another's rows. On PostgreSQL the schema is chosen through the
connection's `search_path` (libpq `options`), so Legato's own migrations create their
tables there without knowing; the schema is dropped afterwards, whatever happened.

Sizes: SQLite's is the logical size of the file (pages x page size, WAL included);
PostgreSQL's is the total size of the schema's tables with their indexes and TOAST, not
`pg_database_size`, which would count whatever else lives in the database.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, kw_only=True, slots=True)
class Backend:
    name: str  # "sqlite" | "postgres"
    postgres_url: str = DEFAULT_POSTGRES_URL

    def unavailable(self) -> str | None:
        """Why this backend cannot run here, or None when it can."""
        if self.name == "sqlite":
            return None
        try:
            with psycopg.connect(_libpq(self.postgres_url), connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            return f"PostgreSQL at {self.postgres_url} is unreachable: {reason}"
        return None

    def version(self) -> str:
        if self.name == "sqlite":
            return sqlite3.sqlite_version
        with psycopg.connect(_libpq(self.postgres_url), connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[str]:
        """Yield the URL of an empty database for one run, and remove it afterwards."""
        if self.name == "sqlite":
            directory = Path(tempfile.mkdtemp(prefix="legato-bench-"))
            try:
                yield str(directory / "bench.db")
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            return
        schema = f"legato_bench_{secrets.token_hex(4)}"
        with psycopg.connect(_libpq(self.postgres_url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in self.postgres_url else "?"
            yield f"{self.postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
        finally:
            with psycopg.connect(_libpq(self.postgres_url), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def size_bytes(self, url: str) -> int:
        """The database's size now: see the module docstring for what is counted."""
        if self.name == "sqlite":
            path = url.split("://", 1)[1].lstrip("/") if "://" in url else url
            with contextlib.closing(sqlite3.connect(path)) as conn:
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
                page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            return int(pages) * int(page_size)
        with psycopg.connect(_libpq(url)) as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            ).fetchone()
        return int(row[0]) if row else 0

    def file_bytes(self, url: str) -> int | None:
        """SQLite only: the bytes on disk, main file plus write-ahead log."""
        if self.name != "sqlite":
            return None
        path = Path(url)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _libpq(url: str) -> str:
    """SQLAlchemy-style URLs (`postgresql+psycopg://`) back to what libpq reads."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"
