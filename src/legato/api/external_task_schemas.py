"""Request and response bodies of the external-task endpoints (routes/external_tasks.py).

Durations are seconds (fractions allowed) throughout, like the rest of the API; the
Camunda 7 protocol's milliseconds belong to its own compatibility layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from legato.api.inputs import RequestBody, Variables
from legato.runtime.external_tasks import MAX_LOCK_SECONDS, MAX_TASKS, MAX_WAIT_SECONDS

WORKER_ID = Field(
    min_length=1,
    max_length=128,
    pattern=r"^[^\x00-\x1f\x7f]+$",
    description="the worker's own stable name for itself; reports must name the worker id that locked the task",
)


class _Request(RequestBody):
    model_config = ConfigDict(extra="forbid")


class FetchTopic(_Request):
    task_type: str = Field(min_length=1, max_length=255, description="a service task's task type (topic)")
    lock_duration: float = Field(
        gt=0, le=MAX_LOCK_SECONDS, description="seconds each fetched task of this type stays locked to the worker"
    )


class FetchAndLock(_Request):
    worker_id: str = WORKER_ID
    max_tasks: int = Field(default=10, ge=1, le=MAX_TASKS, description="at most this many tasks in the answer")
    topics: list[FetchTopic] = Field(min_length=1, max_length=100, description="the task types to fetch, each once")
    async_response_timeout: float = Field(
        default=0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="long polling: with no task due, wait up to this many seconds for one and answer as soon as "
        "one is; 0 answers at once",
    )


class LockedTask(BaseModel):
    id: str = Field(description="the task's id: name it in the reports")
    idempotency_key: str = Field(
        description="stable across every delivery and retry of this task: pass it on (an Idempotency-Key header) "
        "so a side effect repeated by a second delivery happens once"
    )
    task_type: str
    instance_id: str
    process: str | None = Field(description="the process key of its instance")
    business_key: str | None
    element: str = Field(description="the service task's id in the process")
    attempt: int = Field(description="1 for the first attempt, counting up with each retry")
    variables: dict[str, Any] = Field(description="the task's inputs (its input mapping, or the instance's variables)")
    tenant: str | None = Field(description="the tenant of its instance; null: the shared tenant")
    worker_id: str
    lock_expires_at: datetime = Field(description="report or extend the lock before this moment")
    retries: int | None = Field(
        default=None,
        description="retries left as the last failure report set them (`retries`); null: the model's retry policy",
    )
    traceparent: str | None = Field(
        default=None,
        description="the W3C traceparent of this delivery's span, in the instance's trace: send it on with the "
        "calls the worker makes for the task (null: no trace is kept)",
    )


class CompleteExternalTask(_Request):
    worker_id: str = WORKER_ID
    variables: Variables | None = Field(default=None, description="a JSON object: the result, set on the instance")


class FailExternalTask(_Request):
    worker_id: str = WORKER_ID
    error_message: str = Field(min_length=1, max_length=4000, description="what went wrong, for the incident")
    error_details: str | None = Field(default=None, max_length=100_000, description="a stack trace or more detail")
    error_type: str = Field(
        default="ExternalTaskFailure",
        min_length=1,
        max_length=255,
        description="the error's type, matched against the task's non-retryable error types",
    )
    retries: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="retries left, as the worker decides (0: an incident now); omitted: the task's retry policy "
        "decides, as for in-process handlers",
    )
    retry_timeout: float | None = Field(
        default=None,
        ge=0,
        le=MAX_LOCK_SECONDS,
        description="with `retries`: seconds until the next attempt; omitted: the retry policy's backoff",
    )


class ExternalBpmnError(_Request):
    worker_id: str = WORKER_ID
    error_code: str = Field(min_length=1, max_length=255, description="the BPMN error code a boundary event catches")
    error_message: str | None = Field(default=None, max_length=4000)
    variables: Variables | None = Field(default=None, description="a JSON object, set on the instance first")


class ExtendLock(_Request):
    worker_id: str = WORKER_ID
    new_duration: float = Field(gt=0, le=MAX_LOCK_SECONDS, description="seconds from now the lock lasts")


class LockExtended(BaseModel):
    id: str
    lock_expires_at: datetime


class UnlockExternalTask(_Request):
    worker_id: str = WORKER_ID
