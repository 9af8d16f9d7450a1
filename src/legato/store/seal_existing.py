"""Sealing what was stored before encryption at rest was on: `legato keys seal`.

Switching encryption on (or from `sensitive` to `all`) seals what is written from then on;
the rows written before stay plaintext until they are rewritten the way the writer would
write them now. This walks every instance in id order and, in one transaction per batch,
rewrites each of its rows that holds fewer sealed values than the writer would seal today
(its variables and state, history, jobs, user tasks, incidents), then the task drafts and
decision evaluations, which are sealed whole. A rewritten row is sealed entirely with the
primary key, so this also rotates what it touches.

Like rotation (key_rotation.py) it is safe beside live servers and resumable: a row is
written only if it still holds what was read (`... WHERE pk = :pk AND column = :old`), a
row a server changed meanwhile was written by that server under the current policy, and a
stopped run is finished by running it again, as what is done stays done.

What a sensitive variable held earlier and no longer holds is found in old history rows
only where its name shows (an event that names the variable); the current values are found
wherever they are quoted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.model.sensitive import SensitiveNames
from legato.store.database import Database
from legato.store.key_rotation import DEFAULT_BATCH
from legato.store.sealing import KEYLESS, Sealer, Sealing

Kind = Literal["document", "text"]
NamesOf = Callable[[int], SensitiveNames]  # a definition id: its sensitive names (Store.sensitive_names)

_INSTANCE_ROWS: Final[tuple[tuple[str, tuple[str, ...], str, Kind], ...]] = (
    ("history", ("instance_id", "seq"), "data", "document"),
    ("jobs", ("id",), "payload", "document"),
    ("jobs", ("id",), "last_error", "text"),
    ("user_tasks", ("id",), "payload", "document"),
    ("incidents", ("id",), "message", "text"),
    ("incidents", ("id",), "details", "text"),
)
"""The rows of an instance outside `instances` that the writer seals, and how (writer.py)."""

_WHOLE: Final = (("user_tasks", "draft"), ("decision_evaluations", "result"))
"""Columns sealed whole whenever encryption is on (task_actions.py, decisions.py)."""


@dataclass(kw_only=True, slots=True)
class Sealed:
    """What a run did."""

    instances: int = 0  # instances looked at
    rows: int = 0  # rows rewritten
    values: int = 0  # sealed values added
    raced: int = 0  # rows a server changed between read and write (it sealed them itself)

    def public(self) -> dict[str, int]:
        return {"instances": self.instances, "rows": self.rows, "values": self.values, "raced": self.raced}


def seal_existing(
    database: Database,
    sealer: Sealer,
    names_of: NamesOf,
    *,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> Sealed:
    """Seal every stored value the current policy seals and that is still plaintext."""
    if sealer.keyring is None:
        raise ValueError("sealing needs a keyring")
    result = Sealed()
    after = ""
    while True:
        with database.write() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, definition_id, variables, state FROM instances "
                    "WHERE id > :after ORDER BY id LIMIT :limit"
                ),
                {"after": after, "limit": batch},
            ).all()
            for row in rows:
                _seal_instance(conn, sealer, names_of, row, result)
        result.instances += len(rows)
        if progress is not None and rows:
            progress("instances", len(rows))
        if len(rows) < batch:
            break
        after = rows[-1].id
    for table, column in _WHOLE:
        _seal_whole(database, sealer, table, column, batch, result, progress)
    return result


def _seal_instance(conn: Connection, sealer: Sealer, names_of: NamesOf, row: Any, result: Sealed) -> None:
    variables = sealer.loads(row.variables) or {}
    sealing = sealer.for_instance(names_of(row.definition_id), variables)
    state = sealer.loads(row.state)
    changes: dict[str, str] = {}
    wanted_variables = sealing.variables(variables)
    if _count(wanted_variables) > _count(orjson.loads(row.variables)):
        changes["variables"] = orjson.dumps(wanted_variables).decode()
    if isinstance(state, dict):
        wanted_state = sealing.state(state)
        if _count(wanted_state) > _count(orjson.loads(row.state)):
            changes["state"] = orjson.dumps(wanted_state).decode()
    if changes:
        guard = " AND ".join(f"{name} = :old_{name}" for name in changes)
        updated = conn.execute(
            text(f"UPDATE instances SET {', '.join(f'{n} = :{n}' for n in changes)} WHERE id = :id AND {guard}"),
            {"id": row.id, **changes, **{f"old_{n}": getattr(row, n) for n in changes}},
        ).rowcount
        _counted(result, updated, sum(_count(orjson.loads(v)) for v in changes.values()))
    for table, keys, column, kind in _INSTANCE_ROWS:
        stored_rows = conn.execute(
            text(f"SELECT {', '.join(keys)}, {column} AS value FROM {table} WHERE instance_id = :id"),
            {"id": row.id},
        ).all()
        for stored in stored_rows:
            if stored.value is None:
                continue
            wanted = _wanted(sealer, sealing, kind, stored.value)
            added = _tokens(wanted, kind) - _tokens(stored.value, kind)
            if added <= 0:
                continue
            match = " AND ".join(f"{k} = :pk_{k}" for k in keys)
            updated = conn.execute(
                text(f"UPDATE {table} SET {column} = :new WHERE {match} AND {column} = :old"),
                {"new": wanted, "old": stored.value, **{f"pk_{k}": getattr(stored, k) for k in keys}},
            ).rowcount
            _counted(result, updated, added)


def _seal_whole(
    database: Database,
    sealer: Sealer,
    table: str,
    column: str,
    batch: int,
    result: Sealed,
    progress: Callable[[str, int], None] | None,
) -> None:
    after: Any = None
    key = "id"
    while True:
        where = f"{column} IS NOT NULL AND {column} NOT LIKE :marker"
        if after is not None:
            where += f" AND {key} > :after"
        with database.write() as conn:
            rows = conn.execute(
                text(f"SELECT {key}, {column} AS value FROM {table} WHERE {where} ORDER BY {key} LIMIT :limit"),
                {"marker": '%"$sealed"%', "after": after, "limit": batch},
            ).all()
            for stored in rows:
                wanted = sealer.seal_document(orjson.loads(stored.value))
                updated = conn.execute(
                    text(f"UPDATE {table} SET {column} = :new WHERE {key} = :pk AND {column} = :old"),
                    {"new": wanted, "old": stored.value, "pk": getattr(stored, key)},
                ).rowcount
                _counted(result, updated, 1)
        if progress is not None and rows:
            progress(f"{table}.{column}", len(rows))
        if len(rows) < batch:
            return
        after = getattr(rows[-1], key)


def _wanted(sealer: Sealer, sealing: Sealing, kind: Kind, stored: str) -> str:
    """The value as the writer would store it now, from its plaintext."""
    if kind == "text":
        opened = sealer.open_tree(stored)
        return sealing.text(opened) or stored
    return sealing.document(sealer.loads(stored))


def _tokens(value: str, kind: Kind) -> int:
    if kind == "text":
        return _count(value)
    try:
        return _count(orjson.loads(value))
    except orjson.JSONDecodeError:
        return 0


def _count(value: Any) -> int:
    return sum(1 for _ in KEYLESS.tokens(value))  # counting tokens needs no key


def _counted(result: Sealed, updated: int, values: int) -> None:
    if updated == 1:
        result.rows += 1
        result.values += values
    else:
        result.raced += 1


__all__ = ["Sealed", "seal_existing"]
