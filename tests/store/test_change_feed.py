"""The change feed: rows read after an id, pruned by age in batches, on both databases."""

from __future__ import annotations

from sqlalchemy import text

from legato.store import Database, migrate
from legato.store.changes import Changes


def _feed(database_url: str, ats: list[float]) -> tuple[Database, Changes]:
    database = Database(database_url)
    migrate.upgrade(database)
    with database.write() as conn:
        for n, at in enumerate(ats):
            conn.execute(
                text("INSERT INTO changes (at, kind, instance_id) VALUES (:at, 'instance_advanced', :i)"),
                {"at": at, "i": f"i{n}"},
            )
    return database, Changes(database)


def test_readers_get_the_rows_after_the_last_id_they_saw(database_url: str) -> None:
    database, changes = _feed(database_url, [1.0, 2.0, 3.0])
    first = changes.after(0, limit=2)
    assert [c.instance_id for c in first] == ["i0", "i1"]
    rest = changes.after(first[-1].id)
    assert [c.instance_id for c in rest] == ["i2"]
    assert changes.last_id() == rest[-1].id
    assert changes.after(changes.last_id()) == []
    database.dispose()


def test_pruning_removes_only_rows_past_retention_across_batches(database_url: str) -> None:
    ats = [float(n) for n in range(23)]  # 0..22
    database, changes = _feed(database_url, ats)
    assert changes.prune(before=17.0, batch=5) == 17
    assert [c.at for c in changes.after(0)] == [float(n) for n in range(17, 23)]
    assert changes.prune(before=17.0, batch=5) == 0  # nothing older left: a second run is a no-op
    database.dispose()


def test_the_newest_row_stays_so_ids_never_repeat(database_url: str) -> None:
    """SQLite numbers a row after the largest id in the table: pruning every row would
    hand out ids again that readers have already passed."""
    database, changes = _feed(database_url, [1.0, 2.0, 3.0])
    newest = changes.last_id()
    assert changes.prune(before=1e12) == 2
    with database.write() as conn:
        conn.execute(text("INSERT INTO changes (at, kind, instance_id) VALUES (4.0, 'instance_started', 'x')"))
    assert [c.id for c in changes.after(0)] == [newest, newest + 1]
    database.dispose()


def test_an_empty_feed_prunes_nothing(database_url: str) -> None:
    database, changes = _feed(database_url, [])
    assert changes.prune(before=1e12) == 0
    assert changes.last_id() == 0
    database.dispose()
