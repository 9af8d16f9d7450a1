"""Deploy process models and read them back.

A model arrives as a multipart upload (field `file`; the format follows the file name)
or as the raw body (the format follows `Content-Type`). It is parsed and validated before
anything is stored, so a broken model leaves the database as it was, and the error names
the element and line at fault (MODEL_INVALID, MODEL_PARSE_ERROR). `POST /definitions/validate`
takes the same upload, runs the same checks and stores nothing: the modeler's Validate.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from email.message import Message
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from legato.access import Principal
from legato.access.tenancy import check_fixed_tenants, filter_tenant, fixed_tenants, work_tenant
from legato.api.decision_schemas import DecisionsDeployed
from legato.api.deps import LegatoDep, TenantQuery, VisibleDep
from legato.api.inputs import MAX_INTEGER
from legato.api.listing import CursorQuery, LimitQuery
from legato.api.operation_schemas import DefinitionStatistics, Heatmap, Kpis
from legato.api.problems import problem_responses
from legato.api.routes.decisions import deploy_decision_model
from legato.api.schemas import DefinitionDetail, DefinitionList, Deployed
from legato.api.security import PrincipalDep
from legato.api.validation_schemas import Validation
from legato.errors import IdentityNotFound, InvalidInput, LegatoError, ModelInvalid, PayloadTooLarge, TenantDenied
from legato.formats.detect import is_dmn
from legato.formats.dmn_xml import read_dmn
from legato.formats.xml_safety import decode_xml
from legato.model import serialize
from legato.runtime.app import Legato, deploy_processes, parse_model_with_warnings, parse_models_with_warnings
from legato.store import StoredDefinition
from legato.store.kpis import window_of
from legato.store.pages import DEFAULT_PAGE

router = APIRouter(tags=["definitions"])
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_INTEGER, description="default: the latest version")]

SUFFIX_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".bpmn": "bpmn", ".xml": "bpmn", ".dmn": "dmn"}
MEDIA_FORMATS = {
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "application/json": "json",
    "application/xml": "bpmn",
    "text/xml": "bpmn",
    "application/bpmn+xml": "bpmn",
}
FORMAT_MEDIA = {
    "yaml": "application/yaml",
    "json": "application/json",
    "python": "application/json",
    "bpmn": "application/xml",
}

_MODEL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The model: a multipart upload, or the raw text with its Content-Type.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "contentMediaType": "application/octet-stream",
                            "description": "the model file; its suffix names the format "
                            "(.yaml, .yml, .json, .bpmn, .dmn)",
                        }
                    },
                }
            },
            "application/yaml": {"schema": {"type": "string", "description": "a YAML model"}},
            "application/json": {"schema": {"type": "object", "description": "a model in the stored JSON form"}},
            "application/xml": {"schema": {"type": "string", "description": "a BPMN 2.0 XML model, or a DMN file"}},
        },
    }
}


@router.post(
    "/definitions",
    status_code=201,
    response_model=Deployed | DecisionsDeployed,
    summary="Deploy a process model, or DMN decisions",
    description="201 with the new version; 200 and `created: false` when the model is unchanged. "
    "A DMN file (named .dmn, or XML in a DMN namespace) deploys decisions: `kind: decisions`.",
    responses=problem_responses(
        404,
        also={
            200: {
                "model": Deployed | DecisionsDeployed,
                "description": "unchanged: the latest version is returned",
            }
        },
    ),
    openapi_extra=_MODEL_BODY,
)
async def deploy(
    request: Request, response: Response, legato: LegatoDep, principal: PrincipalDep, tenant: TenantQuery = None
) -> dict[str, Any]:
    chosen = work_tenant(principal, tenant)
    if chosen is not None:
        await run_in_threadpool(legato.store.tenants.get, chosen)  # 404 TENANT_NOT_FOUND
    text, source_format = await _read_model(request)
    if source_format == "dmn" or (source_format == "bpmn" and is_dmn(text)):
        return await deploy_decision_model(response, legato, text, chosen)
    deployment = await run_in_threadpool(_deploy, legato, principal, text, source_format, chosen)
    stored = deployment.definition
    response.status_code = 201 if deployment.created else 200
    where = f"&tenant={stored.tenant}" if stored.tenant is not None else ""
    response.headers["Location"] = f"{request.url.path}/{stored.key}?version={stored.version}{where}"
    return {**_deployed(deployment), "others": [_deployed(other) for other in deployment.others]}


@router.post(
    "/definitions/validate",
    response_model=Validation,
    summary="Check a model as a deploy would, storing nothing",
    description="The same upload as `POST /definitions`, the same checks (reading, validation, what the "
    "database could not hold, tenants a call names), and nothing stored: 200 with `valid` and every problem a "
    "deploy would refuse, each naming the element at fault. A request that carries no readable model (no file, "
    "an unknown format, bytes that are not text in their encoding, too large) is refused as a deploy would refuse it.",
    responses=problem_responses(404),
    openapi_extra=_MODEL_BODY,
)
async def validate_model(
    request: Request, legato: LegatoDep, principal: PrincipalDep, tenant: TenantQuery = None
) -> dict[str, Any]:
    chosen = work_tenant(principal, tenant)
    if chosen is not None:
        await run_in_threadpool(legato.store.tenants.get, chosen)  # 404 TENANT_NOT_FOUND, as a deploy
    text, source_format = await _read_model(request)
    if source_format == "dmn" or (source_format == "bpmn" and is_dmn(text)):
        return await run_in_threadpool(_validate_decisions, legato, text)
    return await run_in_threadpool(_validate_process, legato, principal, text, source_format, chosen)


@router.get(
    "/definitions",
    response_model=DefinitionList,
    summary="List deployed processes",
    responses=problem_responses(),
)
def list_definitions(
    legato: LegatoDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    all_versions: bool = False,
    tenant: TenantQuery = None,
    key: str | None = Query(default=None, max_length=255, description="only this process"),
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """The latest version of each process per tenant, or every version with `all_versions=true`, by key
    and version, each with its instance counts (this version, and all versions of the process)."""
    page = legato.store.statistics.definitions(
        all_versions=all_versions,
        key=key,
        limit=limit,
        cursor=cursor,
        visible=visible,
        tenant=filter_tenant(principal, tenant),
    )
    return page.to_dict()


@router.get(
    "/definitions/{key}/statistics",
    response_model=DefinitionStatistics,
    summary="Per element of a version: tokens waiting, open incidents, completed passes",
    responses=problem_responses(404),
)
def definition_statistics(
    key: str, legato: LegatoDep, principal: PrincipalDep, version: VersionQuery = None, tenant: TenantQuery = None
) -> dict[str, Any]:
    """What the process diagram shows on each element; `instances` counts the version's instances."""
    stored = legato.store.definitions.get(key, version, work_tenant(principal, tenant))
    return legato.store.statistics.elements(stored.id)


@router.get(
    "/definitions/{key}/heatmap",
    response_model=Heatmap,
    summary="Per element of a version: passes and time spent (p50, p90), from the history",
    responses=problem_responses(404),
)
def definition_heatmap(
    key: str,
    legato: LegatoDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    tenant: TenantQuery = None,
    since: datetime | None = Query(default=None, description="count completions at or after this time"),
    until: datetime | None = Query(default=None, description="count completions before this time"),
    percentile: float | None = Query(default=None, gt=0, le=100, description="one more percentile to report"),
) -> dict[str, Any]:
    stored = legato.store.definitions.get(key, version, work_tenant(principal, tenant))
    return legato.store.statistics.heatmap(stored.id, since=since, until=until, percentile_wanted=percentile)


@router.get(
    "/definitions/{key}/kpis",
    response_model=Kpis,
    summary="Key figures of a version over a window: cycle time, throughput, error and automation rates",
    description=(
        "From the instances that ended in the window `since` long, ending now (`7d`, `24h`, `30m`, `2w`; "
        "default 7d): cycle time p50/p90/p99 of the completed ones, throughput per day, the error rate (ended "
        "otherwise than completed, or met an incident), the automation rate (completed with no user task), and "
        "the time spent at each element. A window that does not parse is 400 INVALID_FILTER naming `since`."
    ),
    responses=problem_responses(404),
)
def definition_kpis(
    key: str,
    legato: LegatoDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    tenant: TenantQuery = None,
    since: str = Query(default="7d", max_length=16, description="the window's length, ending now: 7d, 24h, 30m, 2w"),
) -> dict[str, Any]:
    window = window_of(since, legato.clock.now())
    stored = legato.store.definitions.get(key, version, work_tenant(principal, tenant))
    return legato.store.kpis.of(stored, window)


@router.get(
    "/definitions/{key}",
    response_model=DefinitionDetail,
    summary="One process definition, with its model",
    responses=problem_responses(404),
)
def get_definition(
    key: str, legato: LegatoDep, principal: PrincipalDep, version: VersionQuery = None, tenant: TenantQuery = None
) -> dict[str, Any]:
    stored = legato.store.definitions.get(key, version, work_tenant(principal, tenant))
    return _detail(stored)


@router.get(
    "/definitions/{key}/source",
    summary="The source text a definition was deployed from",
    response_class=Response,
    responses=problem_responses(
        404,
        also={
            200: {
                "description": "the source as uploaded, in its format's media type",
                "content": {media: {"schema": {"type": "string"}} for media in sorted(set(FORMAT_MEDIA.values()))},
            }
        },
    ),
)
def get_source(
    key: str, legato: LegatoDep, principal: PrincipalDep, version: VersionQuery = None, tenant: TenantQuery = None
) -> Response:
    source, source_format = legato.store.definitions.source(key, version, work_tenant(principal, tenant))
    media = FORMAT_MEDIA.get(source_format, "text/plain")
    return Response(source, media_type=f"{media}; charset=utf-8")


@router.get(
    "/definitions/{key}/bpmn",
    summary="A process as BPMN 2.0 XML, with a diagram",
    description=(
        "A process deployed from BPMN gives back the document that was deployed, as it was: ids, extensions "
        "in their own flavour (camunda: or zeebe:), diagram, other pools, message flows and artifacts. "
        "A process written in Python or YAML is generated, with an automatic left-to-right layout where it "
        "was never drawn. `flavour` asks for a generated document in Camunda 8 (zeebe:) or Camunda 7 "
        "(camunda:) flavour instead. The file opens in Camunda Modeler and bpmn.io and deploys back to the "
        "same model."
    ),
    responses={200: {"content": {"application/xml": {}}}, **problem_responses(404)},
)
def export_bpmn(
    key: str,
    legato: LegatoDep,
    principal: PrincipalDep,
    version: VersionQuery = None,
    tenant: TenantQuery = None,
    flavour: Annotated[
        Literal["camunda8", "camunda7"] | None,
        Query(description="convert: a generated document in this flavour (default: the deployed document)"),
    ] = None,
) -> Response:
    xml = legato.export_bpmn(key, version, work_tenant(principal, tenant), flavour=flavour)
    return Response(
        xml,
        media_type="application/xml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{key}.bpmn"'},
    )


def _deployed(deployment: Any) -> dict[str, Any]:
    stored = deployment.definition
    return {
        **stored.summary(),
        "created": deployment.created,
        "warnings": list(deployment.warnings),
        "not_executable": list(stored.model.not_executable),
    }


def _deploy(legato: Legato, principal: Principal, text: str, source_format: str, tenant: str | None) -> Any:
    # Not `legato.deploy(text)`: that reads a one-line string ending in .yaml as a *path*,
    # and a caller over HTTP must never name a file on the server.
    parsed = parse_models_with_warnings(text, source_format)  # every pool of a BPMN collaboration
    for definition, _ in parsed:
        for fixed in check_fixed_tenants(principal, definition):  # 403 TENANT_DENIED naming the element
            legato.store.tenants.get(fixed)  # 404 TENANT_NOT_FOUND: a typo would only ever raise incidents
    if source_format == "bpmn":
        return deploy_processes(legato.store, parsed, text, legato.clock.now(), tenant)
    definition, warnings = parsed[0]
    deployment = legato.store.definitions.deploy(
        definition, source=text, source_format=source_format, now=legato.clock.now(), tenant=tenant
    )
    return dataclasses.replace(deployment, warnings=tuple(warnings))


def _validate_process(
    legato: Legato, principal: Principal, text: str, source_format: str, tenant: str | None
) -> dict[str, Any]:
    """What `_deploy` checks, in the same order, with every refusal turned into problems."""
    answer: dict[str, Any] = {"valid": False, "kind": "process", "key": None, "problems": [], "warnings": []}
    try:
        definition, warnings = parse_model_with_warnings(text, source_format)
        warnings = warnings + [f"cannot run: {reason}" for reason in definition.not_executable]
        answer.update(key=definition.id, name=definition.name, warnings=warnings)
        legato.store.definitions.check(definition)
        problems = _tenant_problems(legato, principal, definition)
    except PayloadTooLarge:
        raise
    except InvalidInput as error:  # MODEL_INVALID, MODEL_PARSE_ERROR, EXPRESSION_INVALID, ...
        return {**answer, "problems": _problems(error)}
    if problems:
        return {**answer, "problems": problems}
    version, created = legato.store.definitions.preview(definition, tenant)
    return {**answer, "valid": True, "version": version, "unchanged": not created}


def _tenant_problems(legato: Legato, principal: Principal, definition: Any) -> list[dict[str, Any]]:
    """A call into a tenant the deployer is not in (TENANT_DENIED) or that does not exist, per element."""
    try:
        check_fixed_tenants(principal, definition)
    except TenantDenied as error:
        return _problems(error)
    problems = []
    for element, fixed in sorted(fixed_tenants(definition).items()):
        try:
            legato.store.tenants.get(fixed)
        except IdentityNotFound as error:
            message = f"it calls into tenant {fixed!r}, which does not exist"
            problems.append({"element": element, "message": message, "code": error.code})
    return problems


def _validate_decisions(legato: Legato, text: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"valid": False, "kind": "decisions", "key": None, "problems": [], "warnings": []}
    try:
        document = read_dmn(text)
        answer.update(key=document.model.id, name=document.model.name, warnings=[str(w) for w in document.warnings])
        legato.store.decisions.check(document.model)
    except PayloadTooLarge:
        raise
    except InvalidInput as error:
        return {**answer, "problems": _problems(error)}
    return {**answer, "valid": True}


def _problems(error: LegatoError) -> list[dict[str, Any]]:
    """The problems of a refusal, each with its element (or null) and the refusal's code."""
    if isinstance(error, ModelInvalid):
        return [
            {"element": p.element, "message": p.message, "line": p.line, "code": error.code} for p in error.problems
        ]
    details = error.details
    element = details.get("element")
    line, column = details.get("line"), details.get("column")
    return [
        {
            "element": element if isinstance(element, str) else None,
            "message": error.message,
            "line": line if isinstance(line, int) else None,
            "column": column if isinstance(column, int) else None,
            "code": error.code,
        }
    ]


def _detail(stored: StoredDefinition) -> dict[str, Any]:
    return {**stored.summary(), "model": serialize.to_dict(stored.model)}


async def _read_model(request: Request) -> tuple[str, str]:
    media = _media_type(request.headers.get("content-type"))
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("a multipart deploy needs the model in a file field named 'file'")
        name = upload.filename or ""
        source_format = SUFFIX_FORMATS.get(PurePosixPath(name).suffix.lower())
        if source_format is None:
            raise InvalidInput(
                f"cannot tell the format of {name!r}: name it .yaml, .yml, .json, .bpmn or .dmn",
                details={"filename": name},
            )
        data = await upload.read()
    else:
        found = MEDIA_FORMATS.get(media)
        if found is None:
            raise InvalidInput(
                f"cannot deploy a body of type {media or 'unknown'!r}: send a multipart upload "
                "or application/yaml, application/json or application/xml",
                details={"content_type": media},
            )
        source_format = found
        data = await request.body()
    if source_format in ("bpmn", "dmn"):
        # XML says its own encoding (a byte-order mark, UTF-16 without one, the declaration):
        # decoded by the XML rules, not as UTF-8, so a UTF-16 DOCTYPE cannot hide (XML_ENCODING_INVALID)
        text = decode_xml(data, what="model")
        if not text.strip():
            raise InvalidInput("the model is empty")
        return text, source_format
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the model is not UTF-8 text (byte {exc.start} is invalid)") from None
    if not text.strip():
        raise InvalidInput("the model is empty")
    return text, source_format


def _media_type(header: str | None) -> str:
    if not header:
        return ""
    message = Message()
    message["content-type"] = header
    return message.get_content_type().lower()


__all__ = ["deploy_process", "router"]


def deploy_process(legato: Legato, principal: Principal, text: str, source_format: str, tenant: str | None) -> Any:
    """A process deploy as `POST /definitions` does it (for the Camunda 7 deployment route)."""
    return _deploy(legato, principal, text, source_format, tenant)
