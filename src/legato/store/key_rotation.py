"""Re-sealing what older keys sealed with the primary key: `legato keys rotate`.

Rotation walks every column that can hold sealed values, in batches of rows in key order,
each batch in a transaction of its own, so it holds no lock for long and a live server
keeps working beside it. A row is rewritten only if its column still holds what was read
(`UPDATE ... WHERE pk = :pk AND column = :old`): a row that a server changed meanwhile is
left as that server wrote it, and the next pass looks at it again. Passes repeat until one
finds nothing under an old key (or `max_passes` is reached), so a rotation that was
stopped (killed, a lost connection) is finished by running it again: it is resumable
because what is done stays done, and what is left is found by looking.

Only keys in the ring can be rotated from; a value under a key the ring lacks is counted
(`unknown`) and left alone, and the old keys must stay in the ring until `remaining` is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from sqlalchemy import text

from legato.store.database import Database
from legato.store.sealing import Sealer

DEFAULT_BATCH: Final = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class Column:
    """A column that can hold sealed values: JSON (a document or values inside it) or text."""

    table: str
    keys: tuple[str, ...]  # the primary key, in the order rows are walked
    name: str
    json: bool


COLUMNS: Final = (
    Column(table="instances", keys=("id",), name="variables", json=True),
    Column(table="instances", keys=("id",), name="state", json=True),
    Column(table="history", keys=("instance_id", "seq"), name="data", json=True),
    Column(table="jobs", keys=("id",), name="payload", json=True),
    Column(table="jobs", keys=("id",), name="last_error", json=False),
    Column(table="user_tasks", keys=("id",), name="payload", json=True),
    Column(table="user_tasks", keys=("id",), name="draft", json=True),
    Column(table="incidents", keys=("id",), name="message", json=False),
    Column(table="incidents", keys=("id",), name="details", json=False),
    Column(table="decision_evaluations", keys=("id",), name="result", json=True),
)
"""Every column the store seals into (store/writer.py, commands.py, decisions.py, task_actions.py)."""


@dataclass(kw_only=True, slots=True)
class Rotation:
    """What a rotation did: values re-sealed, rows a server changed meanwhile, what is left."""

    primary: str
    resealed: int = 0  # values re-sealed with the primary key
    rows: int = 0  # rows rewritten
    raced: int = 0  # rows changed by someone else between read and write (looked at again)
    passes: int = 0
    remaining: int = 0  # values still under an old key of the ring after the last pass
    unknown: dict[str, int] = field(default_factory=dict)  # values under keys the ring lacks, by key id

    @property
    def done(self) -> bool:
        return self.remaining == 0

    def public(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "resealed": self.resealed,
            "rows": self.rows,
            "raced": self.raced,
            "passes": self.passes,
            "remaining": self.remaining,
            "unknown": dict(self.unknown),
            "done": self.done,
        }


def rotate(
    database: Database,
    sealer: Sealer,
    *,
    batch: int = DEFAULT_BATCH,
    max_passes: int = 5,
    progress: Callable[[str, int], None] | None = None,
) -> Rotation:
    """Re-seal every value under a non-primary key of `sealer`'s ring with the primary key."""
    assert sealer.keyring is not None
    primary = sealer.keyring.primary
    old = [kid for kid in sealer.keyring.ids if kid != primary]
    result = Rotation(primary=primary)
    while result.passes < max_passes:
        result.passes += 1
        before = result.resealed
        raced_before = result.raced
        for column in COLUMNS:
            _rotate_column(database, sealer, column, old, batch, result, progress)
        if result.resealed == before and result.raced == raced_before:
            break
    result.remaining, result.unknown = count_old(database, sealer)
    return result


def count_old(database: Database, sealer: Sealer) -> tuple[int, dict[str, int]]:
    """How many values are sealed under an old key of the ring, and under keys it lacks."""
    assert sealer.keyring is not None
    ring = set(sealer.keyring.ids)
    primary = sealer.keyring.primary
    remaining = 0
    unknown: dict[str, int] = {}
    for column in COLUMNS:
        sql = f"SELECT {column.name} FROM {column.table} WHERE {column.name} LIKE :marker"
        with database.read() as conn:
            rows = conn.execute(text(sql), {"marker": "%$sealed%"}).all()
        for (value,) in rows:
            for token in sealer.tokens(_parsed(column, value)):
                kid = sealer.key_of(token)
                if kid == primary:
                    continue
                if kid in ring:
                    remaining += 1
                else:
                    unknown[kid] = unknown.get(kid, 0) + 1
    return remaining, unknown


def _rotate_column(
    database: Database,
    sealer: Sealer,
    column: Column,
    old: list[str],
    batch: int,
    result: Rotation,
    progress: Callable[[str, int], None] | None,
) -> None:
    if not old:
        return
    keys = ", ".join(column.keys)
    marks = [f"{column.name} LIKE :old_{n}" for n in range(len(old))]
    params: dict[str, Any] = {f"old_{n}": f"%1.{kid}.%" for n, kid in enumerate(old)}
    after_clause = (
        f"({keys}) > ({', '.join(f':after_{k}' for k in column.keys)})"
        if len(column.keys) > 1
        else f"{column.keys[0]} > :after_{column.keys[0]}"
    )
    after: dict[str, Any] | None = None
    while True:
        where = f"({' OR '.join(marks)})" + ("" if after is None else f" AND {after_clause}")
        sql = f"SELECT {keys}, {column.name} AS value FROM {column.table} WHERE {where} ORDER BY {keys} LIMIT :limit"
        with database.write() as conn:
            rows = conn.execute(text(sql), {**params, **(after or {}), "limit": batch}).all()
            for row in rows:
                stored = row.value
                parsed = _parsed(column, stored)
                tokens = [t for t in sealer.tokens(parsed) if sealer.key_of(t) in old]
                if not tokens:
                    continue
                new = _stored(column, sealer.reseal(parsed))
                match = " AND ".join(f"{k} = :pk_{k}" for k in column.keys)
                updated = conn.execute(
                    text(f"UPDATE {column.table} SET {column.name} = :new WHERE {match} AND {column.name} = :old"),
                    {"new": new, "old": stored, **{f"pk_{k}": getattr(row, k) for k in column.keys}},
                ).rowcount
                if updated == 1:
                    result.rows += 1
                    result.resealed += len(tokens)
                else:
                    result.raced += 1
        if progress is not None and rows:
            progress(f"{column.table}.{column.name}", len(rows))
        if len(rows) < batch:
            return
        last = rows[-1]
        after = {f"after_{k}": getattr(last, k) for k in column.keys}


def _parsed(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.json:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def _stored(column: Column, value: Any) -> str:
    return orjson.dumps(value).decode() if column.json else str(value)


__all__ = ["COLUMNS", "DEFAULT_BATCH", "Column", "Rotation", "count_old", "rotate"]
