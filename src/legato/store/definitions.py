"""Definitions: deployed, versioned, immutable once stored.

A redeploy whose model has the same checksum as the latest version is a no-op; a changed
one becomes version N+1. Instances keep running on the version they started on, because
an instance row points at a definition id, never at a key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.engine.expressions import timer_due
from legato.errors import DefinitionNotFound, EvaluationError, ModelInvalid, Problem
from legato.model import serialize
from legato.model.elements import ConditionalDefinition, MessageDefinition, SignalDefinition, TimerDefinition
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.store.codec import dumps, from_epoch, loads, to_epoch
from legato.store.database import Database
from legato.store.sql import fetch
from legato.store.tenants import Visible, visible_clause
from legato.store.variables import text_problem


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredDefinition:
    id: int
    key: str
    version: int
    name: str | None
    checksum: str
    source_format: str
    deployed_at: datetime
    model: ProcessDefinition
    tenant: str | None = None  # None: the shared tenant

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "tenant": self.tenant,
            "version": self.version,
            "name": self.name,
            "checksum": self.checksum,
            "source_format": self.source_format,
            "deployed_at": self.deployed_at.isoformat(),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Deployment:
    definition: StoredDefinition
    created: bool
    warnings: tuple[str, ...] = ()  # what an import left out (BPMN extensions Legato ignores)
    others: tuple[Deployment, ...] = ()  # the file's other processes (pools), deployed with it


# The caller's tenant first, then the shared one ('' stands for it: the unique index is on
# COALESCE(tenant_id, '')), as Camunda resolves a call activity's process.
_IN_TENANT = "key = :key AND COALESCE(tenant_id, '') IN (:tenant, '')"
_LATEST = f"SELECT id FROM definitions WHERE {_IN_TENANT} ORDER BY tenant_id IS NULL, version DESC LIMIT 1"
_VERSION = f"SELECT id FROM definitions WHERE {_IN_TENANT} AND version = :version ORDER BY tenant_id IS NULL LIMIT 1"
_SAME_TENANT = "COALESCE(tenant_id, '') = :tenant"
_LATEST_EXACT = f"SELECT id FROM definitions WHERE key = :key AND {_SAME_TENANT} ORDER BY version DESC LIMIT 1"
_NEWEST = (
    f"SELECT id, version, checksum FROM definitions WHERE key = :key AND {_SAME_TENANT} ORDER BY version DESC LIMIT 1"
)
_VERSION_EXACT = f"SELECT id FROM definitions WHERE key = :key AND {_SAME_TENANT} AND version = :version"


class Definitions:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._by_id: dict[int, StoredDefinition] = {}
        self._lock = threading.Lock()

    def deploy(
        self, model: ProcessDefinition, *, source: str, source_format: str, now: datetime, tenant: str | None = None
    ) -> Deployment:
        """Store `model` as the next version of its key in `tenant` (None: the shared tenant);
        versions count per tenant, so each tenant's first deploy of a key is version 1."""
        stored_form = self.check(model)
        checksum = serialize.checksum(model)
        with self.database.write() as conn:
            if not self.database.is_sqlite:
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{tenant or ''}/{model.id}"}
                )
            latest = conn.execute(text(_NEWEST), {"key": model.id, "tenant": tenant or ""}).first()
            if latest is not None and latest.checksum == checksum:
                return Deployment(definition=self._load(conn, latest.id), created=False)
            version = 1 if latest is None else latest.version + 1
            definition_id = conn.execute(
                text(
                    "INSERT INTO definitions (key, version, name, checksum, source_format, source, model, deployed_at, "
                    "tenant_id) VALUES (:key, :version, :name, :checksum, :format, :source, :model, :at, :tenant) "
                    "RETURNING id"
                ),
                {
                    "key": model.id,
                    "version": version,
                    "name": model.name,
                    "checksum": checksum,
                    "format": source_format,
                    "source": source,
                    "model": dumps(stored_form),
                    "at": to_epoch(now),
                    "tenant": tenant,
                },
            ).scalar_one()
            self._replace_start_events(conn, model, definition_id, now, tenant)
            return Deployment(definition=self._load(conn, definition_id), created=True)

    def check(self, model: ProcessDefinition) -> dict[str, Any]:
        """Everything `deploy` refuses a model for, without storing it (ModelInvalid naming the
        elements); the stored JSON form. A validate-only deploy runs exactly this."""
        validate(model)
        stored_form = serialize.to_dict(model)
        _check_model_text(stored_form)
        return stored_form

    def preview(self, model: ProcessDefinition, tenant: str | None = None) -> tuple[int, bool]:
        """The version a deploy of `model` into `tenant` would answer, and whether it would be
        new (False: it equals the latest version, which a deploy returns unchanged)."""
        with self.database.read() as conn:
            latest = conn.execute(text(_NEWEST), {"key": model.id, "tenant": tenant or ""}).first()
        if latest is None:
            return 1, True
        if latest.checksum == serialize.checksum(model):
            return int(latest.version), False
        return int(latest.version) + 1, True

    def _replace_start_events(
        self, conn: Connection, model: ProcessDefinition, definition_id: int, now: datetime, tenant: str | None
    ) -> None:
        """Message and timer start events follow the newest version (as in Camunda), of the
        tenant deployed to: another tenant's versions of the same key keep theirs."""
        same = {"key": model.id, "tenant": tenant or ""}
        versions = f"(SELECT id FROM definitions WHERE key = :key AND {_SAME_TENANT})"
        conn.execute(text(f"DELETE FROM start_events WHERE definition_id IN {versions}"), same)
        conn.execute(text(f"DELETE FROM jobs WHERE kind = 'start_timer' AND definition_id IN {versions}"), same)
        if model.not_executable:
            return  # nothing starts a model that cannot run: no message, signal or timer starts it
        for event in model.start_events(None):
            for position, trigger in enumerate(event.triggers):  # a Multiple start event has several
                self._insert_start_trigger(conn, model, definition_id, event.id, position, trigger, now, tenant)

    def _insert_start_trigger(
        self,
        conn: Connection,
        model: ProcessDefinition,
        definition_id: int,
        element: str,
        position: int,
        trigger: object,
        now: datetime,
        tenant: str | None,
    ) -> None:
        if isinstance(trigger, MessageDefinition):
            kind, message = "message", trigger.message
        elif isinstance(trigger, SignalDefinition):
            kind, message = "signal", trigger.signal
        elif isinstance(trigger, ConditionalDefinition):
            kind, message = "conditional", trigger.condition  # evaluated by evaluate_conditions
        elif isinstance(trigger, TimerDefinition):
            kind, message = "timer", None
            try:  # an expression sees no variables here, as in Camunda: none exist yet
                due = timer_due(trigger, {}, now, 0, now, element)
            except EvaluationError as error:
                raise ModelInvalid([Problem(element=element, message=error.message)]) from None
            if due is not None:
                conn.execute(
                    text(
                        "INSERT INTO jobs (id, definition_id, kind, element, due_at, attempts, created_at, "
                        "tenant_id) VALUES (:id, :definition, 'start_timer', :element, :due, 0, :now, :tenant)"
                    ),
                    {
                        "id": f"start:{definition_id}:{element}:1",
                        "definition": definition_id,
                        "element": element,
                        "due": to_epoch(due),
                        "now": to_epoch(now),
                        "tenant": tenant,
                    },
                )
        else:
            return
        conn.execute(
            text(
                "INSERT INTO start_events (definition_id, element, position, process_key, kind, message) "
                "VALUES (:definition, :element, :position, :key, :kind, :message)"
            ),
            {
                "definition": definition_id,
                "element": element,
                "position": position,
                "key": model.id,
                "kind": kind,
                "message": message,
            },
        )

    def by_id(self, definition_id: int, conn: Connection | None = None) -> StoredDefinition:
        cached = self._by_id.get(definition_id)
        if cached is not None:
            return cached
        if conn is not None:
            return self._load(conn, definition_id)
        with self.database.read() as read:
            return self._load(read, definition_id)

    def latest(
        self, key: str, conn: Connection, version: int | None = None, tenant: str | None = None, *, exact: bool = False
    ) -> StoredDefinition:
        """The latest version (or `version`) of `key` in `tenant`, else in the shared tenant;
        with `exact`, in `tenant` only (a call activity's fixed tenant)."""
        # on every start: the driver's cursor, not SQLAlchemy's statement machinery (store/sql.py)
        if version is None:
            rows = fetch(conn, _LATEST_EXACT if exact else _LATEST, {"key": key, "tenant": tenant or ""})
        else:
            sql = _VERSION_EXACT if exact else _VERSION
            rows = fetch(conn, sql, {"key": key, "version": version, "tenant": tenant or ""})
        if not rows:
            which = f"version {version} of " if version is not None else ""
            where = f" in tenant {tenant!r}" if exact and tenant is not None else ""
            details: dict[str, Any] = {"process": key, "version": version}
            if exact:
                details["tenant"] = tenant
            raise DefinitionNotFound(f"no {which}process {key!r} is deployed{where}", details=details)
        return self.by_id(rows[0][0], conn)

    def get(self, key: str, version: int | None = None, tenant: str | None = None) -> StoredDefinition:
        with self.database.read() as conn:
            return self.latest(key, conn, version, tenant)

    def source(self, key: str, version: int | None = None, tenant: str | None = None) -> tuple[str, str]:
        definition = self.get(key, version, tenant)
        with self.database.read() as conn:
            row = conn.execute(
                text("SELECT source, source_format FROM definitions WHERE id = :id"), {"id": definition.id}
            ).one()
        return row.source, row.source_format

    def list(
        self, *, all_versions: bool = False, visible: Visible = None, tenant: str | None = None
    ) -> list[StoredDefinition]:
        """The latest version of each key per tenant (or every version), of the tenants in
        `visible` (None: all) and the shared one; `tenant` narrows to that tenant alone."""
        params: dict[str, Any] = {}
        clauses = [visible_clause("d.tenant_id", visible, params)]
        if tenant is not None:
            clauses.append("d.tenant_id = :only")
            params["only"] = tenant
        if not all_versions:
            clauses.append(
                "d.version = (SELECT MAX(version) FROM definitions e WHERE e.key = d.key "
                "AND COALESCE(e.tenant_id, '') = COALESCE(d.tenant_id, ''))"
            )
        query = (
            f"SELECT id FROM definitions d WHERE {' AND '.join(clauses)} ORDER BY key, COALESCE(tenant_id, ''), version"
        )
        with self.database.read() as conn:
            return [self.by_id(row.id, conn) for row in conn.execute(text(query), params)]

    def _load(self, conn: Connection, definition_id: int) -> StoredDefinition:
        row = conn.execute(
            text(
                "SELECT id, key, version, name, checksum, source_format, model, deployed_at, tenant_id "
                "FROM definitions WHERE id = :id"
            ),
            {"id": definition_id},
        ).first()
        if row is None:
            raise DefinitionNotFound(f"no definition with id {definition_id}")
        stored = StoredDefinition(
            id=row.id,
            key=row.key,
            version=row.version,
            name=row.name,
            checksum=row.checksum,
            source_format=row.source_format,
            deployed_at=from_epoch(row.deployed_at) or datetime.min,
            model=serialize.from_dict(loads(row.model)),
            tenant=row.tenant_id,
        )
        with self._lock:
            self._by_id[definition_id] = stored
        return stored


def _check_model_text(stored_form: Any) -> None:
    """Refuse a model whose text the database cannot hold, naming the element and the field.

    Ids, names and message names go into text columns (PostgreSQL refuses NUL there), and
    a lone surrogate cannot be written as JSON at all; refused here, at deploy, they can
    never fail an instance later at run time.
    """
    problems: list[Problem] = []

    def walk(value: Any, element: str | None, field: str) -> None:
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                problems.append(Problem(element=element, message=f"{field or 'a value'} {problem}"))
        elif isinstance(value, dict):
            here = (
                value.get("id") if isinstance(value.get("id"), str) and text_problem(value["id"]) is None else element
            )
            for key, item in value.items():
                if isinstance(key, str) and text_problem(key) is not None:
                    problems.append(
                        Problem(element=here, message=f"a key of {field or 'the model'} {text_problem(key)}")
                    )
                else:
                    walk(item, here, str(key))
        elif isinstance(value, list):
            for item in value:
                walk(item, element, field)

    walk(stored_form, None, "")
    if problems:
        raise ModelInvalid(problems[:20])
