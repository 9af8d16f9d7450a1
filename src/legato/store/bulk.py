"""Repair in bulk: retry the incidents, or cancel the instances, that a filter selects.

An operator who fixed the cause of 3,000 incidents (a supplier's API is back, a variable
was repaired) retries them all at once; one who finds 400 orders stuck on a withdrawn
product cancels them. Both work the same way:

- **A preview first** (`dry_run`): how many the filter matches and the first ids, nothing
  changed.
- **Bounded requests.** One call acts on at most `limit` rows (`MAX_BULK`) and answers a
  cursor when more match: the caller goes on with it, so no request runs for minutes and
  a client that dies mid-way loses nothing.
- **Batches of `BATCH` rows, each its own transaction** through the command executor: no
  lock is held across the whole run, and the worker's completions interleave with it.
- **A result per row**: `done`, `skipped` with the reason (the incident was resolved, the
  instance ended, by someone else in the meantime) or `failed` with the error's code.
- **Exactly-once.** Each row is an ordinary engine command naming its wait (`RetryIncident`)
  or its instance (`CancelInstance`), so a second run, a concurrent run, or a worker that
  got there first makes it stale, and it is skipped: nothing happens twice. Running the same
  bulk action again after it finished finds nothing left to do.

Every command carries the actor, so each instance's history says who retried or cancelled it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import text

from legato.engine.commands import CancelInstance, Command, RetryIncident
from legato.errors import InvalidFilter, LegatoError
from legato.store.commands import CommandItem, Executor
from legato.store.database import Database
from legato.store.pages import decode_cursor, encode_cursor
from legato.store.search import InstanceFilter, Search
from legato.store.writer import ClaimNew, Handoff

MAX_BULK = 500
"""Rows one bulk request acts on at most; past it the answer carries a cursor to go on with."""
DEFAULT_BULK = 100
BATCH = 50
"""Rows per transaction: small enough that no lock is held long, large enough to share commits."""
SAMPLE = 20  # ids a preview shows

SKIPPED_CODES = frozenset({"INCIDENT_NOT_OPEN", "STALE_COMMAND", "INSTANCE_NOT_ACTIVE", "INSTANCE_NOT_FOUND"})
"""Errors that mean someone else got there first: the row is skipped, not failed."""

Result = Literal["done", "skipped", "failed"]


@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentFilter:
    """Which open incidents a bulk retry selects; every field is optional and they combine with AND."""

    process: str | None = None
    version: int | None = None
    element: str | None = None
    error_type: str | None = None
    error: str | None = None  # text in the message
    business_key: str | None = None
    started_after: datetime | None = None  # of the incident's instance
    started_before: datetime | None = None
    instance_id: str | None = None
    ids: tuple[int, ...] = ()
    tenant: str | None = None

    def where(self) -> dict[str, Any]:
        """The keyword arguments of `Search.incident_where` for open incidents."""
        return {
            "status": "open",
            "instance_id": self.instance_id,
            "process": self.process,
            "version": self.version,
            "element": self.element,
            "error_type": self.error_type,
            "error": self.error,
            "ids": self.ids,
            "tenant": self.tenant,
            "business_key": self.business_key,
            "started_after": self.started_after,
            "started_before": self.started_before,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class BulkItem:
    """What became of one row: `id` is the incident's (retry) or the instance's (cancel)."""

    id: int | str
    instance_id: str
    result: Result
    reason: str | None = None
    code: str | None = None
    problems: list[dict[str, Any]] | None = None  # a migration's: each element at fault and why

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"id": self.id, "instance_id": self.instance_id, "result": self.result}
        if self.reason is not None:
            found["reason"] = self.reason
        if self.code is not None:
            found["code"] = self.code
        if self.problems is not None:
            found["problems"] = self.problems
        return found


@dataclass(frozen=True, kw_only=True, slots=True)
class BulkReport:
    """The answer of one bulk request: a preview (`dry_run`) or what was done, row by row."""

    action: str
    dry_run: bool
    matched: int  # rows the filter selected for this request (at most the limit)
    total: int  # rows matching the filter when the request began (capped, see total_exact)
    total_exact: bool
    items: list[BulkItem] = field(default_factory=list)
    ids: list[int | str] = field(default_factory=list)  # a preview's first ids
    next_cursor: str | None = None

    def count(self, result: Result) -> int:
        return sum(1 for item in self.items if item.result == result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "matched": self.matched,
            "total": self.total,
            "total_exact": self.total_exact,
            "done": self.count("done"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "items": [item.to_dict() for item in self.items],
            "ids": list(self.ids),
            "next_cursor": self.next_cursor,
        }


def check_bulk_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_BULK:
        raise InvalidFilter(f"limit must be 1..{MAX_BULK} rows per bulk request", field="limit")
    return limit


class Bulk:
    """Bulk retry and bulk cancel over the executor, in batches (module docstring)."""

    def __init__(self, database: Database, executor: Executor, search: Search) -> None:
        self.database = database
        self.executor = executor
        self.search = search

    # -- incidents ---------------------------------------------------------------------------

    def retry_incidents(
        self,
        where: IncidentFilter,
        *,
        actor: str | None,
        now: datetime,
        limit: int = DEFAULT_BULK,
        cursor: str | None = None,
        dry_run: bool = False,
        variables: dict[str, Any] | None = None,
        visible: Any = None,
        claim_new: ClaimNew | None = None,
    ) -> tuple[BulkReport, list[Handoff]]:
        """Retry up to `limit` open incidents the filter selects, oldest first, after `cursor`.

        `variables` (a fix common to all) are set on each instance in the same step as its retry.
        """
        check_bulk_limit(limit)
        clauses, params, join = self.search.incident_where(**where.where(), visible=visible)
        source = self.search.incident_from(join)
        with self.database.read() as conn:
            total, exact = self.search.count(conn, source, clauses, params, capped=True)
            if cursor is not None:
                last, ceiling = decode_cursor("bulk-incidents", cursor, (int, int))
                clauses = [*clauses, "x.id > :c_id"]
                params["c_id"] = last
            else:
                # Incidents opened after the run began (a retry that failed again among them)
                # are not this run's: the cursor keeps the ceiling, so going on never loops.
                ceiling = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM incidents")).scalar_one())
            clauses = [*clauses, "x.id <= :c_ceiling"]
            params["c_ceiling"] = ceiling
            sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            rows = conn.execute(
                text(f"SELECT x.id, x.instance_id, x.wait FROM {source} {sql_where} ORDER BY x.id LIMIT :limit"),
                {**params, "limit": limit + 1},
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor("bulk-incidents", [rows[-1].id, ceiling]) if more else None
        report = BulkReport(
            action="retry", dry_run=dry_run, matched=len(rows), total=total, total_exact=exact, next_cursor=next_cursor
        )
        if dry_run:
            return replace(report, ids=[int(row.id) for row in rows[:SAMPLE]]), []
        targets = [
            (
                int(row.id),
                row.instance_id,
                RetryIncident(wait=int(row.wait), actor=actor, variables=dict(variables or {})),
            )
            for row in rows
        ]
        items, handoffs = self.run_commands(targets, now, claim_new)
        return replace(report, items=items), handoffs

    # -- instances ---------------------------------------------------------------------------

    def cancel_instances(
        self,
        where: InstanceFilter,
        *,
        actor: str | None,
        now: datetime,
        limit: int = DEFAULT_BULK,
        cursor: str | None = None,
        dry_run: bool = False,
        reason: str | None = None,
    ) -> BulkReport:
        """Cancel up to `limit` active instances the filter selects, newest first, after `cursor`."""
        check_bulk_limit(limit)
        if where.status not in (None, "active"):
            raise InvalidFilter("only active instances can be cancelled: leave status out", field="status")
        where = replace(where, status="active")
        with self.database.read() as conn:
            clauses, params = self.search.instance_where(conn, where)
            total, exact = self.search.count(conn, "instances i", clauses, params, capped=True)
            if cursor is not None:
                at, last_id = decode_cursor("bulk-instances", cursor, (float, str))
                clauses.append("(i.created_at < :c_at OR (i.created_at = :c_at AND i.id < :c_id))")
                params.update(c_at=at, c_id=last_id)
            sql_where = f"WHERE {' AND '.join(clauses)}"
            rows = conn.execute(
                text(
                    f"SELECT i.id, i.created_at FROM instances i {sql_where} "
                    "ORDER BY i.created_at DESC, i.id DESC LIMIT :limit"
                ),
                {**params, "limit": limit + 1},
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor("bulk-instances", [rows[-1].created_at, rows[-1].id]) if more else None
        report = BulkReport(
            action="cancel", dry_run=dry_run, matched=len(rows), total=total, total_exact=exact, next_cursor=next_cursor
        )
        if dry_run:
            return replace(report, ids=[row.id for row in rows[:SAMPLE]])
        targets: list[tuple[int | str, str, Command]] = [
            (row.id, row.id, CancelInstance(actor=actor, reason=reason)) for row in rows
        ]
        items, _ = self.run_commands(targets, now, None)
        return replace(report, items=items)

    # -- the batches -------------------------------------------------------------------------

    def run_commands(
        self, targets: Sequence[tuple[int | str, str, Command]], now: datetime, claim_new: ClaimNew | None
    ) -> tuple[list[BulkItem], list[Handoff]]:
        """Apply the commands `BATCH` at a time, each batch one transaction; a result per row."""
        items: list[BulkItem] = []
        handoffs: list[Handoff] = []
        for start in range(0, len(targets), BATCH):
            batch = targets[start : start + BATCH]
            commands = [CommandItem(instance_id=instance_id, command=command) for _, instance_id, command in batch]
            try:
                outcomes, handed = self.executor.apply(commands, now, claim_new)
            except LegatoError as exc:
                if exc.status == 503:
                    raise  # the database is gone: the caller retries the request, rows done stay done
                items.extend(
                    BulkItem(id=row_id, instance_id=instance_id, result="failed", code=exc.code, reason=exc.message)
                    for row_id, instance_id, _ in batch
                )
                continue
            handoffs.extend(handed)
            for (row_id, instance_id, _), outcome in zip(batch, outcomes, strict=True):
                if outcome.ok:
                    items.append(BulkItem(id=row_id, instance_id=instance_id, result="done"))
                    continue
                error = outcome.error
                code = error.code if error is not None else "INSTANCE_NOT_FOUND"
                message = error.message if error is not None else "the instance was not found"
                result: Result = "skipped" if code in SKIPPED_CODES else "failed"
                problems = getattr(error, "problems", None)
                items.append(
                    BulkItem(
                        id=row_id, instance_id=instance_id, result=result, code=code, reason=message, problems=problems
                    )
                )
        return items, handoffs


__all__ = ["BATCH", "DEFAULT_BULK", "MAX_BULK", "SAMPLE", "Bulk", "BulkItem", "BulkReport", "IncidentFilter"]
