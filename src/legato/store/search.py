"""Searching the lists operators look at: instances, incidents, user tasks, definitions, evaluations.

Each search answers one `Page` (see `pages.py`): the rows after the cursor in a fixed
order with a unique tie-break, the total that matches the filter, and the cursor of the
next page. The order matches an index for every filter that has one (migration 0006), so
the first page of 100,000 instances is an index seek, not a sort.

Filters that no index can serve — a variable's value, the element where an instance
waits, an incident's text — are evaluated row by row while walking that index; their
totals are counted up to `COUNT_CAP_SCAN` and reported as "at least" beyond it, so a
search can never turn into an unbounded count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.errors import DefinitionNotFound, InvalidFilter
from legato.store.database import Database
from legato.store.pages import Page, check_limit, decode_cursor, encode_cursor
from legato.store.queries import STATUSES, Queries
from legato.store.tenants import Visible, visible_clause

COUNT_CAP_SCAN = 10_000
INCIDENT_STATUSES = ("open", "resolved")
_VARIABLE_NAME = re.compile(r"^[^\"\\\x00-\x1f]{1,255}$")


@dataclass(frozen=True, kw_only=True, slots=True)
class VariableFilter:
    """`var=name:value`: the variable `name` equals the JSON scalar `value` (text if not JSON)."""

    name: str
    value: str | int | float | bool | None

    @classmethod
    def parse(cls, raw: str) -> VariableFilter:
        name, colon, value_text = raw.partition(":")
        if not colon or not _VARIABLE_NAME.match(name):
            raise InvalidFilter(
                f"a variable filter is name:value with a name of 1..255 characters without quotes, not {raw!r}",
                field="var",
            )
        try:
            value = orjson.loads(value_text)
        except orjson.JSONDecodeError:
            value = value_text  # `var=city:Berlin` needs no quotes; `var=code:"42"` is the text 42
        if isinstance(value, (dict, list)):
            raise InvalidFilter("a variable filter compares with a text, number, boolean or null", field="var")
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            raise InvalidFilter("a variable filter's number must fit in 64 bits", field="var")
        return cls(name=name, value=value)


@dataclass(frozen=True, kw_only=True, slots=True)
class InstanceFilter:
    """What the instance list can be narrowed by; every field is optional."""

    process: str | None = None
    version: int | None = None
    status: str | None = None
    business_key: str | None = None
    variables: tuple[VariableFilter, ...] = ()
    started_after: datetime | None = None
    started_before: datetime | None = None
    ended_after: datetime | None = None
    ended_before: datetime | None = None
    waiting_at: str | None = None
    error: str | None = None  # text in the message of an open incident
    ids: tuple[str, ...] = field(default=())  # a selection (bulk actions)
    visible: Visible = None  # the tenants the caller may see (None: all)
    tenant: str | None = None  # narrow to one tenant

    @property
    def scans(self) -> bool:
        return bool(self.variables or self.waiting_at or self.error)


def _epoch(moment: datetime, name: str) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        raise InvalidFilter(f"{name} is out of range", field=name) from None


def like_pattern(fragment: str) -> str:
    """A LIKE pattern that finds `fragment` anywhere, its own % and _ taken literally."""
    escaped = fragment.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Search:
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- instances -------------------------------------------------------------------------

    def instance_where(self, conn: Connection, where: InstanceFilter) -> tuple[list[str], dict[str, Any]]:
        """The SQL conditions (on alias `i`) and parameters of an instance filter."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if where.status is not None and where.status not in STATUSES:
            raise InvalidFilter(f"status must be one of {', '.join(STATUSES)}, not {where.status!r}", field="status")
        if where.version is not None:
            if where.process is None:
                raise InvalidFilter("a version filter needs the process it is a version of", field="version")
            definition_ids = [
                int(row.id)
                for row in conn.execute(
                    text("SELECT id FROM definitions WHERE key = :key AND version = :version"),
                    {"key": where.process, "version": where.version},
                )
            ]
            if not definition_ids:
                raise DefinitionNotFound(
                    f"process {where.process!r} has no version {where.version}",
                    details={"key": where.process, "version": where.version},
                )
            names = [f"definition_{n}" for n in range(len(definition_ids))]  # one per tenant that has it
            clauses.append(f"i.definition_id IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, definition_ids, strict=True))
        if where.visible is not None:
            clauses.append(visible_clause("i.tenant_id", where.visible, params))
        if where.tenant is not None:
            clauses.append("i.tenant_id = :only_tenant")
            params["only_tenant"] = where.tenant
        for column, value in (("process_key", where.process), ("status", where.status)):
            if value is not None:
                clauses.append(f"i.{column} = :{column}")
                params[column] = value
        if where.business_key is not None:
            clauses.append("i.business_key = :business_key")
            params["business_key"] = where.business_key
        for name, column, operator, moment in (
            ("started_after", "created_at", ">=", where.started_after),
            ("started_before", "created_at", "<", where.started_before),
            ("ended_after", "ended_at", ">=", where.ended_after),
            ("ended_before", "ended_at", "<", where.ended_before),
        ):
            if moment is not None:
                clauses.append(f"i.{column} {operator} :{name}")
                params[name] = _epoch(moment, name)
        if where.ids:
            names = [f"id_{n}" for n in range(len(where.ids))]
            clauses.append(f"i.id IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, where.ids, strict=True))
        sqlite = self.database.is_sqlite
        for n, variable in enumerate(where.variables):
            clauses.append(_variable_clause(sqlite, n, variable, params))
        if where.waiting_at is not None:
            params["waiting_at"] = where.waiting_at
            if sqlite:
                clauses.append(
                    "i.status = 'active' AND EXISTS (SELECT 1 FROM json_each(i.state, '$.t') t "
                    "WHERE json_extract(t.value, '$[1]') = :waiting_at "
                    "AND json_extract(t.value, '$[4]') IN ('waiting', 'joining'))"
                )
            else:
                clauses.append(
                    "i.status = 'active' AND EXISTS (SELECT 1 FROM jsonb_array_elements(i.state::jsonb -> 't') t "
                    "WHERE t ->> 1 = :waiting_at AND t ->> 4 IN ('waiting', 'joining'))"
                )
        if where.error is not None:
            params["error"] = like_pattern(where.error)
            clauses.append(
                "EXISTS (SELECT 1 FROM incidents x WHERE x.instance_id = i.id AND x.status = 'open' "
                "AND lower(x.message) LIKE :error ESCAPE '\\')"
            )
        return clauses, params

    def instances(
        self, where: InstanceFilter, *, limit: int = 100, cursor: str | None = None, variables: bool = False
    ) -> Page:
        """Instances newest first (start time, then id), `limit` of them after `cursor`."""
        check_limit(limit)
        with self.database.read() as conn:
            clauses, params = self.instance_where(conn, where)
            total, exact = self._count(conn, "instances i", clauses, params, capped=where.scans)
            page_clauses = list(clauses)
            if cursor is not None:
                at, last_id = decode_cursor("instances", cursor, (float, str))
                page_clauses.append("(i.created_at < :c_at OR (i.created_at = :c_at AND i.id < :c_id))")
                params.update(c_at=at, c_id=last_id)
            sql_where = f"WHERE {' AND '.join(page_clauses)}" if page_clauses else ""
            columns = (
                "i.id, i.process_key, i.business_key, i.status, i.version, i.created_at, i.updated_at, "
                "i.ended_at, i.state, i.tenant_id"
            )
            rows = conn.execute(
                text(
                    f"SELECT {columns}{', i.variables' if variables else ''}, d.version AS definition_version "
                    f"FROM instances i JOIN definitions d ON d.id = i.definition_id {sql_where} "
                    "ORDER BY i.created_at DESC, i.id DESC LIMIT :limit"
                ),
                {**params, "limit": limit + 1},
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = self.database.opened([Queries.instance_row(r, full=False, variables=variables) for r in rows])
        next_cursor = encode_cursor("instances", [rows[-1].created_at, rows[-1].id]) if more else None
        return Page(items=items, total=total, total_exact=exact, next_cursor=next_cursor)

    def instance_ids(self, where: InstanceFilter, *, limit: int) -> list[str]:
        """Ids of the instances a filter selects, newest first, at most `limit` (bulk actions)."""
        with self.database.read() as conn:
            clauses, params = self.instance_where(conn, where)
            sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            rows = conn.execute(
                text(f"SELECT i.id FROM instances i {sql_where} ORDER BY i.created_at DESC, i.id DESC LIMIT :limit"),
                {**params, "limit": limit},
            ).all()
        return [row.id for row in rows]

    # -- incidents -------------------------------------------------------------------------

    def incident_where(
        self,
        *,
        status: str | None = "open",
        instance_id: str | None = None,
        process: str | None = None,
        version: int | None = None,
        element: str | None = None,
        error_type: str | None = None,
        error: str | None = None,
        ids: tuple[int, ...] = (),
        visible: Visible = None,
        tenant: str | None = None,
        business_key: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
    ) -> tuple[list[str], dict[str, Any], bool]:
        """Conditions on alias `x` (incidents), joined to `i` (their instances) when needed."""
        if status is not None and status not in INCIDENT_STATUSES:
            raise InvalidFilter(f"status must be open or resolved, not {status!r}", field="status")
        if version is not None and process is None:
            raise InvalidFilter("a version filter needs the process it is a version of", field="version")
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for column, value in (
            ("status", status),
            ("instance_id", instance_id),
            ("element", element),
            ("error_type", error_type),
        ):
            if value is not None:
                clauses.append(f"x.{column} = :{column}")
                params[column] = value
        if visible is not None:
            clauses.append(visible_clause("x.tenant_id", visible, params))
        if tenant is not None:
            clauses.append("x.tenant_id = :only_tenant")
            params["only_tenant"] = tenant
        join = process is not None or business_key is not None or started_after is not None
        join = join or started_before is not None
        if business_key is not None:
            clauses.append("i.business_key = :business_key")
            params["business_key"] = business_key
        for name, operator, moment in (("started_after", ">=", started_after), ("started_before", "<", started_before)):
            if moment is not None:
                clauses.append(f"i.created_at {operator} :{name}")
                params[name] = _epoch(moment, name)
        if process is not None:
            clauses.append("i.process_key = :process")
            params["process"] = process
        if version is not None:
            clauses.append("d.version = :version")
            params["version"] = version
        if error is not None:
            clauses.append("lower(x.message) LIKE :error ESCAPE '\\'")
            params["error"] = like_pattern(error)
        if ids:
            names = [f"id_{n}" for n in range(len(ids))]
            clauses.append(f"x.id IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, ids, strict=True))
        return clauses, params, join

    @staticmethod
    def incident_from(join: bool) -> str:
        if not join:
            return "incidents x"
        return "incidents x JOIN instances i ON i.id = x.instance_id JOIN definitions d ON d.id = i.definition_id"

    def incidents(self, *, limit: int = 100, cursor: str | None = None, **filters: Any) -> Page:
        """Incidents oldest first (by id), with the process and version of their instance."""
        check_limit(limit)
        clauses, params, join = self.incident_where(**filters)
        source = self.incident_from(True)
        with self.database.read() as conn:
            total, exact = self._count(conn, self.incident_from(join), clauses, params, capped="error" in params)
            if cursor is not None:
                (last,) = decode_cursor("incidents", cursor, (int,))
                clauses = [*clauses, "x.id > :c_id"]
                params["c_id"] = last
            sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            rows = conn.execute(
                text(
                    f"SELECT x.*, i.process_key, d.version AS definition_version FROM {source} {sql_where} "
                    "ORDER BY x.id LIMIT :limit"
                ),
                {**params, "limit": limit + 1},
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = self.database.opened(
            [{**Queries.incident_row(r), "process": r.process_key, "version": r.definition_version} for r in rows]
        )
        return Page(
            items=items,
            total=total,
            total_exact=exact,
            next_cursor=encode_cursor("incidents", [rows[-1].id]) if more else None,
        )

    # (user tasks: store/task_search.py)

    # -- decision evaluations --------------------------------------------------------------

    def evaluation_page(
        self,
        *,
        instance_id: str | None = None,
        decision_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        visible: Visible = None,
    ) -> tuple[list[int], int, str | None]:
        """Ids of recorded evaluations newest first, their total, and the next cursor."""
        check_limit(limit)
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for column, value in (("instance_id", instance_id), ("decision_id", decision_id)):
            if value is not None:
                clauses.append(f"e.{column} = :{column}")
                params[column] = value
        if visible is not None:
            clauses.append(visible_clause("e.tenant_id", visible, params))
        with self.database.read() as conn:
            total, _ = self._count(conn, "decision_evaluations e", clauses, params, capped=False)
            if cursor is not None:
                (last,) = decode_cursor("evaluations", cursor, (int,))
                clauses.append("e.id < :c_id")
                params["c_id"] = last
            sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            ids = [
                int(row.id)
                for row in conn.execute(
                    text(f"SELECT e.id FROM decision_evaluations e {sql_where} ORDER BY e.id DESC LIMIT :limit"),
                    {**params, "limit": limit + 1},
                )
            ]
        more = len(ids) > limit
        ids = ids[:limit]
        return ids, total, encode_cursor("evaluations", [ids[-1]]) if more else None

    # -- plumbing --------------------------------------------------------------------------

    def count(
        self, conn: Connection, source: str, clauses: list[str], params: dict[str, Any], *, capped: bool
    ) -> tuple[int, bool]:
        """How many rows of `source` the conditions select, capped at `COUNT_CAP_SCAN` when `capped`."""
        return self._count(conn, source, clauses, params, capped=capped)

    @staticmethod
    def _count(
        conn: Connection, source: str, clauses: list[str], params: dict[str, Any], *, capped: bool
    ) -> tuple[int, bool]:
        sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        if not capped:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {source} {sql_where}"), params).scalar() or 0), True
        n = int(
            conn.execute(
                text(f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} {sql_where} LIMIT :cap) c"),
                {**params, "cap": COUNT_CAP_SCAN + 1},
            ).scalar()
            or 0
        )
        return min(n, COUNT_CAP_SCAN), n <= COUNT_CAP_SCAN


def _variable_clause(sqlite: bool, n: int, variable: VariableFilter, params: dict[str, Any]) -> str:
    value = variable.value
    if not sqlite:
        params[f"var_name_{n}"] = variable.name
        params[f"var_value_{n}"] = orjson.dumps(value).decode()
        return f"(i.variables::jsonb -> :var_name_{n}) = CAST(:var_value_{n} AS jsonb)"
    params[f"var_path_{n}"] = f'$."{variable.name}"'
    path = f":var_path_{n}"
    kind = f"json_type(i.variables, {path})"
    if value is None:
        return f"{kind} = 'null'"
    if isinstance(value, bool):
        return f"{kind} = '{'true' if value else 'false'}'"
    params[f"var_value_{n}"] = value
    if isinstance(value, str):
        return f"({kind} = 'text' AND json_extract(i.variables, {path}) = :var_value_{n})"
    return f"({kind} IN ('integer', 'real') AND json_extract(i.variables, {path}) = :var_value_{n})"


__all__ = ["COUNT_CAP_SCAN", "InstanceFilter", "Search", "VariableFilter", "like_pattern"]
