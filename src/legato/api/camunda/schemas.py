"""The request and answer bodies of the Camunda 7 REST subset, in Camunda's camelCase.

Camunda's clients send fields Legato has no use for (`usePriority`, `sorting`,
`deserializeValues`, `includeExtensionProperties`, an empty `processVariables`): they are
accepted and ignored. Filters Legato cannot honour are refused by the routes, naming the
field, rather than ignored: a worker must not get tasks it did not ask for.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasGenerator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from legato.api.inputs import RequestBody
from legato.runtime.external_tasks import MAX_LOCK_SECONDS, MAX_TASKS, MAX_WAIT_SECONDS

TypedVariables = dict[str, dict[str, Any]]


class CamundaBody(RequestBody):
    model_config = ConfigDict(
        extra="ignore", alias_generator=AliasGenerator(validation_alias=to_camel), populate_by_name=True
    )


class CamundaTopic(CamundaBody):
    topic_name: str = Field(min_length=1, max_length=255, description="the service task's task type")
    lock_duration: int = Field(gt=0, le=int(MAX_LOCK_SECONDS * 1000), description="milliseconds")
    variables: list[str] | None = Field(default=None, max_length=1000, description="only these variables; null: all")
    business_key: str | None = None
    process_definition_key: str | None = None
    process_definition_key_in: list[str] | None = None
    process_definition_id: str | None = None
    tenant_id_in: list[str] | None = None
    without_tenant_id: bool | None = None
    process_variables: dict[str, Any] | None = None


class CamundaFetchAndLock(CamundaBody):
    worker_id: str = Field(min_length=1, max_length=128)
    max_tasks: int = Field(default=10, ge=1, le=MAX_TASKS)
    async_response_timeout: int | None = Field(default=None, ge=0, le=int(MAX_WAIT_SECONDS * 1000))
    topics: list[CamundaTopic] = Field(min_length=1, max_length=100)


class CamundaComplete(CamundaBody):
    worker_id: str = Field(min_length=1, max_length=128)
    variables: TypedVariables | None = None
    local_variables: TypedVariables | None = None


class CamundaFailure(CamundaBody):
    worker_id: str = Field(min_length=1, max_length=128)
    error_message: str | None = Field(default=None, max_length=100_000)
    error_details: str | None = Field(default=None, max_length=1_000_000)
    retries: int | None = Field(default=None, ge=0, le=2**31 - 1)
    retry_timeout: int | None = Field(default=None, ge=0, le=int(MAX_LOCK_SECONDS * 1000), description="ms")


class CamundaBpmnError(CamundaBody):
    worker_id: str = Field(min_length=1, max_length=128)
    error_code: str = Field(min_length=1, max_length=255)
    error_message: str | None = Field(default=None, max_length=100_000)
    variables: TypedVariables | None = None


class CamundaExtendLock(CamundaBody):
    worker_id: str = Field(min_length=1, max_length=128)
    new_duration: int = Field(gt=0, le=int(MAX_LOCK_SECONDS * 1000), description="milliseconds from now")


class CamundaStart(CamundaBody):
    variables: TypedVariables | None = None
    business_key: str | None = Field(default=None, min_length=1, max_length=255)


class CamundaCorrelate(CamundaBody):
    message_name: str = Field(min_length=1, max_length=255)
    business_key: str | None = Field(default=None, max_length=255)
    correlation_keys: TypedVariables | None = None
    process_variables: TypedVariables | None = None
    process_instance_id: str | None = Field(default=None, max_length=255)
    tenant_id: str | None = Field(default=None, max_length=255)
    result_enabled: bool = False
    all: bool = False


class CamundaRetries(CamundaBody):
    retries: int = Field(ge=0, le=2**31 - 1)


class CamundaLockedTask(CamundaBody):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    id: str
    topic_name: str
    worker_id: str
    lock_expiration_time: str
    activity_id: str
    activity_instance_id: str
    execution_id: str
    process_instance_id: str
    process_definition_id: str | None
    process_definition_key: str | None
    business_key: str | None
    tenant_id: str | None
    retries: int | None
    error_message: str | None = None
    error_details: str | None = None
    priority: int = 0
    suspended: bool = False
    variables: TypedVariables = Field(default_factory=dict)
    extension_properties: dict[str, str] = Field(default_factory=dict)


class CamundaInstance(CamundaBody):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    id: str
    definition_id: str | None
    business_key: str | None
    case_instance_id: None = None
    ended: bool
    suspended: bool = False
    tenant_id: str | None
    links: list[dict[str, str]] = Field(default_factory=list)


class CamundaIncident(CamundaBody):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    id: str
    process_instance_id: str
    process_definition_id: str | None
    activity_id: str
    incident_type: str
    incident_message: str | None
    incident_timestamp: str
    configuration: str | None
    tenant_id: str | None


class CamundaDeployment(CamundaBody):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    id: str
    name: str | None
    deployment_time: str
    source: str | None = None
    tenant_id: str | None = None
    deployed_process_definitions: dict[str, dict[str, Any]] | None
    deployed_decision_definitions: dict[str, dict[str, Any]] | None = None
    links: list[dict[str, str]] = Field(default_factory=list)


__all__ = [
    "CamundaBpmnError",
    "CamundaComplete",
    "CamundaCorrelate",
    "CamundaDeployment",
    "CamundaExtendLock",
    "CamundaFailure",
    "CamundaFetchAndLock",
    "CamundaIncident",
    "CamundaInstance",
    "CamundaLockedTask",
    "CamundaRetries",
    "CamundaStart",
    "TypedVariables",
]
