"""Numbers on a process diagram: where tokens wait, where incidents are, how often and how long.

Three reads serve the process views:

- `definitions`: a page of deployed versions with, on each, its instance counts (active,
  completed, cancelled, terminated, and how many instances have an open incident);
- `elements`: for one version, per element, the tokens waiting there now, the open
  incidents there, and the passes completed there (from history rows that name their
  definition: the index `ix_history_definition` answers it without reading instances);
- `heatmap`: per element, how many passes and the p50/p90 time between entering and
  completing the element, from the history in a time window.

Waiting tokens come from the token trees of the version's active instances, walked in SQL
(`json_each` on SQLite, `jsonb_array_elements` on PostgreSQL), so no state is decoded in
Python and the count is what `GET /instances/{id}` shows as `waiting_at`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.errors import DefinitionNotFound, InvalidFilter
from legato.store.codec import from_epoch
from legato.store.database import Database
from legato.store.pages import Page, check_limit, decode_cursor, encode_cursor
from legato.store.queries import STATUSES
from legato.store.tenants import Visible, visible_clause

PASS_TYPES = ("element_completed", "element_passed")
_SUMMARY_COLUMNS = "d.id, d.key, d.version, d.name, d.checksum, d.source_format, d.deployed_at, d.tenant_id"


def _iso(seconds: float | None) -> str | None:
    moment = from_epoch(seconds)
    return None if moment is None else moment.isoformat()


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def percentile(ordered: list[float], p: float) -> float | None:
    """The nearest-rank percentile of sorted values: an observed value, never an interpolation."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class Statistics:
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- the definitions list with counts --------------------------------------------------

    def definitions(
        self,
        *,
        all_versions: bool = False,
        key: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        visible: Visible = None,
        tenant: str | None = None,
    ) -> Page:
        """Deployed versions ordered by key then version, each with its instance counts."""
        check_limit(limit)
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if not all_versions:
            clauses.append(
                "d.version = (SELECT MAX(m.version) FROM definitions m WHERE m.key = d.key "
                "AND COALESCE(m.tenant_id, '') = COALESCE(d.tenant_id, ''))"
            )
        if visible is not None:
            clauses.append(visible_clause("d.tenant_id", visible, params))
        if tenant is not None:
            clauses.append("d.tenant_id = :only_tenant")
            params["only_tenant"] = tenant
        if key is not None:
            clauses.append("d.key = :key")
            params["key"] = key
        with self.database.read() as conn:
            where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            total = int(conn.execute(text(f"SELECT COUNT(*) FROM definitions d {where}"), params).scalar() or 0)
            if cursor is not None:
                last_key, last_version, last_id = decode_cursor("definitions", cursor, (str, int, int))
                clauses.append(
                    "(d.key > :c_key OR (d.key = :c_key AND (d.version > :c_version "
                    "OR (d.version = :c_version AND d.id > :c_id))))"
                )
                params.update(c_key=last_key, c_version=last_version, c_id=last_id)
            where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            rows = conn.execute(
                text(
                    f"SELECT {_SUMMARY_COLUMNS} FROM definitions d {where} ORDER BY d.key, d.version, d.id LIMIT :limit"
                ),
                {**params, "limit": limit + 1},
            ).all()
            more = len(rows) > limit
            rows = rows[:limit]
            counts = self._version_counts(conn, [row.id for row in rows])
            key_counts = self._key_counts(conn, sorted({row.key for row in rows}))  # (key, tenant) -> counts
        items = [
            {
                "id": row.id,
                "key": row.key,
                "version": row.version,
                "name": row.name,
                "checksum": row.checksum,
                "source_format": row.source_format,
                "deployed_at": _iso(row.deployed_at),
                "instances": counts.get(row.id, _empty_counts()),
                "tenant": row.tenant_id,
                "instances_all_versions": key_counts.get((row.key, row.tenant_id), _empty_counts()),
            }
            for row in rows
        ]
        next_cursor = encode_cursor("definitions", [rows[-1].key, rows[-1].version, rows[-1].id]) if more else None
        return Page(items=items, total=total, next_cursor=next_cursor)

    def _version_counts(self, conn: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
        if not ids:
            return {}
        marks = ", ".join(f":d{n}" for n in range(len(ids)))
        params = {f"d{n}": value for n, value in enumerate(ids)}
        counts: dict[int, dict[str, int]] = {}
        for row in conn.execute(
            text(
                f"SELECT definition_id, status, COUNT(*) AS n FROM instances WHERE definition_id IN ({marks}) "
                "GROUP BY definition_id, status"
            ),
            params,
        ):
            counts.setdefault(row.definition_id, _empty_counts())[row.status] = int(row.n)
        for row in conn.execute(
            text(
                "SELECT i.definition_id, COUNT(DISTINCT x.instance_id) AS n FROM incidents x "
                "JOIN instances i ON i.id = x.instance_id "
                f"WHERE x.status = 'open' AND i.definition_id IN ({marks}) GROUP BY i.definition_id"
            ),
            params,
        ):
            counts.setdefault(row.definition_id, _empty_counts())["incidents"] = int(row.n)
        return counts

    def _key_counts(self, conn: Connection, keys: list[str]) -> dict[tuple[str, str | None], dict[str, int]]:
        """Counts over every version of each process, per tenant (a definition belongs to one)."""
        if not keys:
            return {}
        marks = ", ".join(f":k{n}" for n in range(len(keys)))
        params = {f"k{n}": value for n, value in enumerate(keys)}
        counts: dict[tuple[str, str | None], dict[str, int]] = {}
        for row in conn.execute(
            text(
                # from the definitions, so the count reads ix_instances_definition_status alone
                "SELECT d.key, d.tenant_id, i.status, COUNT(*) AS n FROM definitions d "
                f"JOIN instances i ON i.definition_id = d.id WHERE d.key IN ({marks}) "
                "GROUP BY d.key, d.tenant_id, i.status"
            ),
            params,
        ):
            counts.setdefault((row.key, row.tenant_id), _empty_counts())[row.status] = int(row.n)
        for row in conn.execute(
            text(
                "SELECT d.key, d.tenant_id, COUNT(DISTINCT x.instance_id) AS n FROM incidents x "
                "JOIN instances i ON i.id = x.instance_id JOIN definitions d ON d.id = i.definition_id "
                f"WHERE x.status = 'open' AND i.process_key IN ({marks}) GROUP BY d.key, d.tenant_id"
            ),
            params,
        ):
            counts.setdefault((row.key, row.tenant_id), _empty_counts())["incidents"] = int(row.n)
        return counts

    # -- per element -----------------------------------------------------------------------

    def _definition(self, conn: Connection, definition_id: int) -> tuple[str, int]:
        row = conn.execute(text("SELECT key, version FROM definitions WHERE id = :id"), {"id": definition_id}).first()
        if row is None:
            raise DefinitionNotFound(f"no definition {definition_id}", details={"definition_id": definition_id})
        return str(row.key), int(row.version)

    def elements(self, definition_id: int) -> dict[str, Any]:
        """Per element of one version (a definition id): tokens waiting, open incidents, completed passes."""
        with self.database.read() as conn:
            key, version = self._definition(conn, definition_id)
            params = {"d": definition_id}
            if self.database.is_sqlite:
                waiting_sql = (
                    "SELECT json_extract(t.value, '$[1]') AS element, COUNT(*) AS n "
                    "FROM instances i, json_each(i.state, '$.t') t "
                    "WHERE i.definition_id = :d AND i.status = 'active' "
                    "AND json_extract(t.value, '$[4]') IN ('waiting', 'joining') GROUP BY 1"
                )
            else:
                waiting_sql = (
                    "SELECT t ->> 1 AS element, COUNT(*) AS n "
                    "FROM instances i CROSS JOIN LATERAL jsonb_array_elements(i.state::jsonb -> 't') t "
                    "WHERE i.definition_id = :d AND i.status = 'active' "
                    "AND t ->> 4 IN ('waiting', 'joining') GROUP BY 1"
                )
            elements: dict[str, dict[str, int]] = {}

            def at(element: str) -> dict[str, int]:
                return elements.setdefault(element, {"active": 0, "incidents": 0, "completed": 0})

            for row in conn.execute(text(waiting_sql), params):
                at(row.element)["active"] = int(row.n)
            for row in conn.execute(
                text(
                    "SELECT x.element, COUNT(*) AS n FROM incidents x JOIN instances i ON i.id = x.instance_id "
                    "WHERE x.status = 'open' AND i.definition_id = :d GROUP BY x.element"
                ),
                params,
            ):
                at(row.element)["incidents"] = int(row.n)
            for row in conn.execute(
                text(
                    "SELECT h.element, COUNT(*) AS n FROM history h WHERE h.definition_id = :d "
                    "AND h.type IN ('element_completed', 'element_passed') AND h.element IS NOT NULL "
                    "GROUP BY h.element"
                ),
                params,
            ):
                at(row.element)["completed"] = int(row.n)
            counts = self._version_counts(conn, [definition_id]).get(definition_id, _empty_counts())
        return {
            "key": key,
            "version": version,
            "definition_id": definition_id,
            "instances": counts,
            "elements": [{"element": element, **values} for element, values in sorted(elements.items())],
        }

    def heatmap(
        self,
        definition_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        percentile_wanted: float | None = None,
    ) -> dict[str, Any]:
        """Per element: passes, and the p50/p90 (and a chosen percentile) of the time spent there.

        Time spent is from `element_entered` to the next `element_completed` of the same
        element in the same instance; elements that are passed without waiting (gateways,
        events) count passes with a time of zero. Only completions in [since, until) count.
        """
        if percentile_wanted is not None and not 0 < percentile_wanted <= 100:
            raise InvalidFilter("percentile must be above 0 and at most 100", field="percentile")
        low, high = _epoch(since), _epoch(until)
        if low is not None and high is not None and low >= high:
            raise InvalidFilter("since must be before until", field="since")
        with self.database.read() as conn:
            key, version = self._definition(conn, definition_id)
            window = ["h.definition_id = :d"]
            params: dict[str, Any] = {"d": definition_id}
            outer: list[str] = []
            if low is not None:
                outer.append("p.at >= :low")
                params["low"] = low
            if high is not None:
                outer.append("p.at < :high")
                params["high"] = high
            rows = conn.execute(
                text(
                    "SELECT p.element, p.type, p.at - p.prev_at AS spent, p.prev_type FROM ("
                    "SELECT h.element, h.type, h.at, "
                    "LAG(h.type) OVER (PARTITION BY h.instance_id, h.element ORDER BY h.seq) AS prev_type, "
                    "LAG(h.at) OVER (PARTITION BY h.instance_id, h.element ORDER BY h.seq) AS prev_at "
                    f"FROM history h WHERE {' AND '.join(window)} AND h.element IS NOT NULL "
                    "AND h.type IN ('element_entered', 'element_completed', 'element_passed')) p "
                    "WHERE p.type IN ('element_completed', 'element_passed')"
                    + (f" AND {' AND '.join(outer)}" if outer else "")
                ),
                params,
            ).all()
        spent: dict[str, list[float]] = {}
        for row in rows:
            values = spent.setdefault(row.element, [])
            if row.type == "element_completed" and row.prev_type == "element_entered" and row.spent is not None:
                values.append(max(0.0, float(row.spent)))
            else:
                values.append(0.0)
        elements = []
        for element, values in sorted(spent.items()):
            values.sort()
            entry: dict[str, Any] = {
                "element": element,
                "passes": len(values),
                "p50_seconds": percentile(values, 50),
                "p90_seconds": percentile(values, 90),
            }
            if percentile_wanted is not None:
                entry["percentile_seconds"] = percentile(values, percentile_wanted)
            elements.append(entry)
        return {
            "key": key,
            "version": version,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "percentile": percentile_wanted,
            "elements": elements,
        }


def _empty_counts() -> dict[str, int]:
    return {**dict.fromkeys(STATUSES, 0), "incidents": 0}


__all__ = ["Statistics", "percentile"]
