"""The change feed: what live screens redraw, read by `id` and pruned by age.

Every step that records anything writes its `changes` rows in its own transaction
(store/writer.py); a reader asks for the rows after the last `id` it saw. Rows carry ids
and names, never variables, so the feed may be shown to anyone who may see the instance.

Pruning walks from the oldest row in batches by primary key: the feed has no index on its
time (an index costs every step a B-tree insert), but ids grow with time, so the oldest
rows are the first ones and a batch is cut where a row is still inside the retention.
The newest row is never pruned: SQLite gives a new row the largest id plus one, so an
emptied table would hand out ids that readers have already seen (AUTOINCREMENT would
prevent that too, at the cost of a write to `sqlite_sequence` in every step).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from legato.store.database import Database

PRUNE_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    at: float
    kind: str
    instance_id: str
    process_key: str | None
    element: str | None
    ref: str | None
    status: str | None
    tenant_id: str | None  # the instance's, so a reader kept to tenants sees only theirs


class Changes:
    def __init__(self, database: Database) -> None:
        self.database = database

    def after(self, last_id: int, *, limit: int = 1000) -> list[Change]:
        """The rows after `last_id`, oldest first (at most `limit`)."""
        with self.database.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.id, c.at, c.kind, c.instance_id, c.process_key, c.element, c.ref, c.status, "
                    "i.tenant_id FROM changes c LEFT JOIN instances i ON i.id = c.instance_id "
                    "WHERE c.id > :last ORDER BY c.id LIMIT :limit"
                ),
                {"last": last_id, "limit": limit},
            ).all()
        return [Change(*row) for row in rows]

    def last_id(self) -> int:
        """The newest row's id (0 for an empty feed): where a new reader starts."""
        with self.database.read() as conn:
            return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM changes")).scalar_one())

    def first_id(self) -> int:
        """The oldest row's id (0 for an empty feed): a reader behind it missed pruned rows."""
        with self.database.read() as conn:
            return int(conn.execute(text("SELECT COALESCE(MIN(id), 0) FROM changes")).scalar_one())

    def prune(self, before: float, *, batch: int = PRUNE_BATCH) -> int:
        """Delete the rows older than `before` (epoch seconds); return how many went.

        One short transaction per batch, so pruning a large backlog never holds the
        writer's lock for long.
        """
        deleted = 0
        with self.database.read() as conn:
            newest = conn.execute(text("SELECT MAX(id) FROM changes")).scalar_one()
        if newest is None:
            return 0
        while True:
            with self.database.write() as conn:
                rows = conn.execute(
                    text("SELECT id, at FROM changes WHERE id < :newest ORDER BY id LIMIT :batch"),
                    {"newest": newest, "batch": batch},
                ).all()
                old = [row.id for row in rows if row.at < before]
                if not old:
                    return deleted
                # ids grow with time: everything up to the last old row of this batch is old,
                # bar the rare row written with an earlier clock, which may go a little early
                cut = old[-1]
                conn.execute(text("DELETE FROM changes WHERE id <= :cut"), {"cut": cut})
                deleted += sum(1 for row in rows if row.id <= cut)
            if len(old) < batch:
                return deleted


__all__ = ["Change", "Changes"]
