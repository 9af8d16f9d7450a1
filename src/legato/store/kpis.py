"""Key figures of one process version over a time window, from the instances and the history.

    kpis = Kpis(database).of(definition, since=now - timedelta(days=7), until=now)

| figure | what it counts |
| --- | --- |
| `cycle_time_seconds` p50/p90/p99 | seconds from start to end of the instances that *completed* in the window |
| `throughput_per_day` | instances completed in the window, per day of the window |
| `error_rate` | of the instances that ended in the window, the share that did not complete or met an incident |
| `automation_rate` | of the instances that completed in the window, the share that did so with no user task |
| `per_element` | time spent at each element (entered to completed), p50/p90, from the heatmap |

Percentiles are nearest-rank: an observed value, never an interpolation. The history is
read through its `(definition_id, type, element)` index; instances by their end time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from legato.errors import InvalidFilter
from legato.model.elements import UserTask
from legato.store.database import Database
from legato.store.definitions import StoredDefinition
from legato.store.sql import fetch
from legato.store.statistics import Statistics, percentile

_ENDED = (
    "SELECT id, status, ended_at - created_at FROM instances "
    "WHERE definition_id = :d AND ended_at >= :low AND ended_at <= :high"
)
_STARTED = "SELECT COUNT(*) FROM instances WHERE definition_id = :d AND created_at >= :low AND created_at <= :high"
_WITH_INCIDENT = "SELECT DISTINCT instance_id FROM history WHERE definition_id = :d AND type = 'incident_created'"
_WITH_HUMAN = (
    "SELECT DISTINCT instance_id FROM history WHERE definition_id = :d AND type = 'element_entered' "
    "AND element IN_LIST(:elements)"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    since: datetime
    until: datetime

    @property
    def days(self) -> float:
        return max((self.until - self.since).total_seconds() / 86400, 1e-9)


_WINDOW = re.compile(r"^\s*(\d{1,5})\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_WINDOW = timedelta(days=3660)


def window_of(since: str, now: datetime) -> Window:
    """`7d`, `24h`, `30m`, `2w` -> the window that long, ending `now`; anything else is
    INVALID_FILTER naming `since`."""
    match = _WINDOW.match(since)
    if match is None:
        raise InvalidFilter(
            f"since must be a number and a unit, m, h, d or w (7d, 24h, 30m, 2w), not {since!r}", field="since"
        )
    length = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not timedelta(0) < length <= MAX_WINDOW:
        raise InvalidFilter(f"since must be above zero and at most 10 years, not {since!r}", field="since")
    return Window(since=now - length, until=now)


class Kpis:
    def __init__(self, database: Database, statistics: Statistics) -> None:
        self.database = database
        self.statistics = statistics

    def of(self, definition: StoredDefinition, window: Window) -> dict[str, Any]:
        """The key figures of `definition` for instances that ended within `window`."""
        params: dict[str, Any] = {"d": definition.id, "low": window.since.timestamp(), "high": window.until.timestamp()}
        human_elements = sorted(e.id for e in definition.model.elements.values() if isinstance(e, UserTask))
        with self.database.read() as conn:
            ended = fetch(conn, _ENDED, params)
            [(started,)] = fetch(conn, _STARTED, params)
            ended_ids = {row[0] for row in ended}
            incident = {row[0] for row in fetch(conn, _WITH_INCIDENT, params)} & ended_ids if ended_ids else set()
            human: set[str] = set()
            if human_elements and ended_ids:
                rows = fetch(conn, _WITH_HUMAN, {**params, "elements": human_elements}, lists=["elements"])
                human = {row[0] for row in rows} & ended_ids
        completed = [(instance_id, float(seconds)) for instance_id, status, seconds in ended if status == "completed"]
        failed = {instance_id for instance_id, status, _ in ended if status != "completed"} | incident
        durations = sorted(seconds for _, seconds in completed)
        automated = sum(1 for instance_id, _ in completed if instance_id not in human)
        heatmap = self.statistics.heatmap(definition.id, since=window.since, until=window.until)
        return {
            "process": definition.key,
            "version": definition.version,
            "since": window.since,
            "until": window.until,
            "started": int(started),
            "completed": len(completed),
            "ended_otherwise": len(ended) - len(completed),
            "cycle_time_seconds": {
                "p50": percentile(durations, 50),
                "p90": percentile(durations, 90),
                "p99": percentile(durations, 99),
            },
            "throughput_per_day": round(len(completed) / window.days, 3),
            "error_rate": _share(len(failed), len(ended)),
            "automation_rate": _share(automated, len(completed)),
            "per_element": [
                {
                    "element": item["element"],
                    "passes": item["passes"],
                    "p50_seconds": item["p50_seconds"],
                    "p90_seconds": item["p90_seconds"],
                }
                for item in heatmap["elements"]
            ],
        }


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


__all__ = ["MAX_WINDOW", "Kpis", "Window", "window_of"]
