"""The gauges of `/metrics` that the database holds: read at scrape time, cheaply.

Every query walks an index over the rows it counts and stops at `COUNT_CAP` rows, so a
scrape costs the same few milliseconds with a backlog of millions as with none; a
gauge at the cap means "at least this many" (docs/metrics.md). They count every tenant:
`/metrics` is the operator's view of the whole installation.

| gauge | index |
| --- | --- |
| `legato_job_queue_depth{kind}`: due jobs no worker holds (or whose lock expired) | `ix_jobs_due` |
| `legato_job_oldest_due_age_seconds`: how long the longest-waiting such job is overdue | `ix_jobs_due` |
| `legato_jobs_running`: jobs locked by a worker now | `ix_jobs_due` |
| `legato_incidents_open` | `ix_incidents_status` |
| `legato_user_tasks_open` | `ix_user_tasks_status` |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client.core import Metric

from legato.store.codec import to_epoch
from legato.store.database import Database
from legato.store.sql import fetch
from legato.telemetry import gauge

COUNT_CAP = 100_000

_DUE = "due_at IS NOT NULL AND due_at <= :now"
_FREE = "(locked_by IS NULL OR lock_expires_at < :now)"
_QUEUE = (
    f"SELECT kind, COUNT(*) FROM (SELECT kind FROM jobs WHERE {_DUE} AND {_FREE} ORDER BY due_at LIMIT :cap) q "
    "GROUP BY kind"
)
_OLDEST = f"SELECT due_at FROM jobs WHERE {_DUE} AND {_FREE} ORDER BY due_at LIMIT 1"
_RUNNING = f"SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE {_DUE} AND NOT {_FREE} LIMIT :cap) q"
_OPEN_INCIDENTS = "SELECT COUNT(*) FROM (SELECT 1 FROM incidents WHERE status = 'open' LIMIT :cap) q"
_OPEN_TASKS = "SELECT COUNT(*) FROM (SELECT 1 FROM user_tasks WHERE status = 'open' LIMIT :cap) q"

KINDS = ("task", "timer", "start_timer")


class Gauges:
    def __init__(self, database: Database) -> None:
        self.database = database

    def reader(self, now: Callable[[], datetime]) -> Callable[[], Iterable[Metric]]:
        """What `Metrics.render` calls on each scrape, with the clock of the caller."""
        return lambda: self.read(now())

    def read(self, now: datetime) -> list[Metric]:
        """The gauges as they stand at `now`, in one read transaction."""
        params = {"now": to_epoch(now), "cap": COUNT_CAP}
        with self.database.read() as conn:
            queue = dict(fetch(conn, _QUEUE, params))
            oldest = fetch(conn, _OLDEST, params)
            [(running,)] = fetch(conn, _RUNNING, params)
            [(incidents,)] = fetch(conn, _OPEN_INCIDENTS, params)
            [(tasks,)] = fetch(conn, _OPEN_TASKS, params)
        age = max(0.0, params["now"] - float(oldest[0][0])) if oldest else 0.0
        return [
            gauge(
                "legato_job_queue_depth",
                f"Due jobs that no worker holds, by kind (counted up to {COUNT_CAP})",
                labels=["kind"],
                samples=[([kind], float(queue.get(kind, 0))) for kind in KINDS],
            ),
            gauge("legato_job_oldest_due_age_seconds", "Seconds the longest-waiting due job is overdue", age),
            gauge("legato_jobs_running", f"Jobs a worker holds now (counted up to {COUNT_CAP})", float(running)),
            gauge("legato_incidents_open", f"Open incidents (counted up to {COUNT_CAP})", float(incidents)),
            gauge("legato_user_tasks_open", f"Open user tasks (counted up to {COUNT_CAP})", float(tasks)),
        ]


__all__ = ["COUNT_CAP", "Gauges"]
