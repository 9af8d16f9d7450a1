"""Camunda 7's REST API, the part its external-task clients and scripts use, over Legato.

Served at `/engine-rest` (Camunda's own path, so a client's default base URL works) and at
`/api/v1/engine-rest`; the first is rewritten to the second at the door (app.py), so the
same authentication, permissions, audit and limits apply as to every route. The routes
translate and call what the native ones call: fetch-and-lock is `legato.external_tasks`
with Camunda's milliseconds and typed variables, a start is `legato.start`, and so on.

Identifiers keep their Legato form: a task's `id` is the job id (`<instance>:<wait>`), an
instance's is its id, a definition's is `key:version:id` as Camunda writes them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from legato.access import Principal
from legato.access.tenancy import check_fixed_tenants, sender, visible, work_tenant
from legato.api.camunda.schemas import (
    CamundaBpmnError,
    CamundaComplete,
    CamundaCorrelate,
    CamundaDeployment,
    CamundaExtendLock,
    CamundaFailure,
    CamundaFetchAndLock,
    CamundaIncident,
    CamundaInstance,
    CamundaLockedTask,
    CamundaRetries,
    CamundaStart,
    TypedVariables,
)
from legato.api.camunda.variables import camunda_time, from_camunda, to_camunda
from legato.api.deps import ActorDep, LegatoDep, VisibleDep
from legato.api.inputs import MAX_INTEGER
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.routes.definitions import deploy_process
from legato.api.routes.external_tasks import scope
from legato.api.security import PrincipalDep
from legato.errors import ExternalTaskNotFound, InvalidInput, LegatoError, TaskTypeDenied
from legato.formats.detect import is_dmn
from legato.formats.dmn_xml import read_dmn
from legato.formats.xml_safety import decode_xml
from legato.runtime.app import parse_model_with_warnings
from legato.runtime.decisions import deploy_decisions
from legato.runtime.external_tasks import LockedTask, Topic

PREFIX = "/engine-rest"
router = APIRouter(prefix=PREFIX, tags=["camunda 7 compatibility"])
TaskId = Path(min_length=1, max_length=300, description="the external task's id, from fetchAndLock")
_UNSUPPORTED_FILTERS = {
    "business_key": "businessKey",
    "process_definition_key": "processDefinitionKey",
    "process_definition_key_in": "processDefinitionKeyIn",
    "process_definition_id": "processDefinitionId",
    "tenant_id_in": "tenantIdIn",
    "without_tenant_id": "withoutTenantId",
}


def _definition_id(process: str | None, version: int | None, definition: int | None) -> str | None:
    return None if process is None else f"{process}:{version or 1}:{definition or 0}"


@router.post(
    "/external-task/fetchAndLock",
    response_model=list[CamundaLockedTask],
    summary="Camunda 7: fetch and lock external tasks, with long polling (asyncResponseTimeout, ms)",
    responses=problem_responses(),
)
async def fetch_and_lock(
    body: CamundaFetchAndLock, request: Request, legato: LegatoDep, principal: PrincipalDep
) -> list[dict[str, Any]]:
    for index, topic in enumerate(body.topics):
        for name, camel in _UNSUPPORTED_FILTERS.items():
            if getattr(topic, name) not in (None, [], False):
                raise InvalidInput(
                    f"the topic filter {camel} is not supported by Legato: fetch by topic name only",
                    details={"field": f"topics/{index}/{camel}"},
                )
        if topic.process_variables:
            raise InvalidInput(
                "filtering by processVariables is not supported by Legato: fetch by topic name only",
                details={"field": f"topics/{index}/processVariables"},
            )
        if not principal.may_work_on(topic.topic_name):
            raise TaskTypeDenied(topic.topic_name, who=principal.name)
    topics = [Topic(task_type=t.topic_name, lock_seconds=t.lock_duration / 1000) for t in body.topics]
    names = {t.topic_name: t.variables for t in body.topics}
    external = legato.external_tasks
    wait = (body.async_response_timeout or 0) / 1000
    tasks = await external.fetch_waiting(body.worker_id, topics, body.max_tasks, wait=wait, visible=visible(principal))
    if tasks and await request.is_disconnected():  # the worker hung up meanwhile: give the tasks back
        for task in tasks:
            await asyncio.to_thread(external.unlock, task.id, body.worker_id)
        return []
    definitions = await asyncio.to_thread(_definitions_of, legato, tasks)
    return [_locked(task, names.get(task.task_type), definitions.get(task.definition_id)) for task in tasks]


def _definitions_of(legato: Any, tasks: list[LockedTask]) -> dict[int | None, str | None]:
    """Camunda's `key:version:id` of each task's definition, from the store's definition cache."""
    found: dict[int | None, str | None] = {}
    for task in tasks:
        if task.definition_id is not None and task.definition_id not in found:
            stored = legato.store.definitions.by_id(task.definition_id)
            found[task.definition_id] = _definition_id(stored.key, stored.version, stored.id)
    return found


def _locked(task: LockedTask, names: list[str] | None, definition_id: str | None) -> dict[str, Any]:
    return CamundaLockedTask(
        id=task.id,
        topic_name=task.task_type,
        worker_id=task.worker_id,
        lock_expiration_time=camunda_time(task.lock_expires_at),
        activity_id=task.element,
        activity_instance_id=f"{task.element}:{task.id}",
        execution_id=task.id,
        process_instance_id=task.instance_id,
        process_definition_id=definition_id,
        process_definition_key=task.process,
        business_key=task.business_key,
        tenant_id=task.tenant,
        retries=task.retries,
        variables=to_camunda(task.variables, names),
    ).model_dump(by_alias=True)


def _variables(*parts: tuple[TypedVariables | None, str]) -> dict[str, Any] | None:
    merged: dict[str, Any] = {}
    for typed, where in parts:
        merged.update(from_camunda(typed, where=where))
    return merged or None


_REPORT = problem_responses(404, 409, 422, also={204: {"description": "done"}})


@router.post(
    "/external-task/{task_id}/complete",
    status_code=204,
    summary="Camunda 7: complete an external task (variables and localVariables are set on the instance)",
    responses=_REPORT,
)
def complete(body: CamundaComplete, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    variables = _variables((body.variables, "variables"), (body.local_variables, "localVariables"))
    legato.external_tasks.complete(task_id, body.worker_id, variables, **scope(principal))


@router.post(
    "/external-task/{task_id}/failure",
    status_code=204,
    summary="Camunda 7: report a failure; retries left (0: an incident) and retryTimeout (ms) as the worker says",
    responses=_REPORT,
)
def failure(body: CamundaFailure, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.fail(
        task_id,
        body.worker_id,
        error_message=body.error_message or "the external worker reported a failure",
        error_details=body.error_details,
        retries=body.retries,
        retry_timeout=None if body.retry_timeout is None else body.retry_timeout / 1000,
        **scope(principal),
    )


@router.post(
    "/external-task/{task_id}/bpmnError",
    status_code=204,
    summary="Camunda 7: throw a BPMN error from an external task",
    responses=_REPORT,
)
def bpmn_error(body: CamundaBpmnError, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.bpmn_error(
        task_id,
        body.worker_id,
        code=body.error_code,
        message=body.error_message,
        variables=_variables((body.variables, "variables")),
        **scope(principal),
    )


@router.post(
    "/external-task/{task_id}/extendLock",
    status_code=204,
    summary="Camunda 7: extend the lock of an external task by newDuration (ms) from now",
    responses=_REPORT,
)
def extend_lock(body: CamundaExtendLock, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.extend_lock(task_id, body.worker_id, body.new_duration / 1000, **scope(principal))


@router.post(
    "/external-task/{task_id}/unlock",
    status_code=204,
    summary="Camunda 7: unlock an external task (whoever holds it): free at once for any worker",
    responses=_REPORT,
)
def unlock(legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    checks = scope(principal)
    holder = legato.external_tasks.holder(task_id, **checks)
    legato.external_tasks.unlock(task_id, holder, **checks)


# -- processes, messages, instances, incidents ------------------------------------------------


@router.post(
    "/process-definition/key/{key}/start",
    response_model=CamundaInstance,
    summary="Camunda 7: start an instance of the latest version of a process",
    responses=problem_responses(404, 409, 422),
)
def start(
    request: Request,
    legato: LegatoDep,
    actor: ActorDep,
    principal: PrincipalDep,
    body: CamundaStart | None = None,
    key: str = Path(min_length=1, max_length=255),
) -> dict[str, Any]:
    body = body or CamundaStart()
    started = legato.start(
        key,
        _variables((body.variables, "variables")),
        business_key=body.business_key,
        actor=actor,
        tenant=work_tenant(principal, None),
    )
    detail = legato.store.queries.instance(started.instance_id, with_history=False)
    return _instance(request, detail)


def _instance(request: Request, detail: dict[str, Any]) -> dict[str, Any]:
    link = f"{request.app.state.api_prefix}{PREFIX}/process-instance/{detail['id']}"
    return CamundaInstance(
        id=detail["id"],
        definition_id=_definition_id(
            detail.get("process"), detail.get("definition_version"), detail.get("definition_id")
        ),
        business_key=detail.get("business_key"),
        ended=detail.get("status") in ("completed", "cancelled", "terminated"),
        tenant_id=detail.get("tenant"),
        links=[{"method": "GET", "href": link, "rel": "self"}],
    ).model_dump(by_alias=True)


@router.post(
    "/message",
    status_code=204,
    response_class=Response,
    summary="Camunda 7: correlate a message by businessKey and/or one correlationKeys value (the catch event's key)",
    responses=problem_responses(
        404,
        409,
        422,
        also={
            204: {"description": "correlated"},
            200: {
                "description": "with resultEnabled: what it correlated to",
                "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
            },
        },
    ),
)
def correlate(body: CamundaCorrelate, legato: LegatoDep, actor: ActorDep, principal: PrincipalDep) -> Response:
    keys = from_camunda(body.correlation_keys, where="correlationKeys")
    if len(keys) > 1:
        raise InvalidInput(
            "Legato correlates a message by one correlation key: give one correlationKeys value, not more",
            details={"field": "correlationKeys"},
        )
    if body.process_instance_id is not None or body.all:
        raise InvalidInput(
            "correlating by processInstanceId or to all instances is not supported by Legato: correlate by key",
            details={"field": "processInstanceId" if body.process_instance_id is not None else "all"},
        )
    key = next(iter(keys.values())) if keys else None
    within, origin = sender(principal, body.tenant_id)
    result = legato.send_message(
        body.message_name,
        None if key is None else str(key),
        _variables((body.process_variables, "processVariables")),
        actor=actor,
        within=within,
        origin=origin,
        business_key=body.business_key,
    )
    if not body.result_enabled:
        return Response(status_code=204)
    kind = "ProcessDefinition" if result.get("correlated") == "start" else "Execution"
    return JSONResponse([{"resultType": kind, "processInstance": {"id": result.get("instance_id")}}])


@router.get(
    "/process-instance",
    response_model=list[CamundaInstance],
    summary="Camunda 7: list process instances (processDefinitionKey, businessKey, firstResult, maxResults)",
    responses=problem_responses(),
)
def list_instances(
    request: Request,
    legato: LegatoDep,
    visible_to: VisibleDep,
    process_definition_key: str | None = Query(default=None, alias="processDefinitionKey", max_length=255),
    business_key: str | None = Query(default=None, alias="businessKey", max_length=255),
    first_result: int = Query(default=0, alias="firstResult", ge=0, le=MAX_INTEGER),
    max_results: int = Query(default=100, alias="maxResults", ge=1, le=1000),
) -> list[dict[str, Any]]:
    rows = legato.store.queries.instances(
        process=process_definition_key,
        business_key=business_key,
        limit=max_results,
        offset=first_result,
        visible=visible_to,
    )
    return [_instance(request, {**row, "process": row.get("process_key") or row.get("process")}) for row in rows]


@router.get(
    "/process-instance/{instance_id}",
    response_model=CamundaInstance,
    summary="Camunda 7: one process instance",
    responses=problem_responses(404),
)
def get_instance(
    request: Request, legato: LegatoDep, visible_to: VisibleDep, instance_id: str = Path(min_length=1, max_length=255)
) -> dict[str, Any]:
    return _instance(request, legato.store.queries.instance(instance_id, with_history=False, visible=visible_to))


@router.get(
    "/process-instance/{instance_id}/variables",
    response_model=TypedVariables,
    summary="Camunda 7: an instance's variables, typed",
    responses=problem_responses(404),
)
def get_variables(
    legato: LegatoDep, masker: MaskerDep, visible_to: VisibleDep, instance_id: str = Path(min_length=1, max_length=255)
) -> dict[str, Any]:
    """Masked as everywhere: a caller without variables:read-sensitive sees `***` for sensitive values."""
    detail = masker.instance(legato.store.queries.instance(instance_id, with_history=False, visible=visible_to))
    return to_camunda(detail.get("variables") or {})


@router.get(
    "/incident",
    response_model=list[CamundaIncident],
    summary="Camunda 7: open incidents (processInstanceId)",
    responses=problem_responses(),
)
def list_incidents(
    legato: LegatoDep,
    masker: MaskerDep,
    visible_to: VisibleDep,
    process_instance_id: str | None = Query(default=None, alias="processInstanceId", max_length=255),
    max_results: int = Query(default=100, alias="maxResults", ge=1, le=1000),
) -> list[dict[str, Any]]:
    rows = masker.incidents(
        legato.store.queries.incidents(instance_id=process_instance_id, limit=max_results, visible=visible_to)
    )
    return [
        CamundaIncident(
            id=str(row["id"]),
            process_instance_id=row["instance_id"],
            process_definition_id=None,
            activity_id=row["element"],
            incident_type="failedExternalTask" if row["error_type"] == "ExternalTaskFailure" else "failedJob",
            incident_message=row["message"],
            incident_timestamp=camunda_time(datetime.fromisoformat(row["created_at"]).astimezone(UTC)),
            configuration=None,
            tenant_id=row["tenant"],
        ).model_dump(by_alias=True)
        for row in rows
    ]


__all__ = ["PREFIX", "router"]


# -- deployments and retries ---------------------------------------------------------------------

_RESOURCE_FORMATS = {".bpmn": "bpmn", ".xml": "bpmn", ".dmn": "dmn", ".yaml": "yaml", ".yml": "yaml"}
_DEPLOY_FIELDS = {
    "deployment-name",
    "deployment-source",
    "tenant-id",
    "enable-duplicate-filtering",
    "deploy-changed-only",
    "deployment-activation-time",
}
_MAX_RESOURCES = 20


def _resource_format(name: str) -> str:
    """`invoice.bpmn`, `invoice.bpmn20.xml`, `credit.dmn11.xml`: Camunda's resource names."""
    lowered = name.lower()
    for suffix, found in _RESOURCE_FORMATS.items():
        if lowered.endswith(suffix):
            return "dmn" if lowered.endswith((".dmn11.xml", ".dmn13.xml")) else found
    raise InvalidInput(
        f"cannot deploy the resource {name!r}: Legato deploys .bpmn, .bpmn20.xml, .dmn and .yaml files",
        details={"field": name},
    )


@router.post(
    "/deployment/create",
    response_model=CamundaDeployment,
    summary="Camunda 7: deploy BPMN and DMN resources (multipart: each file a resource, tenant-id, deployment-name)",
    description=(
        "Every resource is read and validated before any is stored: one broken file deploys nothing, and "
        "the error names the resource. Unchanged models keep their version (Camunda's duplicate filtering)."
    ),
    responses=problem_responses(404, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    },
)
async def create_deployment(request: Request, legato: LegatoDep, principal: PrincipalDep) -> dict[str, Any]:
    form = await request.form(max_files=_MAX_RESOURCES, max_fields=_MAX_RESOURCES + len(_DEPLOY_FIELDS))
    resources: list[tuple[str, str, str]] = []
    fields: dict[str, str] = {}
    for field, value in form.multi_items():
        if isinstance(value, UploadFile):
            name = value.filename or field
            source_format = _resource_format(name)
            data = await value.read()
            text = decode_xml(data, what=name) if source_format in ("bpmn", "dmn") else _utf8(data, name)
            resources.append((name, text, source_format))
        elif field in _DEPLOY_FIELDS:
            fields[field] = str(value)[:255]
    if not resources:
        raise InvalidInput("a deployment needs at least one resource file", details={"field": "data"})
    tenant = work_tenant(principal, fields.get("tenant-id") or None)
    if tenant is not None:
        await asyncio.to_thread(legato.store.tenants.get, tenant)  # 404 TENANT_NOT_FOUND
    for name, text, source_format in resources:  # all of them checked before any is stored
        await asyncio.to_thread(_check_resource, legato, principal, name, text, source_format)
    deployed: dict[str, dict[str, Any]] = {}
    decisions: dict[str, dict[str, Any]] = {}
    now = camunda_time(legato.clock.now())
    for name, text, source_format in resources:
        if source_format == "dmn" or (source_format == "bpmn" and is_dmn(text)):
            decided = await asyncio.to_thread(
                deploy_decisions, legato.store, text, now=legato.clock.now(), tenant=tenant
            )
            summary = decided.summary()
            for decision in summary.get("decisions", []):
                decision_id = f"{decision['id']}:{summary.get('version', 1)}"
                decisions[decision_id] = {
                    "id": decision_id,
                    "key": decision["id"],
                    "name": decision.get("name"),
                    "version": summary.get("version", 1),
                    "resource": name,
                    "tenantId": tenant,
                }
            continue
        deployment = await asyncio.to_thread(deploy_process, legato, principal, text, source_format, tenant)
        stored = deployment.definition
        definition_id = _definition_id(stored.key, stored.version, stored.id)
        assert definition_id is not None
        deployed[definition_id] = {
            "id": definition_id,
            "key": stored.key,
            "name": stored.model.name,
            "version": stored.version,
            "resource": name,
            "tenantId": stored.tenant,
            "suspended": False,
        }
    parts = sorted([*deployed, *decisions])
    return CamundaDeployment(
        id="+".join(parts),
        name=fields.get("deployment-name"),
        source=fields.get("deployment-source"),
        deployment_time=now,
        tenant_id=tenant,
        deployed_process_definitions=deployed or None,
        deployed_decision_definitions=decisions or None,
    ).model_dump(by_alias=True)


def _check_resource(legato: Any, principal: Principal, name: str, text: str, source_format: str) -> None:
    """What a deploy of the resource would refuse, raised with its own code and the resource named."""
    try:
        if source_format == "dmn" or (source_format == "bpmn" and is_dmn(text)):
            legato.store.decisions.check(read_dmn(text).model)
        else:
            definition, _warnings = parse_model_with_warnings(text, source_format)
            legato.store.definitions.check(definition)
            check_fixed_tenants(principal, definition)
    except LegatoError as error:
        error.message = f"{name}: {error.message}"
        error.details = {**error.details, "resource": name}
        raise


def _utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name} is not UTF-8 text (byte {exc.start})", details={"field": name}) from None


@router.put(
    "/external-task/{task_id}/retries",
    status_code=204,
    summary="Camunda 7: give a failed external task retries again (its incident is retried)",
    responses=_REPORT,
)
def set_task_retries(
    body: CamundaRetries, legato: LegatoDep, actor: ActorDep, visible_to: VisibleDep, task_id: str = TaskId
) -> None:
    _retry_job(legato, actor, visible_to, task_id, body.retries)


@router.put(
    "/job/{job_id}/retries",
    status_code=204,
    summary="Camunda 7: give a failed job retries again (its incident is retried)",
    responses=_REPORT,
)
def set_job_retries(
    body: CamundaRetries,
    legato: LegatoDep,
    actor: ActorDep,
    visible_to: VisibleDep,
    job_id: str = Path(min_length=1, max_length=300),
) -> None:
    _retry_job(legato, actor, visible_to, job_id, body.retries)


def _retry_job(legato: Any, actor: str, visible_to: Any, job_id: str, retries: int) -> None:
    """Camunda sets a count; Legato runs the held job again when retries are given back to it.
    A job without an incident needs nothing (it has retries left); 0 cannot be set from outside."""
    if retries < 1:
        raise InvalidInput(
            "setting retries to 0 from outside is not supported: the job's own failures open its incident",
            details={"field": "retries"},
        )
    incident = legato.store.queries.open_incident_of_job(job_id, visible_to)
    if incident is None:
        if legato.store.jobs.lock_of(job_id) is None:
            raise ExternalTaskNotFound(f"no open job {job_id!r}", details={"task_id": job_id})
        return  # running or waiting with retries left: nothing to give back
    legato.retry_incident(incident, actor=actor, visible=visible_to)
