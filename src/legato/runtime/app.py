"""`Legato`: the Python entry point. Deploy, start, message, complete, query, run a worker.

    app = Legato("orders.db")

    @app.handler("credit.check")
    def check_credit(job):
        return {"credit_ok": job.variables["amount"] < 5000}

    app.deploy("order_to_cash.yaml")
    with app.running():                       # the in-process worker, in a background thread
        started = app.start("order_to_cash", {"amount": 120})
        app.wait(started.instance_id)

Everything goes through the store's transactions, so the same calls work whether the
worker runs here, in another process, or on another machine.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from legato.errors import InstanceNotFound, InvalidFilter, InvalidInput, TaskNotFound
from legato.formats.xml_safety import decode_xml
from legato.model import serialize
from legato.model.process import ProcessDefinition
from legato.runtime.clock import Clock, SystemClock
from legato.runtime.decisions import deploy_decisions, dmn_source
from legato.runtime.handlers import HandlerFunction, Handlers
from legato.runtime.log_throttle import LogThrottle
from legato.runtime.task_work import Acting, TaskWork
from legato.runtime.worker import Worker, WorkerSettings
from legato.store import Deployment, Handoff, Started, StartRequest, Store
from legato.store.bulk import DEFAULT_BULK, BulkReport, IncidentFilter
from legato.store.codec import to_epoch
from legato.store.decisions import DecisionDeployment
from legato.store.search import InstanceFilter, VariableFilter
from legato.store.tenants import Visible, tenant_id
from legato.store.variables import check_variables
from legato.store.workers import unserved_warnings

if TYPE_CHECKING:
    from legato.runtime.external_tasks import ExternalTasks

MAX_MODEL_BYTES = 5 * 1024 * 1024

jobs_log = logging.getLogger("legato.jobs")


class Legato(TaskWork):
    def __init__(
        self,
        database: str | Store = "legato.db",
        *,
        clock: Clock | None = None,
        handlers: Handlers | None = None,
        worker_settings: WorkerSettings | None = None,
        actor: str = "python",
        sensitive: Sequence[str] | None = None,
    ) -> None:
        """`sensitive`: glob patterns of variable names to mask in every process
        (docs/security.md, "Sensitive data"); for a `Store` passed in, give them to the Store."""
        if isinstance(database, Store):
            if sensitive is not None:
                raise InvalidInput("pass sensitive=... to the Store when you pass a Store")
            self.store = database
        else:
            self.store = Store(database, sensitive=sensitive or ())
        self.clock = clock or SystemClock()
        self.handlers = handlers or Handlers()
        self.worker_settings = worker_settings or WorkerSettings()
        self.actor = actor
        self.worker: Worker | None = None
        self._external: ExternalTasks | None = None
        self._awaited: set[str] = set()  # instances a wait() call is blocked on
        self._ended: set[str] = set()
        self._ended_cond = threading.Condition()
        self._unserved_log = LogThrottle(60.0)

    # -- handlers --------------------------------------------------------------------------

    def handler(self, task_type: str, *, timeout: float | None = None) -> Any:
        """Decorator registering a service-task handler for `task_type`."""
        return self.handlers(task_type, timeout=timeout)

    def register(self, task_type: str, function: HandlerFunction, *, timeout: float | None = None) -> None:
        self.handlers.register(task_type, function, timeout=timeout)

    # -- definitions -----------------------------------------------------------------------

    @overload
    def deploy(
        self, model: ProcessDefinition, *, source_format: str | None = None, tenant: str | None = None
    ) -> Deployment: ...

    @overload
    def deploy(
        self, model: str | Path, *, source_format: Literal["yaml", "json", "bpmn"], tenant: str | None = None
    ) -> Deployment: ...

    @overload
    def deploy(
        self, model: str | Path, *, source_format: Literal["dmn"], tenant: str | None = None
    ) -> DecisionDeployment: ...

    @overload
    def deploy(
        self, model: str | Path, *, source_format: str | None = None, tenant: str | None = None
    ) -> Deployment | DecisionDeployment: ...

    def deploy(
        self, model: ProcessDefinition | str | Path, *, source_format: str | None = None, tenant: str | None = None
    ) -> Deployment | DecisionDeployment:
        """Deploy a model: a ProcessDefinition, a path to a YAML/BPMN file, or YAML text.

        A DMN file (`.dmn`, or XML in a DMN namespace) deploys its decisions instead and
        returns a `DecisionDeployment` (docs/dmn.md). `tenant` deploys for that tenant
        (it must exist); None, the shared tenant every tenant can use.
        """
        tenant = self._tenant(tenant)
        dmn = dmn_source(model, source_format)
        if dmn is not None:
            return deploy_decisions(self.store, dmn, now=self.clock.now(), tenant=tenant)
        definition, source, fmt = load_model(model, source_format)
        if fmt != "bpmn":
            return self.store.definitions.deploy(
                definition, source=source, source_format=fmt, now=self.clock.now(), tenant=tenant
            )
        return deploy_processes(self.store, parse_models_with_warnings(source, fmt), source, self.clock.now(), tenant)

    def export_bpmn(
        self, process: str, version: int | None = None, tenant: str | None = None, *, flavour: str | None = None
    ) -> str:
        """A deployed process as BPMN 2.0 XML with a diagram, which Camunda Modeler and bpmn.io open.

        A process deployed from BPMN gives back the document that was deployed, as it was: its
        ids, its extensions in their own flavour, its diagram, the other pools, message flows
        and artifacts of the file. One written in Python or YAML is generated, with an
        automatic layout where it was never drawn. `flavour` (one of
        `legato.formats.bpmn.FLAVOURS`, such as "camunda8") asks for a generated document in
        that flavour instead, also for a BPMN file: the conversion happens only on request.
        """
        from legato.formats.bpmn import FLAVOURS, dump_bpmn

        if flavour is not None and flavour not in FLAVOURS:
            raise InvalidInput(
                f"unknown flavour {flavour!r}: the flavours are {', '.join(FLAVOURS)}", details={"flavour": flavour}
            )
        stored = self.store.definitions.get(process, version, tenant)
        if flavour is None and stored.source_format == "bpmn":
            return self.store.definitions.source(process, stored.version, tenant)[0]
        return dump_bpmn(stored.model, flavour=flavour or "camunda8")

    # -- decisions -------------------------------------------------------------------------

    def evaluate_decision(
        self, decision_id: str, variables: Mapping[str, Any] | None = None, *, tenant: str | None = None
    ) -> dict[str, Any]:
        """Evaluate the latest deployed version of a DMN decision: `{value, matched_rules, version, ...}`,
        `tenant`'s version first, else the shared one."""
        if not isinstance(decision_id, str) or not decision_id:
            raise InvalidInput("a decision id is needed")
        given = dict(variables) if isinstance(variables, Mapping) else variables
        checked = check_variables(given, where="decision")
        return self.store.decisions.evaluate(decision_id, checked, self._tenant(tenant), now=self.clock.now())

    def decision_evaluations(self, instance_id: str, *, visible: Visible = None) -> list[dict[str, Any]]:
        """The decisions the business rule tasks of an instance evaluated, with the rules that matched."""
        return self.store.decisions.evaluations(instance_id=instance_id, visible=visible)

    # -- instances -------------------------------------------------------------------------

    def start(
        self,
        process: str,
        variables: Mapping[str, Any] | None = None,
        *,
        business_key: str | None = None,
        idempotency_key: str | None = None,
        version: int | None = None,
        actor: str | None = None,
        tenant: str | None = None,
    ) -> Started:
        """Start an instance in `tenant` (None: the shared tenant) of the tenant's latest
        version of `process`, or of the shared one when the tenant has none."""
        request = StartRequest(
            process=process,
            variables=check_variables(dict(variables) if variables is not None else None, where="start"),
            business_key=business_key,
            idempotency_key=idempotency_key,
            version=version,
            actor=actor or self.actor,
            tenant=self._tenant(tenant),
        )
        return self._start_checked([request])[0]

    def start_many(self, requests: Sequence[StartRequest]) -> list[Started]:
        """Start many instances in one transaction (bulk loads, benchmarks)."""
        for request in requests:
            check_variables(request.variables, where="start")
        return self._start_checked(requests)

    def _start_checked(self, requests: Sequence[StartRequest]) -> list[Started]:
        """Start requests whose variables were checked already (once, not per caller)."""
        started, handoffs = self.store.executor.start(requests, self.clock.now(), self._claim_new)
        self._handoff(started_handoffs=handoffs)
        self._note_ended([(s.instance_id, s.status) for s in started if s.status != "active"])
        if any(s.jobs for s in started):
            self._log_unserved(started)
        return started

    # -- live workers (store/workers.py) ------------------------------------------------------

    def workers(self, *, everyone: bool = False) -> list[dict[str, Any]]:
        """The live workers (in-process and external) with their task types and when last
        seen; `everyone` adds those not seen for a while (`live: false`)."""
        return self.store.workers.registered(to_epoch(self.clock.now()), everyone=everyone)

    def task_type_warnings(self, jobs: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """A warning per task type of these jobs (element, task type) that no live worker serves."""
        waiting = list(jobs)
        unserved = self.store.workers.unserved((task_type for _, task_type in waiting), to_epoch(self.clock.now()))
        return unserved_warnings(waiting, unserved) if unserved else []

    def waiting_warnings(self, *, visible: Visible = None) -> list[dict[str, Any]]:
        """A warning per task type that jobs wait on and no live worker serves (the incident
        list shows them: such a job never fails, so it never becomes an incident)."""
        waiting = self.store.workers.waiting(to_epoch(self.clock.now()), visible)
        return unserved_warnings(waiting, {task_type for _, task_type in waiting})

    def _log_unserved(self, started: Sequence[Started]) -> None:
        """Say in the log, once a minute per task type, that new jobs wait for a worker that is not there."""
        jobs = [(s.instance_id, element, task_type) for s in started for element, task_type in s.jobs]
        unserved = self.store.workers.unserved((t for _, _, t in jobs), to_epoch(self.clock.now()))
        for task_type in unserved:
            suppressed = self._unserved_log.allow(task_type)
            if suppressed is None:
                continue
            instance_id, element = next((i, e) for i, e, t in jobs if t == task_type)
            jobs_log.warning(
                "instance %s waits at %r on task type %r, which no live worker serves: it waits until a worker "
                "with a handler for it runs%s",
                instance_id,
                element,
                task_type,
                self._unserved_log.note(suppressed),
                extra={"instance_id": instance_id, "element": element},
            )

    def send_message(
        self,
        message: str,
        correlation_key: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
        within: Visible = None,
        origin: str | None = None,
        business_key: str | None = None,
    ) -> dict[str, Any]:
        """Correlate a message; `within` limits it to those tenants' instances and processes
        (and the shared ones), `origin` is the tenant a shared process it starts runs in,
        `business_key` narrows it to instances with that business key (Camunda 7's way)."""
        if not isinstance(message, str) or not message:
            raise InvalidInput("a message needs a name")
        result, handoffs = self.store.executor.correlate(
            message=message,
            correlation_key=correlation_key,
            variables=check_variables(dict(variables) if variables is not None else None, where="message"),
            now=self.clock.now(),
            actor=actor or self.actor,
            claim_new=self._claim_new,
            within=within,
            origin=self._tenant(origin),
            business_key=business_key,
        )
        self._handoff(started_handoffs=handoffs)
        return result

    def evaluate_conditions(
        self,
        variables: Mapping[str, Any],
        *,
        actor: str | None = None,
        within: Visible = None,
        origin: str | None = None,
    ) -> list[Started]:
        """Start every process whose conditional start event holds for `variables`."""
        started, handoffs = self.store.executor.evaluate_conditions(
            variables=check_variables(dict(variables), where="conditions"),
            now=self.clock.now(),
            actor=actor or self.actor,
            claim_new=self._claim_new,
            within=within,
            origin=self._tenant(origin),
        )
        self._handoff(started_handoffs=handoffs)
        return started

    def broadcast_signal(
        self,
        signal: str,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
        within: Visible = None,
        origin: str | None = None,
    ) -> dict[str, Any]:
        """Send a signal to every instance waiting for it and start every process with that
        signal start event; returns how many of each (both may be zero: a signal that no
        one catches is not an error, unlike a message)."""
        if not isinstance(signal, str) or not signal:
            raise InvalidInput("a signal needs a name")
        result, handoffs = self.store.executor.broadcast(
            signal=signal,
            variables=check_variables(dict(variables) if variables is not None else None, where="signal"),
            now=self.clock.now(),
            actor=actor or self.actor,
            claim_new=self._claim_new,
            within=within,
            origin=self._tenant(origin),
        )
        self._handoff(started_handoffs=handoffs)
        return result

    def complete_task(
        self,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        actor: str | None = None,
        visible: Visible = None,
        user: Acting = None,
    ) -> None:
        """Complete an open task. With `user` (a name or a `TaskActor`) their rules apply:
        only the assignee completes, unless an operator (store/task_actions.py); without,
        the program completes it as `actor`."""
        handoffs = self.store.complete_task(
            task_id,
            check_variables(dict(variables) if variables is not None else None, where="task completion"),
            actor=actor or self.actor,
            now=self.clock.now(),
            claim_new=self._claim_new,
            visible=visible,
            by=None if user is None else self.task_actor(user),
        )
        self._handoff(started_handoffs=handoffs)

    def retry_incident(
        self,
        incident_id: int,
        *,
        variables: Mapping[str, Any] | None = None,
        actor: str | None = None,
        visible: Visible = None,
    ) -> None:
        """Run the failed element again; `variables` (the fix) are set in the same step first."""
        handoffs = self.store.retry_incident(
            incident_id,
            actor=actor or self.actor,
            now=self.clock.now(),
            claim_new=self._claim_new,
            variables=check_variables(dict(variables), where="incident retry") if variables else None,
            visible=visible,
        )
        self._handoff(started_handoffs=handoffs)
        if self.worker is not None:
            self.worker.wake()

    def set_variables(
        self,
        instance_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        remove: Sequence[str] = (),
        actor: str | None = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Set and remove an active instance's variables (a repair); returns the instance."""
        handoffs = self.store.set_variables(
            instance_id,
            check_variables(dict(variables or {}), where="variables"),
            tuple(remove),
            actor=actor or self.actor,
            now=self.clock.now(),
            claim_new=self._claim_new,
            visible=visible,
        )
        self._handoff(started_handoffs=handoffs)
        return self.instance(instance_id)

    def retry_incidents(
        self,
        *,
        process: str | None = None,
        version: int | None = None,
        element: str | None = None,
        error_type: str | None = None,
        error: str | None = None,
        business_key: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        instance_id: str | None = None,
        tenant: str | None = None,
        all: bool = False,
        limit: int = DEFAULT_BULK,
        cursor: str | None = None,
        dry_run: bool = False,
        variables: Mapping[str, Any] | None = None,
        actor: str | None = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Retry, in bulk, the open incidents the filters select (all of them without any), at
        most `limit` per call: pass the answer's `next_cursor` back for the rest. `dry_run` only
        counts them and names the first; `variables` (a common fix) are set on each instance
        in the same step as its retry. The answer has a result per incident (docs/repair.md).
        Without any filter, `all=True` is needed: a forgotten filter must not retry everything."""
        where = IncidentFilter(
            process=process,
            version=version,
            element=element,
            error_type=error_type,
            error=error,
            business_key=business_key,
            started_after=started_after,
            started_before=started_before,
            instance_id=instance_id,
            tenant=tenant_id(tenant),
        )
        _check_selection(where != IncidentFilter(), all)
        report, handoffs = self.store.bulk.retry_incidents(
            where,
            actor=actor or self.actor,
            now=self.clock.now(),
            limit=limit,
            cursor=cursor,
            dry_run=dry_run,
            variables=check_variables(dict(variables), where="incident retry") if variables else None,
            visible=visible,
            claim_new=self._claim_new,
        )
        self._handoff(started_handoffs=handoffs)
        if not dry_run:
            _log_bulk("retry", actor or self.actor, report)
            if self.worker is not None and report.count("done"):
                self.worker.wake()
        return report.to_dict()

    def cancel_instances(
        self,
        *,
        process: str | None = None,
        version: int | None = None,
        business_key: str | None = None,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        waiting_at: str | None = None,
        error: str | None = None,
        variables: Sequence[str] = (),
        tenant: str | None = None,
        all: bool = False,
        limit: int = DEFAULT_BULK,
        cursor: str | None = None,
        dry_run: bool = False,
        reason: str | None = None,
        actor: str | None = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Cancel, in bulk, the active instances the filters select, at most `limit` per call
        (pass `next_cursor` back for the rest); `dry_run` only counts them and names the first.
        `variables` are `name:value` filters as in the instance list (`amount:100`). Without any
        filter, `all=True` is needed."""
        where = InstanceFilter(
            process=process,
            version=version,
            business_key=business_key,
            started_after=started_after,
            started_before=started_before,
            waiting_at=waiting_at,
            error=error,
            variables=tuple(VariableFilter.parse(raw) for raw in variables),
            tenant=tenant_id(tenant),
            visible=visible,
        )
        _check_selection(dataclasses.replace(where, visible=None) != InstanceFilter(), all)
        report = self.store.bulk.cancel_instances(
            where,
            actor=actor or self.actor,
            now=self.clock.now(),
            limit=limit,
            cursor=cursor,
            dry_run=dry_run,
            reason=reason,
        )
        if not dry_run:
            _log_bulk("cancel", actor or self.actor, report)
        return report.to_dict()

    def modify_instance(
        self,
        instance_id: str,
        *,
        cancel: Sequence[str] = (),
        start_before: Sequence[str] = (),
        reason: str | None = None,
        actor: str | None = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Move tokens (Camunda's "modify instance"): cancel the tokens at the elements of
        `cancel` with what they wait for, then start a token before each element of
        `start_before`; all of it at once, or nothing (422 MODIFICATION_INVALID names the
        element). Returns the instance."""
        handoffs = self.store.modify(
            instance_id,
            cancel=_names(cancel, "cancel"),
            start_before=_names(start_before, "start_before"),
            reason=reason,
            actor=actor or self.actor,
            now=self.clock.now(),
            claim_new=self._claim_new,
            visible=visible,
        )
        self._handoff(started_handoffs=handoffs)
        if self.worker is not None:
            self.worker.wake()
        return self.instance(instance_id)

    def migrate_instances(
        self,
        process: str,
        *,
        from_version: int,
        to_version: int,
        mapping: Mapping[str, str] | None = None,
        generate: bool = True,
        instance_ids: Sequence[str] = (),
        business_key: str | None = None,
        tenant: str | None = None,
        limit: int = DEFAULT_BULK,
        cursor: str | None = None,
        dry_run: bool = False,
        actor: str | None = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Move the active instances of one version of `process` to another (Camunda 7's
        migration), at most `limit` per call: pass the answer's `next_cursor` back for the rest.

        `mapping` (source element id -> target element id) goes over the mapping generated
        for the ids both versions share (`generate=False`: only `mapping`). The plan is
        checked first (422 MIGRATION_INVALID names each element at fault), then each
        instance: a result per instance, `failed` with its `problems` when one of its
        elements is not mapped. `dry_run` checks every instance of the page and moves none
        (docs/repair.md)."""
        report, handoffs = self.store.migrations.migrate_instances(
            process,
            from_version=from_version,
            to_version=to_version,
            mapping=_mapping(mapping),
            generate=generate,
            tenant=tenant_id(tenant),
            instance_ids=tuple(instance_ids),
            business_key=business_key,
            actor=actor or self.actor,
            now=self.clock.now(),
            limit=limit,
            cursor=cursor,
            dry_run=dry_run,
            visible=visible,
            claim_new=self._claim_new,
        )
        self._handoff(started_handoffs=handoffs)
        if not dry_run:
            jobs_log.info(
                "migration of %s from version %s to %s by %s: %d done, %d skipped, %d failed%s",
                process,
                report["from_version"],
                report["to_version"],
                actor or self.actor,
                report["done"],
                report["skipped"],
                report["failed"],
                ", more match" if report["next_cursor"] else "",
            )
            if self.worker is not None and report["done"]:
                self.worker.wake()
        return report

    def cancel(
        self, instance_id: str, *, reason: str | None = None, actor: str | None = None, visible: Visible = None
    ) -> None:
        """Cancel an instance; `visible` (the caller's tenants) makes another tenant's not found."""
        self.store.cancel(instance_id, actor=actor or self.actor, now=self.clock.now(), reason=reason, visible=visible)

    def instance(self, instance_id: str, *, visible: Visible = None) -> dict[str, Any]:
        """One instance with its history, open tasks and incidents, jobs and subscriptions.

        A service job's `max_attempts` comes from its element's retry policy in the
        instance's version (an external worker may decide its own retries; see
        docs/workers.md), so `attempts` of `max_attempts` says how close it is to an incident.
        """
        result = self.store.queries.instance(instance_id, visible=visible)
        model = self.store.definitions.by_id(result["definition_id"]).model
        for job in result["jobs"]:
            element = model.elements.get(job["element"])
            retry = getattr(element, "retry", None) if job["kind"] == "service" else None
            job["max_attempts"] = retry.max_attempts if retry is not None else None
        waiting = [
            (j["element"], j["task_type"])
            for j in result["jobs"]
            if j["task_type"] and j["due_at"] and not j["locked_by"]
        ]
        result["warnings"] = self.task_type_warnings(waiting) if waiting and result["status"] == "active" else []
        return result

    def instances(self, **filters: Any) -> list[dict[str, Any]]:
        return self.store.queries.instances(**filters)

    def tasks(self, **filters: Any) -> list[dict[str, Any]]:
        return self.store.queries.tasks(**filters)

    def task_for(self, instance_id: str, element: str | None = None) -> dict[str, Any]:
        """The open user task of an instance (at `element`): handy in tests and scripts."""
        for task in self.store.queries.tasks(instance_id=instance_id):
            if element is None or task["element"] == element:
                return task
        raise TaskNotFound(f"instance {instance_id} has no open task" + (f" at {element!r}" if element else ""))

    def incidents(self, **filters: Any) -> list[dict[str, Any]]:
        return self.store.queries.incidents(**filters)

    def wait(self, instance_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Block until an instance has ended (a worker must run somewhere); return it.

        The in-process worker announces ended instances at once; an instance run by
        another process is noticed by polling its row, every 50 ms at most.
        """
        deadline = time.monotonic() + timeout
        # The in-process worker announces every instance it ends; reading the row is only
        # for an instance another process runs, so with a local worker it is a slow fallback.
        poll = 0.05 if self.worker is not None else 0.002
        with self._ended_cond:
            self._awaited.add(instance_id)
        try:
            # It may have ended already, in the caller's own transaction (a message that
            # completed it) or before the worker could announce it.
            queries = self.store.queries
            if queries.status(instance_id) != "active":
                return queries.instance(instance_id, with_history=False)
            while True:
                with self._ended_cond:
                    if self._ended_cond.wait_for(lambda: instance_id in self._ended, timeout=poll):
                        return self.store.queries.instance(instance_id, with_history=False)
                if queries.status(instance_id) != "active":
                    return queries.instance(instance_id, with_history=False)
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"instance {instance_id} did not end within {timeout} s")
                poll = min(poll * 2, 0.05)
        finally:
            with self._ended_cond:
                self._awaited.discard(instance_id)
                self._ended.discard(instance_id)

    # -- external workers -----------------------------------------------------------------

    @property
    def external_tasks(self) -> ExternalTasks:
        """Fetch-and-lock and the reports of workers in other processes (docs/workers.md)."""
        if self._external is None:
            from legato.runtime.external_tasks import ExternalTasks

            self._external = ExternalTasks(self)
        return self._external

    # -- the in-process worker -------------------------------------------------------------

    def start_worker(self) -> Worker:
        """Run a worker for this app's handlers in background threads."""
        if self.worker is None:
            self.worker = Worker(
                self.store, self.handlers, clock=self.clock, settings=self.worker_settings, on_commit=self._note_ended
            )
            self.worker.start()
        return self.worker

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    @contextmanager
    def running(self) -> Iterator[Legato]:
        self.start_worker()
        try:
            yield self
        finally:
            self.stop_worker()

    def close(self) -> None:
        self.stop_worker()
        self.store.close()

    # -- internals -------------------------------------------------------------------------

    def _tenant(self, tenant: str | None) -> str | None:
        """A tenant named by a caller, as stored; it must exist (404 TENANT_NOT_FOUND)."""
        found = tenant_id(tenant)
        if found is not None:
            self.store.tenants.get(found)
        return found

    def _claim_new(self, effect: Any) -> tuple[str, float] | None:
        worker = self.worker
        return None if worker is None else worker.claim_new(effect)

    def _handoff(self, *, started_handoffs: list[Handoff]) -> None:
        if self.worker is not None and started_handoffs:
            self.worker.accept(started_handoffs)

    def _note_ended(self, ended: list[tuple[str, str | None]]) -> None:
        if not ended:
            return
        with self._ended_cond:
            hits = [instance_id for instance_id, _ in ended if instance_id in self._awaited]
            if hits:
                self._ended.update(hits)
                self._ended_cond.notify_all()


def _names(elements: Sequence[str], field: str) -> tuple[str, ...]:
    """Element ids as given, checked to be a list of non-empty texts (a bare string is one id)."""
    if isinstance(elements, str):
        elements = (elements,)
    names = tuple(elements)
    if not all(isinstance(name, str) and name for name in names):
        raise InvalidInput(f"{field} takes element ids: non-empty texts")
    return names


def _mapping(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """A migration's instructions, checked to map element ids (non-empty texts) to element ids."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise InvalidInput("mapping takes source element ids to target element ids", details={"field": "mapping"})
    for source, target in mapping.items():
        if not (isinstance(source, str) and source and isinstance(target, str) and target):
            raise InvalidInput(
                "mapping takes source element ids to target element ids: non-empty texts",
                details={"field": "mapping"},
            )
    return dict(mapping)


def _check_selection(filtered: bool, everything: bool) -> None:
    if not filtered and not everything:
        raise InvalidFilter("name at least one filter, or pass all=True to act on every match", field="all")


def _log_bulk(action: str, actor: str, report: BulkReport) -> None:
    jobs_log.info(
        "bulk %s by %s: %d done, %d skipped, %d failed%s",
        action,
        actor,
        report.count("done"),
        report.count("skipped"),
        report.count("failed"),
        ", more match" if report.next_cursor else "",
    )


def load_model(
    model: ProcessDefinition | str | Path, source_format: str | None = None
) -> tuple[ProcessDefinition, str, str]:
    """Turn whatever a user deploys into a definition, its source text and its format."""
    if isinstance(model, ProcessDefinition):
        from legato.model.validate import validate

        validate(model)
        return model, serialize_source(model), "python"
    if isinstance(model, Path) or (
        isinstance(model, str) and "\n" not in model and model.endswith((".yaml", ".yml", ".bpmn", ".xml"))
    ):
        path = Path(model)
        if not path.is_file():
            raise InvalidInput(f"no model file at {str(path)!r}")
        if path.stat().st_size > MAX_MODEL_BYTES:
            raise InvalidInput(f"model file {str(path)!r} is larger than {MAX_MODEL_BYTES} bytes")
        fmt = source_format or ("bpmn" if path.suffix in (".bpmn", ".xml") else "yaml")
        text = decode_xml(path.read_bytes(), what="model") if fmt == "bpmn" else path.read_text(encoding="utf-8")
    else:
        text = str(model)
        fmt = source_format or ("bpmn" if text.lstrip().startswith("<") else "yaml")
    return parse_model(text, fmt), text, fmt


def deploy_processes(
    store: Store,
    parsed: list[tuple[ProcessDefinition, list[str]]],
    source: str,
    now: datetime,
    tenant: str | None,
) -> Deployment:
    """Deploy every process of one BPMN file (the pools of a collaboration), the first as the
    deployment and the others in its `others`; each keeps its warnings, and one that cannot
    run says why among them. All are checked before any is stored."""
    for definition, _ in parsed:
        store.definitions.check(definition)
    deployments = [
        dataclasses.replace(
            store.definitions.deploy(definition, source=source, source_format="bpmn", now=now, tenant=tenant),
            warnings=tuple(warnings) + tuple(f"cannot run: {reason}" for reason in definition.not_executable),
        )
        for definition, warnings in parsed
    ]
    return dataclasses.replace(deployments[0], others=tuple(deployments[1:]))


def parse_models_with_warnings(text: str, source_format: str) -> list[tuple[ProcessDefinition, list[str]]]:
    """Every process of the text with its warnings: one, except for a BPMN collaboration."""
    if source_format != "bpmn":
        return [parse_model_with_warnings(text, source_format)]
    if len(text.encode("utf-8", "replace")) > MAX_MODEL_BYTES:
        raise InvalidInput(f"the model is larger than {MAX_MODEL_BYTES} bytes")
    from legato.formats.bpmn import load_bpmn

    imported = load_bpmn(text)
    return [(each.definition, list(each.warnings)) for each in (imported, *imported.others)]


def parse_model(text: str, source_format: str) -> ProcessDefinition:
    return parse_model_with_warnings(text, source_format)[0]


def parse_model_with_warnings(text: str, source_format: str) -> tuple[ProcessDefinition, list[str]]:
    """The definition, and what its import left out (BPMN extensions Legato ignores)."""
    if source_format == "bpmn":
        if len(text.encode("utf-8", "replace")) > MAX_MODEL_BYTES:
            raise InvalidInput(f"the model is larger than {MAX_MODEL_BYTES} bytes")
        from legato.formats.bpmn import load_bpmn

        imported = load_bpmn(text)
        return imported.definition, list(imported.warnings)
    return _parse(text, source_format), []


def _parse(text: str, source_format: str) -> ProcessDefinition:
    if len(text.encode("utf-8", "replace")) > MAX_MODEL_BYTES:
        raise InvalidInput(f"the model is larger than {MAX_MODEL_BYTES} bytes")
    if source_format == "yaml":
        from legato.formats.yaml_format import load_yaml

        return load_yaml(text)
    if source_format == "json":
        import orjson

        from legato.model.validate import validate

        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            from legato.errors import ModelParseError

            raise ModelParseError(f"the JSON model does not parse: {exc}") from None
        definition = serialize.from_dict(data)
        validate(definition)
        return definition
    raise InvalidInput(f"unknown model format {source_format!r}: Legato reads 'yaml', 'json' and 'bpmn' models")


def serialize_source(definition: ProcessDefinition) -> str:
    import orjson

    return orjson.dumps(serialize.to_dict(definition), option=orjson.OPT_INDENT_2).decode()


__all__ = ["InstanceNotFound", "Legato", "load_model", "parse_model"]
