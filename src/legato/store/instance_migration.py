"""Migrating running instances to another version of their process, in bulk.

Until now an instance stayed on the version it started with for life: a fix deployed as
version 4 helped only the orders started after it. A migration moves the active instances
of one version (`from_version`) to another (`to_version`) of the same process, the way
Camunda 7 does it:

- **A plan first.** The mapping of elements is generated for every id the two versions
  share (same kind, same subprocess) and the caller's instructions (`A=B`) override or add
  to it. The plan is validated against both versions before any instance is looked at: an
  unknown element, an element mapped to one of another kind, a scope that does not match
  answer 422 MIGRATION_INVALID with a problem per element (engine/migrate.py).
- **Then each instance**, through the command executor like every other change
  (`MigrateInstance`), so the move of one instance is atomic, a concurrent step on it is
  serialised, and an instance that was migrated meanwhile is skipped (stale). An instance
  at an element the plan does not map fails, with the problems named, and stays where it was.
- **Bounded and in batches**, as the bulk repairs (store/bulk.py): at most `limit` instances
  per request, `BATCH` per transaction, a cursor to go on with, a result per instance.
- **Preview.** `dry_run` validates every instance of the page against the plan and names
  those that would fail, moving nothing.

The waits move with the instance: jobs, timers, subscriptions and user tasks keep their
rows and ids (a worker's lock and a task's assignee survive), only their element (and a
job's task type, a subscription's message name) become the target's. Each instance's
history records `instance_migrated` with the actor and the versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import text

from legato.engine.commands import Command, MigrateInstance
from legato.engine.migrate import MigrationPlan, migrate, plan_migration
from legato.errors import LegatoError, MigrationInvalid
from legato.store.bulk import DEFAULT_BULK, SAMPLE, Bulk, BulkItem, BulkReport, check_bulk_limit
from legato.store.commands import Executor
from legato.store.database import Database
from legato.store.definitions import Definitions, StoredDefinition
from legato.store.pages import decode_cursor, encode_cursor
from legato.store.tenants import Visible, visible_clause
from legato.store.writer import ClaimNew, Handoff


class InstanceMigrations:
    """Plan and run migrations (module docstring)."""

    def __init__(self, database: Database, definitions: Definitions, executor: Executor, bulk: Bulk) -> None:
        self.database = database
        self.definitions = definitions
        self.executor = executor
        self.bulk = bulk

    def plan(
        self,
        key: str,
        *,
        from_version: int,
        to_version: int,
        mapping: Mapping[str, str] | None = None,
        generate: bool = True,
        tenant: str | None = None,
    ) -> tuple[MigrationPlan, StoredDefinition, StoredDefinition]:
        """The validated plan from one version of `key` to another, and the two definitions."""
        with self.database.read() as conn:
            source = self.definitions.latest(key, conn, from_version, tenant)
            target = self.definitions.latest(key, conn, to_version, tenant)
        if source.id == target.id:
            raise MigrationInvalid([{"element": None, "reason": f"from and to are both version {from_version}"}])
        if source.tenant != target.tenant:
            raise MigrationInvalid(
                [
                    {
                        "element": None,
                        "reason": f"version {from_version} is in tenant {source.tenant or 'shared'!r}, "
                        f"version {to_version} in {target.tenant or 'shared'!r}: an instance stays in its tenant",
                    }
                ]
            )
        plan = plan_migration(
            source.model,
            target.model,
            dict(mapping or {}),
            generate=generate,
            from_version=source.version,
            to_version=target.version,
        )
        return plan, source, target

    def migrate_instances(
        self,
        key: str,
        *,
        from_version: int,
        to_version: int,
        mapping: Mapping[str, str] | None = None,
        generate: bool = True,
        tenant: str | None = None,
        instance_ids: Sequence[str] = (),
        business_key: str | None = None,
        actor: str | None,
        now: datetime,
        limit: int = DEFAULT_BULK,
        cursor: str | None = None,
        dry_run: bool = False,
        visible: Visible = None,
        claim_new: ClaimNew | None = None,
    ) -> tuple[dict[str, Any], list[Handoff]]:
        """Migrate up to `limit` active instances of `from_version`, oldest first, after `cursor`.

        The answer is the bulk report (store/bulk.py) with the plan beside it: `mapping`
        (every source element and where it goes), the two versions and the tenant.
        """
        check_bulk_limit(limit)
        plan, source, target = self.plan(
            key, from_version=from_version, to_version=to_version, mapping=mapping, generate=generate, tenant=tenant
        )
        params: dict[str, Any] = {"source": source.id}
        clauses = ["i.definition_id = :source", "i.status = 'active'"]
        if visible is not None:
            clauses.append(visible_clause("i.tenant_id", visible, params))
        if tenant is not None:
            clauses.append("i.tenant_id = :only_tenant")
            params["only_tenant"] = tenant
        if business_key is not None:
            clauses.append("i.business_key = :business_key")
            params["business_key"] = business_key
        if instance_ids:
            names = [f"id_{n}" for n in range(len(instance_ids))]
            clauses.append(f"i.id IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, instance_ids, strict=True))
        with self.database.read() as conn:
            total, exact = self.bulk.search.count(conn, "instances i", clauses, params, capped=True)
            if cursor is not None:
                at, last_id = decode_cursor("migrate-instances", cursor, (float, str))
                clauses.append("(i.created_at > :c_at OR (i.created_at = :c_at AND i.id > :c_id))")
                params.update(c_at=at, c_id=last_id)
            rows = conn.execute(
                text(
                    f"SELECT i.id, i.created_at FROM instances i WHERE {' AND '.join(clauses)} "
                    "ORDER BY i.created_at, i.id LIMIT :limit"
                ),
                {**params, "limit": limit + 1},
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor("migrate-instances", [rows[-1].created_at, rows[-1].id]) if more else None
        report = BulkReport(
            action="migrate",
            dry_run=dry_run,
            matched=len(rows),
            total=total,
            total_exact=exact,
            next_cursor=next_cursor,
        )
        handoffs: list[Handoff] = []
        if dry_run:
            report = replace(report, ids=[row.id for row in rows[:SAMPLE]], items=self._preview(plan, rows, now, actor))
        else:
            targets: list[tuple[int | str, str, Command]] = [
                (row.id, row.id, MigrateInstance(plan=plan, source_id=source.id, target_id=target.id, actor=actor))
                for row in rows
            ]
            items, handoffs = self.bulk.run_commands(targets, now, claim_new)
            report = replace(report, items=items)
        answer = report.to_dict()
        answer.update(
            process=key,
            from_version=source.version,
            to_version=target.version,
            tenant=source.tenant,
            mapping=dict(sorted(plan.mapping.items())),
        )
        return answer, handoffs

    def _preview(self, plan: MigrationPlan, rows: Sequence[Any], now: datetime, actor: str | None) -> list[BulkItem]:
        """The instances of the page that the plan cannot move, and why; nothing is written."""
        states = self.executor.peek([row.id for row in rows])
        failing = []
        for row in rows:
            state = states.get(row.id)
            if state is None:
                continue
            try:
                migrate(plan, state, now, actor)
            except LegatoError as exc:
                failing.append(
                    BulkItem(
                        id=row.id,
                        instance_id=row.id,
                        result="failed",
                        code=exc.code,
                        reason=exc.message,
                        problems=getattr(exc, "problems", None),
                    )
                )
        return failing


__all__ = ["InstanceMigrations"]
