"""DMN decisions in the runtime: deploying DMN files, and the handler of business rule tasks.

`Legato.deploy` takes a DMN file (or DMN XML text) as it takes a process; `dmn_source`
tells which it was given. A business rule task's job (task type `legato.decision`,
engine/decisions.py) is run by every worker with the handler made here, unless the user
registered their own for that task type: it evaluates the latest deployed version of the
decision through the store, keeps the evaluation (value and matched rules) in the
instance's decision audit trail, and returns the result variables. A decision that fails
(an unknown id, a UNIQUE table with overlapping rules) raises, and the job retries by the
task's policy, then becomes an incident whose message names the decision and the rules.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from legato.engine.decisions import DecisionRequest
from legato.errors import InvalidInput
from legato.formats.detect import is_dmn
from legato.formats.dmn_xml import read_dmn
from legato.formats.xml_safety import MAX_XML_BYTES, decode_xml
from legato.model.elements import DECISION_TASK_TYPE, MESSAGE_TASK_TYPE
from legato.runtime.clock import Clock
from legato.runtime.handlers import HandlerFunction, Handlers, Job
from legato.store import Store
from legato.store.decisions import DecisionDeployment

__all__ = ["decision_handler", "deploy_decisions", "dmn_source", "with_builtin_handlers"]

_XML_SUFFIXES = (".dmn", ".xml")


def dmn_source(model: object, source_format: str | None = None) -> str | None:
    """The DMN text to deploy when `model` is a DMN file or DMN XML text; None otherwise.

    `model` is what `Legato.deploy` was given: a path (a `Path`, or a one-line string
    ending in `.dmn` or `.xml`) or the text itself. `source_format="dmn"` says it is DMN;
    any other format says it is not. Without one, a `.dmn` suffix or the namespace of the
    XML root decides (formats/detect.py).
    """
    if source_format not in (None, "dmn") or not isinstance(model, str | Path):
        return None
    is_path = isinstance(model, Path) or ("\n" not in model and model.lower().endswith(_XML_SUFFIXES))
    if not is_path:
        text = str(model)
        return text if source_format == "dmn" or is_dmn(text) else None
    path = Path(model)
    declared = source_format == "dmn" or path.suffix.lower() == ".dmn"
    if not declared and path.suffix.lower() not in _XML_SUFFIXES:
        return None
    if not path.is_file():
        if declared:
            raise InvalidInput(f"no DMN file at {str(path)!r}")
        return None  # a missing .xml file: the process loader says so
    if path.stat().st_size > MAX_XML_BYTES:
        raise InvalidInput(f"model file {str(path)!r} is larger than {MAX_XML_BYTES} bytes")
    text = decode_xml(path.read_bytes(), what="model")
    return text if declared or is_dmn(text) else None


def deploy_decisions(store: Store, source: str, *, now: datetime, tenant: str | None = None) -> DecisionDeployment:
    """Parse, check and store a DMN file; what the import ignored comes back as warnings.

    A file that does not load raises ModelParseError or ModelInvalid naming the element and
    line, and nothing is stored.
    """
    document = read_dmn(source)
    deployment = store.decisions.deploy(document.model, source=source, now=now, tenant=tenant)
    return dataclasses.replace(deployment, warnings=document.warnings)


def decision_handler(store: Store, clock: Clock) -> HandlerFunction:
    """The handler of `legato.decision` jobs: evaluate, keep the evaluation, return variables."""

    def evaluate_decision(job: Job) -> dict[str, Any]:
        request = DecisionRequest.from_payload(job.variables)
        # A fixed tenant (decisionRefTenantId): that tenant's decision only. Else the
        # instance's tenant first, then the shared tenant (Camunda 7's resolution).
        now = clock.now()  # FEEL's now() in the decision
        if request.tenant is not None:
            outcome = store.decisions.evaluate(request.decision, request.variables, request.tenant, exact=True, now=now)
        else:
            outcome = store.decisions.evaluate(request.decision, request.variables, job.tenant, now=now)
        store.decisions.record(
            outcome,
            tenant=job.tenant,
            instance_id=job.instance_id or None,
            element=job.element,
            job_id=job.id,
            attempt=job.attempt,
            now=clock.now(),
        )
        return request.result(outcome["value"], outcome["entries"])

    return evaluate_decision


def with_builtin_handlers(handlers: Handlers, store: Store, clock: Clock) -> Handlers:
    """`handlers`, plus the decision handler unless `legato.decision` is registered already,
    and the message-flow handler (runtime/messages.py) unless `legato.message` is.

    A new `Handlers` is returned rather than `handlers` changed: the same registry may serve
    workers on different stores, and each must evaluate against its own.
    """
    from legato.runtime.messages import message_flow_handler

    if DECISION_TASK_TYPE in handlers and MESSAGE_TASK_TYPE in handlers:
        return handlers
    combined = Handlers()
    for task_type in handlers:
        handler = handlers.get(task_type)
        assert handler is not None
        combined.register(task_type, handler.function, timeout=handler.timeout)
    if DECISION_TASK_TYPE not in handlers:
        combined.register(DECISION_TASK_TYPE, decision_handler(store, clock))
    if MESSAGE_TASK_TYPE not in handlers:  # messages along a collaboration's message flows
        combined.register(MESSAGE_TASK_TYPE, message_flow_handler(store, clock))
    return combined
