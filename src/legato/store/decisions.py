"""Decision models (DMN): deployed, versioned, immutable once stored, evaluated by decision id.

One DMN file is one decision model, keyed by the id of its `definitions` element. Deploying
works as for processes (store/definitions.py): the same model again is a no-op, a changed
one becomes version N+1. The checksum is taken over what the decisions mean (the stored
model without line numbers, decisions in id order), so re-indenting the XML or moving a
box of the diagram is not a new version.

Beside the models, the `decisions` table lists the decision ids of every model version, so
that a decision is found by its id alone: the newest deployment that holds it wins, from
whichever file (decisions are versioned by id, as in Camunda 8). A decision dropped from a
file stays evaluable at the last version that had it.

An evaluation made for a process instance (a business rule task) is kept in
`decision_evaluations` with the rules that matched: the audit trail of why the instance
went the way it did. It is written when the decision is evaluated, before the job's result
commits, so a job that runs twice (a lost lock, a retry) is recorded twice.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.errors import DecisionNotFound, EvaluationError, ModelInvalid, Problem
from legato.model.dmn import DecisionModel, evaluate
from legato.store.codec import dumps, from_epoch, loads, to_epoch
from legato.store.database import Database
from legato.store.tenants import Visible, visible_clause

__all__ = ["DecisionDeployment", "Decisions", "StoredDecisionModel", "checksum"]


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredDecisionModel:
    """One deployed version of a decision model."""

    id: int
    key: str
    version: int
    name: str | None
    checksum: str
    deployed_at: datetime
    model: DecisionModel = field(repr=False, compare=False)
    tenant: str | None = None  # None: the shared tenant

    @property
    def decisions(self) -> tuple[str, ...]:
        """The ids of the decisions this version holds, in the file's order."""
        return tuple(self.model.decisions)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "tenant": self.tenant,
            "version": self.version,
            "name": self.name,
            "checksum": self.checksum,
            "deployed_at": self.deployed_at.isoformat(),
            "decisions": [{"id": decision.id, "name": decision.name} for decision in self.model.decisions.values()],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionDeployment:
    """What deploying a DMN file did: a new version (`created`), or none (unchanged).

    `warnings` are what the import skipped (vendor extensions, item definitions); they
    do not stop a deploy. Printing it gives one line for a person.
    """

    stored: StoredDecisionModel
    created: bool
    warnings: tuple[Problem, ...] = ()

    @property
    def key(self) -> str:
        return self.stored.key

    @property
    def version(self) -> int:
        return self.stored.version

    @property
    def decisions(self) -> tuple[str, ...]:
        return self.stored.decisions

    def summary(self) -> dict[str, Any]:
        """The API's answer to the deploy: `kind` tells it from a process deployment."""
        return {
            "kind": "decisions",
            **self.stored.summary(),
            "created": self.created,
            "warnings": [
                {"element": warning.element, "message": warning.message, "line": warning.line}
                for warning in self.warnings
            ],
        }

    def __str__(self) -> str:
        verb = "deployed" if self.created else "unchanged"
        return f"{verb} decisions {self.key} version {self.version}: {', '.join(self.decisions)}"


class Decisions:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._by_id: dict[int, StoredDecisionModel] = {}
        self._lock = threading.Lock()

    # -- deploying -------------------------------------------------------------------------

    def check(self, model: DecisionModel) -> None:
        """What `deploy` refuses a model for beyond reading it, without storing anything."""
        if not model.decisions:
            raise ModelInvalid([Problem(element=model.id, message="the DMN file defines no decision")])

    def deploy(
        self, model: DecisionModel, *, source: str, now: datetime, tenant: str | None = None
    ) -> DecisionDeployment:
        """Store `model` as the next version of its key in `tenant` (None: the shared tenant),
        unless it equals the latest one there; versions count per tenant."""
        self.check(model)
        digest = checksum(model)
        with self.database.write() as conn:
            if not self.database.is_sqlite:
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"dmn:{tenant or ''}/{model.id}"}
                )
            latest = conn.execute(
                text(
                    "SELECT id, version, checksum FROM decision_models WHERE key = :key "
                    "AND COALESCE(tenant_id, '') = :tenant ORDER BY version DESC LIMIT 1"
                ),
                {"key": model.id, "tenant": tenant or ""},
            ).first()
            if latest is not None and latest.checksum == digest:
                return DecisionDeployment(stored=self._load(conn, latest.id), created=False)
            model_id = conn.execute(
                text(
                    "INSERT INTO decision_models (key, version, name, checksum, source, model, deployed_at, "
                    "tenant_id) VALUES (:key, :version, :name, :checksum, :source, :model, :at, :tenant) RETURNING id"
                ),
                {
                    "key": model.id,
                    "version": 1 if latest is None else latest.version + 1,
                    "name": model.name,
                    "checksum": digest,
                    "source": source,
                    "model": dumps(model.to_dict()),
                    "at": to_epoch(now),
                    "tenant": tenant,
                },
            ).scalar_one()
            conn.execute(
                text("INSERT INTO decisions (model_id, decision_id, name) VALUES (:model, :decision, :name)"),
                [
                    {"model": model_id, "decision": decision.id, "name": decision.name}
                    for decision in model.decisions.values()
                ],
            )
            return DecisionDeployment(stored=self._load(conn, model_id), created=True)

    # -- reading ---------------------------------------------------------------------------

    def latest(self, decision_id: str, tenant: str | None = None, *, exact: bool = False) -> StoredDecisionModel:
        """The newest deployed model version that holds `decision_id`, in `tenant` first, then
        in the shared tenant (as Camunda resolves a business rule task's decision); with
        `exact`, in `tenant` only (a business rule task's fixed tenant)."""
        within = "= :tenant" if exact else "IN (:tenant, '')"
        with self.database.read() as conn:
            row = conn.execute(
                text(
                    "SELECT s.model_id FROM decisions s JOIN decision_models m ON m.id = s.model_id "
                    f"WHERE s.decision_id = :decision AND COALESCE(m.tenant_id, '') {within} "
                    "ORDER BY m.tenant_id IS NULL, s.model_id DESC LIMIT 1"
                ),
                {"decision": decision_id, "tenant": tenant or ""},
            ).first()
            if row is None:
                if exact:
                    raise DecisionNotFound(
                        f"no decision {decision_id!r} is deployed in tenant {tenant!r}",
                        details={"decision": decision_id, "tenant": tenant},
                    )
                raise DecisionNotFound(f"no decision {decision_id!r} is deployed", details={"decision": decision_id})
            return self._cached(conn, row.model_id)

    def list(self, *, all_versions: bool = False, visible: Visible = None) -> list[StoredDecisionModel]:
        """The latest version of each decision model per tenant, or every version, of the
        tenants in `visible` (None: all) and the shared tenant."""
        params: dict[str, Any] = {}
        query = f"SELECT id FROM decision_models d WHERE {visible_clause('d.tenant_id', visible, params)}"
        if not all_versions:
            query += (
                " AND version = (SELECT MAX(version) FROM decision_models e WHERE e.key = d.key "
                "AND COALESCE(e.tenant_id, '') = COALESCE(d.tenant_id, ''))"
            )
        query += " ORDER BY key, COALESCE(tenant_id, ''), version"
        with self.database.read() as conn:
            return [self._cached(conn, row.id) for row in conn.execute(text(query), params)]

    def source(self, key: str, version: int | None = None, tenant: str | None = None) -> str:
        """The DMN XML a version was deployed from (the latest by default), of `tenant` first."""
        query = "SELECT source FROM decision_models WHERE key = :key AND COALESCE(tenant_id, '') IN (:tenant, '')"
        query += " AND version = :version" if version is not None else ""
        query += " ORDER BY tenant_id IS NULL, version DESC LIMIT 1"
        with self.database.read() as conn:
            found = conn.execute(text(query), {"key": key, "version": version, "tenant": tenant or ""}).scalar()
        if found is None:
            which = f"version {version} of " if version is not None else ""
            raise DecisionNotFound(f"no {which}decision model {key!r} is deployed", details={"key": key})
        return str(found)

    # -- evaluating ------------------------------------------------------------------------

    def evaluate(
        self,
        decision_id: str,
        variables: Mapping[str, Any],
        tenant: str | None = None,
        *,
        exact: bool = False,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Evaluate the latest deployed version of a decision against `variables`.

        Returns `{decision, name, key, version, value, matched_rules, required, entries}`
        (entries: Camunda 7's shape of the result, DecisionResult.entries). Raises
        DecisionNotFound for an unknown id, EvaluationError (naming the rules) when the
        decision fails on these variables.
        """
        stored = self.latest(decision_id, tenant, exact=exact)
        try:
            result = evaluate(stored.model, decision_id, variables, now=now)
        except EvaluationError as error:
            details = {**error.details, "decision": decision_id, "key": stored.key, "version": stored.version}
            where = f" (decision model {stored.key!r} version {stored.version})"
            raise EvaluationError(error.message + where, details=details) from error
        return {
            "decision": result.decision_id,
            "name": result.decision_name,
            "key": stored.key,
            "tenant": stored.tenant,
            "version": stored.version,
            "value": result.value,
            "matched_rules": list(result.matched_rules),
            "required": [required.to_dict() for required in result.required],
            "entries": [dict(entry) for entry in result.entries],
        }

    def record(
        self,
        result: Mapping[str, Any],
        *,
        instance_id: str | None,
        element: str | None,
        job_id: str | None,
        attempt: int | None,
        now: datetime,
        tenant: str | None = None,
    ) -> None:
        """Keep an evaluation (a result of `evaluate`) in the audit trail of an instance of `tenant`."""
        with self.database.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO decision_evaluations (decision_id, model_key, model_version, instance_id, element, "
                    "job_id, attempt, result, evaluated_at, tenant_id) VALUES (:decision, :key, :version, :instance, "
                    ":element, :job, :attempt, :result, :at, :tenant)"
                ),
                {
                    "decision": result["decision"],
                    "key": result["key"],
                    "version": result["version"],
                    "instance": instance_id,
                    "element": element,
                    "job": job_id,
                    "attempt": attempt,
                    "result": self._result(
                        {name: result.get(name) for name in ("name", "value", "matched_rules", "required")}
                    ),
                    "at": to_epoch(now),
                    "tenant": tenant,
                },
            )

    def _result(self, result: dict[str, Any]) -> str:
        """An evaluation as stored: sealed whole with encryption at rest on, as the values the
        decision saw and gave may be sensitive and a decision has no sensitive names."""
        sealer = self.database.sealer
        return dumps(result) if sealer is None else sealer.seal_document(result)

    def evaluations(
        self, *, instance_id: str | None = None, limit: int = 100, visible: Visible = None
    ) -> builtins.list[dict[str, Any]]:
        """Recorded evaluations, oldest first: of one instance, or the latest `limit` of all,
        of the tenants in `visible` (None: all) and the shared tenant."""
        params: dict[str, Any] = {"instance": instance_id, "limit": limit}
        seen = visible_clause("tenant_id", visible, params)
        if instance_id is not None:
            query = (
                f"SELECT * FROM decision_evaluations WHERE instance_id = :instance AND {seen} ORDER BY id LIMIT :limit"
            )
        else:
            query = (
                f"SELECT * FROM (SELECT * FROM decision_evaluations WHERE {seen} ORDER BY id DESC LIMIT :limit) e "
                "ORDER BY id"
            )
        with self.database.read() as conn:
            rows = conn.execute(text(query), params).all()
        evaluations = []
        for row in rows:
            result = self.database.opened(loads(row.result)) or {}
            evaluations.append(
                {
                    "id": row.id,
                    "decision": row.decision_id,
                    "name": result.get("name"),
                    "key": row.model_key,
                    "tenant": row.tenant_id,
                    "version": row.model_version,
                    "instance_id": row.instance_id,
                    "element": row.element,
                    "job_id": row.job_id,
                    "attempt": row.attempt,
                    "value": result.get("value"),
                    "matched_rules": result.get("matched_rules", []),
                    "required": result.get("required", []),
                    "evaluated_at": (from_epoch(row.evaluated_at) or datetime.min).isoformat(),
                }
            )
        return evaluations

    def evaluations_by_id(self, ids: Sequence[int]) -> builtins.list[dict[str, Any]]:
        """The recorded evaluations with these ids, in the order given (a page of the search)."""
        if not ids:
            return []
        marks = ", ".join(f":e{n}" for n in range(len(ids)))
        with self.database.read() as conn:
            rows = conn.execute(
                text(f"SELECT * FROM decision_evaluations WHERE id IN ({marks})"),
                {f"e{n}": value for n, value in enumerate(ids)},
            ).all()
        by_id = {row.id: self.database.opened(_evaluation(row)) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    # -- the cache -------------------------------------------------------------------------

    def _cached(self, conn: Connection, model_id: int) -> StoredDecisionModel:
        cached = self._by_id.get(model_id)
        return cached if cached is not None else self._load(conn, model_id)

    def _load(self, conn: Connection, model_id: int) -> StoredDecisionModel:
        """A stored version, its model built (and every FEEL cell compiled) once per process."""
        row = conn.execute(
            text(
                "SELECT id, key, version, name, checksum, model, deployed_at, tenant_id FROM decision_models "
                "WHERE id = :id"
            ),
            {"id": model_id},
        ).one()
        stored = StoredDecisionModel(
            id=row.id,
            key=row.key,
            version=row.version,
            name=row.name,
            checksum=row.checksum,
            deployed_at=from_epoch(row.deployed_at) or datetime.min,
            model=DecisionModel.from_dict(loads(row.model)),
            tenant=row.tenant_id,
        )
        with self._lock:
            self._by_id[model_id] = stored
        return stored


def _evaluation(row: Any) -> dict[str, Any]:
    result = loads(row.result) or {}
    return {
        "id": row.id,
        "decision": row.decision_id,
        "name": result.get("name"),
        "key": row.model_key,
        "tenant": row.tenant_id,
        "version": row.model_version,
        "instance_id": row.instance_id,
        "element": row.element,
        "job_id": row.job_id,
        "attempt": row.attempt,
        "value": result.get("value"),
        "matched_rules": result.get("matched_rules", []),
        "required": result.get("required", []),
        "evaluated_at": (from_epoch(row.evaluated_at) or datetime.min).isoformat(),
    }


def checksum(model: DecisionModel) -> str:
    """A digest of what the model's decisions mean: lines and the order of decisions left out."""
    data = _without_lines(model.to_dict())
    data["decisions"] = sorted(data["decisions"], key=lambda decision: decision["id"])
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _without_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_lines(item) for key, item in value.items() if key != "line"}
    if isinstance(value, list):
        return [_without_lines(item) for item in value]
    return value
