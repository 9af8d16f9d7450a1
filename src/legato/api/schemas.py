"""Request and response bodies of the REST API, as pydantic models.

They are the contract the OpenAPI document publishes, so they describe exactly what the
store's queries return (see `legato.store.queries`). Request bodies forbid unknown
fields: a misspelt `variable` is a 400 naming it, not a silently empty start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from legato.api.inputs import MAX_INTEGER, RequestBody
from legato.api.inputs import Variables as CheckedVariables

Variables = dict[str, Any]  # in answers; requests take CheckedVariables


InstanceStatus = Literal["active", "completed", "terminated", "cancelled"]
TaskStatus = Literal["open", "completed", "cancelled"]
IncidentStatus = Literal["open", "resolved"]


class _Request(RequestBody):
    model_config = ConfigDict(extra="forbid")


TENANT = "the tenant it belongs to; null: the shared tenant"
TENANT_NAME = Field(
    default=None,
    min_length=1,
    max_length=128,
    description="the tenant to work in; default: the caller's only tenant if it has exactly one, else the shared one",
)


class PageInfo(BaseModel):
    """What every list answers besides its items: keyset pagination (see docs/api.md)."""

    total: int = Field(description="how many match the filter (at least this many when total_exact is false)")
    total_exact: bool = Field(
        default=True, description="false when a filter without an index capped the count at total"
    )
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class InstanceCounts(BaseModel):
    active: int
    completed: int
    cancelled: int
    terminated: int
    incidents: int = Field(description="instances with at least one open incident")


# -- definitions ---------------------------------------------------------------------------


class DefinitionSummary(BaseModel):
    id: int = Field(description="the id of this version; instances point at it")
    key: str = Field(description="the process id, shared by all versions")
    tenant: str | None = Field(default=None, description=TENANT + "; versions count per tenant")
    version: int
    name: str | None
    checksum: str = Field(description="SHA-256 of the canonical model; equal models, equal checksums")
    source_format: str = Field(description="yaml, json, bpmn or python")
    deployed_at: datetime


class DeployedProcess(DefinitionSummary):
    created: bool = Field(description="false when the model equals the latest version (a no-op)")
    warnings: list[str] = Field(
        default_factory=list, description="what the import left out (BPMN extensions Legato ignores)"
    )
    not_executable: list[str] = Field(
        default_factory=list,
        description="why the process cannot run, each naming the element: it is stored for viewing and export, "
        "and starting it is 409 DEFINITION_NOT_EXECUTABLE; empty when it runs",
    )


class Deployed(DeployedProcess):
    others: list[DeployedProcess] = Field(
        default_factory=list,
        description="the file's other processes (the pools of a BPMN collaboration), deployed with it",
    )


class DefinitionDetail(DefinitionSummary):
    model: dict[str, Any] = Field(description="the stored JSON form of the model")


class DefinitionListItem(DefinitionSummary):
    instances: InstanceCounts = Field(description="instances of this version")
    instances_all_versions: InstanceCounts = Field(description="instances of every version of the process")


class DefinitionList(PageInfo):
    items: list[DefinitionListItem]


# -- instances -----------------------------------------------------------------------------


class StartInstance(_Request):
    variables: CheckedVariables | None = Field(default=None, description="a JSON object")
    business_key: str | None = Field(default=None, max_length=255)
    version: int | None = Field(default=None, ge=1, le=MAX_INTEGER, description="default: the latest version")
    tenant: str | None = TENANT_NAME


class UnservedTaskType(BaseModel):
    """Jobs wait on a task type that no live worker serves: they run when one does."""

    code: Literal["TASK_TYPE_UNSERVED"] = "TASK_TYPE_UNSERVED"
    task_type: str
    elements: list[str] = Field(description="the elements whose jobs wait on it")
    message: str


WARNINGS = "task types the instance's jobs wait on that no live worker serves (GET /workers)"


class StartedInstance(BaseModel):
    instance_id: str
    process: str
    tenant: str | None = Field(default=None, description=TENANT)
    version: int
    status: InstanceStatus = Field(description="'completed' if it ran to its end without waiting")
    created: bool = Field(description="false when an Idempotency-Key matched an earlier start")
    warnings: list[UnservedTaskType] = Field(default_factory=list, description=WARNINGS)


MASKED = (
    'JSON Pointers (inside this object) of the sensitive values replaced by "***" for a caller without '
    "variables:read-sensitive; empty when nothing was masked"
)


class InstanceSummary(BaseModel):
    id: str
    process: str
    tenant: str | None = Field(default=None, description=TENANT)
    version: int
    business_key: str | None
    status: InstanceStatus
    waiting_at: list[str] = Field(description="ids of the elements where tokens wait")
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    variables: Variables | None = Field(default=None, description="in lists only with `variables=true`")
    masked: list[str] = Field(default_factory=list, description=MASKED)


class InstanceList(PageInfo):
    items: list[InstanceSummary]


class HistoryEvent(BaseModel):
    seq: int
    at: datetime
    type: str = Field(description="instance_started, element_entered, element_completed, ...")
    element: str | None
    actor: str | None = Field(description="who caused it: api, python, timer, worker:<id>, ...")
    data: Any = Field(description="event data; `variables` holds the variables it changed")
    masked: list[str] = Field(default_factory=list, description=MASKED)


class HistoryList(BaseModel):
    items: list[HistoryEvent]


class Task(BaseModel):
    id: str
    instance_id: str
    tenant: str | None = Field(default=None, description=TENANT)
    element: str
    process: str | None = Field(default=None, description="the process key of the task's instance")
    name: str | None
    description: str | None = None
    assignee: str | None
    candidate_users: list[str] = Field(default_factory=list)
    candidate_groups: list[str]
    owner: str | None = Field(default=None, description="who delegated the task, and gets it back when resolved")
    delegation: Literal["pending", "resolved"] | None = Field(
        default=None, description="pending: delegated, the delegate resolves it; resolved: back with its owner"
    )
    priority: int = Field(default=50, description="higher is more urgent; 50 unless the model says otherwise")
    due_at: datetime | None = None
    follow_up_at: datetime | None = None
    form: Any
    payload: Any = Field(description="the task's input variables")
    draft: dict[str, Any] | None = Field(default=None, description="form data saved without completing")
    status: TaskStatus
    created_at: datetime
    updated_at: datetime | None = Field(default=None, description="when a person last acted on it")
    ended_at: datetime | None
    ended_by: str | None
    masked: list[str] = Field(default_factory=list, description=MASKED)


class TaskList(PageInfo):
    items: list[Task]


class Incident(BaseModel):
    id: int
    instance_id: str
    tenant: str | None = Field(default=None, description=TENANT)
    element: str
    error_type: str
    message: str
    details: str | None = Field(description="the stack trace of the last failure, when there is one")
    details_hidden: bool = Field(
        default=False, description="true when there is a stack trace the caller may not see (incidents:read-stack)"
    )
    status: IncidentStatus
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    masked: list[str] = Field(default_factory=list, description=MASKED)


class IncidentListItem(Incident):
    process: str = Field(description="the process of the incident's instance")
    version: int


class IncidentList(PageInfo):
    items: list[IncidentListItem]
    warnings: list[UnservedTaskType] = Field(
        default_factory=list,
        description="jobs that wait on a task type no live worker serves: they never fail, so they are no incident",
    )


class Worker(BaseModel):
    """A worker that said it is alive: the in-process job executor of a server or `legato worker`,
    or an external worker fetching over HTTP (`external:<worker id>`)."""

    id: str
    kind: Literal["in-process", "external"]
    task_types: list[str] = Field(description="the task types it serves")
    tenants: list[str] | None = Field(description="the tenants whose jobs it takes; null: all")
    host: str | None
    started_at: datetime = Field(description="when it first said so")
    last_seen_at: datetime
    live: bool = Field(description="seen within the last `live_seconds`")


class WorkerList(BaseModel):
    items: list[Worker]
    live_seconds: float = Field(description="a worker not seen for this long is not live")
    unserved: list[UnservedTaskType] = Field(description="task types jobs wait on that no live worker serves")


class Job(BaseModel):
    """Work the job executor will do for the instance: a service task's attempt or a timer."""

    id: str
    kind: Literal["service", "timer"]
    element: str
    task_type: str | None = Field(description="a service job's task type; null for a timer")
    due_at: datetime | None = Field(description="when it runs (a timer fires, a retry is tried)")
    attempts: int = Field(description="attempts made so far")
    max_attempts: int | None = Field(
        description="the element's retry policy: an incident after this many failed attempts (null: a timer)"
    )
    locked_by: str | None = Field(description="the worker running it now, while its lock holds")
    lock_expires_at: datetime | None
    last_error: str | None = Field(description="the last failed attempt's message, scrubbed of sensitive values")
    masked: list[str] = Field(default_factory=list, description=MASKED)


class Subscription(BaseModel):
    """A message or signal the instance waits for."""

    element: str
    kind: Literal["message", "signal"]
    name: str
    correlation_key: str | None = Field(description="a message's correlation key (masked if it is a sensitive value)")
    created_at: datetime


class InstanceDetail(InstanceSummary):
    variables: Variables
    revision: int = Field(description="bumped by every change; an optimistic-lock version")
    parent_id: str | None = Field(default=None, description="the instance whose call activity started this one")
    children: list[str] = Field(default_factory=list, description="instances its call activities started")
    incidents: list[Incident] = Field(description="open incidents")
    tasks: list[Task] = Field(description="open user tasks")
    jobs: list[Job] = Field(default_factory=list, description="service attempts and timers to come, soonest first")
    subscriptions: list[Subscription] = Field(default_factory=list, description="messages and signals awaited")
    warnings: list[UnservedTaskType] = Field(default_factory=list, description=WARNINGS)
    history: list[HistoryEvent]


class CancelInstance(_Request):
    reason: str | None = Field(default=None, max_length=1000)


class ChangeVariables(_Request):
    """A repair: set some instance variables and remove others, in one step."""

    set: CheckedVariables | None = Field(default=None, description="name -> new JSON value")
    remove: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(default_factory=list, max_length=1000)


class RetryIncident(_Request):
    variables: CheckedVariables | None = Field(
        default=None, description="set on the instance in the same step, before the step runs again (the fix)"
    )


# -- messages and tasks --------------------------------------------------------------------


class SendMessage(_Request):
    name: str = Field(min_length=1, max_length=255)
    correlation_key: str | None = Field(default=None, max_length=255)
    variables: CheckedVariables | None = Field(default=None, description="a JSON object")
    tenant: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="deliver within this tenant (and the shared one) only; default: every tenant the caller sees",
    )


class Correlated(BaseModel):
    correlated: Literal["instance", "start"] = Field(
        description="'instance': delivered to a waiting instance; 'start': started a new one"
    )
    instance_id: str


class BroadcastSignal(_Request):
    name: str = Field(min_length=1, max_length=255)
    variables: CheckedVariables | None = Field(default=None, description="a JSON object")
    tenant: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="deliver within this tenant (and the shared one) only; default: every tenant the caller sees",
    )


class Broadcasted(BaseModel):
    signal: str
    instances: int = Field(description="waiting instances the signal reached")
    started: int = Field(description="instances started by a signal start event")


class EvaluateConditions(_Request):
    variables: CheckedVariables | None = Field(
        default=None, description="a JSON object the conditions are evaluated with"
    )
    tenant: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="evaluate the processes of this tenant (and the shared ones) only; default: every tenant "
        "the caller sees",
    )


class StartedByCondition(BaseModel):
    instance_id: str
    process: str
    tenant: str | None = Field(default=None, description=TENANT)
    version: int


class ConditionsEvaluated(BaseModel):
    started: list[StartedByCondition] = Field(description="the instances started, one per condition that held")


class CompleteTask(_Request):
    variables: CheckedVariables | None = Field(default=None, description="a JSON object")


UserName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]


class AssignTask(_Request):
    assignee: UserName | None = Field(description="the user to assign it to; null takes the assignment away")


class DelegateTask(_Request):
    user: UserName = Field(description="the delegate, who resolves the task back to its owner")


class ResolveTask(_Request):
    variables: CheckedVariables | None = Field(default=None, description="the delegate's form data, kept as the draft")


class AddComment(_Request):
    text: str = Field(min_length=1, max_length=10_000, pattern=r"\S")


class Comment(BaseModel):
    id: int
    author: str | None
    at: datetime
    text: str


class CommentList(BaseModel):
    items: list[Comment]


class Attachment(BaseModel):
    id: int
    name: str = Field(description="the uploaded file's name, without folders or control characters")
    content_type: str
    size: int = Field(description="bytes")
    sha256: str
    created_at: datetime
    created_by: str | None


class AttachmentList(BaseModel):
    items: list[Attachment]


class UpdateTask(_Request):
    """Only the fields given change; null clears a date or a text."""

    due: str | None = Field(default=None, max_length=64, description="ISO 8601 date-time, or a duration from now")
    follow_up: str | None = Field(default=None, max_length=64, description="ISO 8601 date-time, or a duration")
    priority: int | None = Field(default=None, ge=0, le=1_000_000)
    name: str | None = Field(default=None, max_length=4000)
    description: str | None = Field(default=None, max_length=4000)


class SaveTaskFilter(_Request):
    name: str = Field(min_length=1, max_length=255)
    query: dict[str, Any] = Field(
        description="the parameters of GET /tasks (not limit, cursor, tenant or filter): "
        '{"offered": true, "sort": "due"}'
    )
    group: str | None = Field(default=None, max_length=255, description="share it with this group (yours)")


class TaskFilter(BaseModel):
    id: int
    name: str
    owner: str
    group: str | None
    query: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TaskFilterList(BaseModel):
    items: list[TaskFilter]


class SaveDraft(_Request):
    variables: CheckedVariables = Field(description="the form data entered so far (a JSON object)")


# -- operations ----------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    worker: Literal["running", "stopped"]


class Stats(BaseModel):
    instances: dict[str, int] = Field(description="instance counts by status")
    jobs: dict[str, int] = Field(description="job counts: waiting, locked, held")
    worker: dict[str, int] | None = Field(description="this process's worker counters, if it runs one")
