"""Request and response bodies of the repair routes: bulk retry and cancel, modifying an instance.

The filters are the incident and instance lists' own (`GET /incidents`, `GET /instances`),
flat in the body beside `dry_run`, `limit` and `cursor`, so that a filter tried on the list
is the filter sent to the action. An empty filter needs `all: true`: one forgotten option
must not retry or cancel everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from legato.api.inputs import MAX_INTEGER
from legato.api.inputs import Variables as CheckedVariables
from legato.api.schemas import _Request
from legato.store.bulk import DEFAULT_BULK, MAX_BULK

Name = Annotated[str, Field(min_length=1, max_length=255)]


class _Bulk(_Request):
    all: bool = Field(default=False, description="act on every match although no filter is given")
    dry_run: bool = Field(default=False, description="only count the matches and name the first; change nothing")
    limit: int = Field(default=DEFAULT_BULK, ge=1, le=MAX_BULK, description="rows this request acts on at most")
    cursor: str | None = Field(default=None, max_length=1000, description="the `next_cursor` of the previous answer")
    tenant: Name | None = Field(default=None, description="only this tenant's")
    process: Name | None = Field(default=None, description="the process key")
    version: int | None = Field(default=None, ge=1, le=MAX_INTEGER, description="with `process`: that version")
    business_key: Name | None = None
    started_after: datetime | None = Field(default=None, description="the instance started at or after")
    started_before: datetime | None = Field(default=None, description="the instance started before")
    error: Name | None = Field(default=None, description="text in the (open incident's) message")


class BulkRetry(_Bulk):
    """Retry the open incidents these filters select."""

    element: Name | None = Field(default=None, description="the element the incident is at")
    error_type: Name | None = Field(default=None, description="the error code or type")
    instance_id: Name | None = None
    variables: CheckedVariables | None = Field(
        default=None, description="set on each instance in the same step as its retry (a common fix)"
    )


class BulkCancel(_Bulk):
    """Cancel the active instances these filters select."""

    waiting_at: Name | None = Field(default=None, description="a token waits at this element")
    var: list[Name] = Field(default_factory=list, max_length=10, description="`name:value`, as in the instance list")
    reason: str | None = Field(default=None, max_length=1000, description="kept in each instance's history")


class BulkItem(BaseModel):
    id: int | str = Field(description="the incident's id (retry) or the instance's (cancel)")
    instance_id: str
    result: Literal["done", "skipped", "failed"]
    reason: str | None = Field(default=None, description="why it was skipped or failed")
    code: str | None = Field(default=None, description="the error code when skipped or failed")
    problems: list[dict[str, Any]] | None = Field(
        default=None, description="a migration that failed: each element at fault (`element`) and why (`reason`)"
    )


class BulkReport(BaseModel):
    action: Literal["retry", "cancel", "migrate"]
    dry_run: bool
    matched: int = Field(description="rows this request selected (at most `limit`)")
    total: int = Field(description="rows the filter matched when the request began")
    total_exact: bool = Field(description="false when `total` is a lower bound (a capped count)")
    done: int
    skipped: int = Field(description="someone else got there first: resolved, ended, or changed meanwhile")
    failed: int
    items: list[BulkItem] = Field(description="a result per row (empty in a dry run)")
    ids: list[int | str] = Field(description="a dry run's first matches")
    next_cursor: str | None = Field(description="more match: send it back as `cursor` to go on")


class ModifyInstance(_Request):
    """Cancel the tokens at some elements, then start tokens before others: one atomic step."""

    cancel: list[Name] = Field(default_factory=list, max_length=100, description="elements whose tokens are cancelled")
    start_before: list[Name] = Field(
        default_factory=list, max_length=100, description="elements a new token starts before"
    )
    reason: str | None = Field(default=None, max_length=1000, description="kept in the history")


class MigrateInstances(_Request):
    """Move the active instances of one version of the process to another by a migration plan."""

    from_version: int = Field(ge=1, le=MAX_INTEGER, description="the version the instances run on now")
    to_version: int = Field(ge=1, le=MAX_INTEGER, description="the version they move to")
    mapping: dict[Name, Name] = Field(
        default_factory=dict,
        max_length=1000,
        description="source element id -> target element id, over the generated mapping (or instead of it)",
    )
    generate: bool = Field(
        default=True,
        description="map every element id both versions share with the same kind (Camunda's mapEqualActivities)",
    )
    instance_ids: list[Name] = Field(default_factory=list, max_length=MAX_BULK, description="only these instances")
    business_key: Name | None = None
    tenant: Name | None = Field(default=None, description="the tenant whose versions and instances")
    dry_run: bool = Field(default=False, description="check every instance of the page against the plan; move none")
    limit: int = Field(default=DEFAULT_BULK, ge=1, le=MAX_BULK, description="instances this request moves at most")
    cursor: str | None = Field(default=None, max_length=1000, description="the `next_cursor` of the previous answer")


class MigrationReport(BulkReport):
    """A bulk report (`items` a result per instance; a dry run's: those that would fail) with its plan."""

    process: str
    from_version: int
    to_version: int
    tenant: str | None = Field(description="the versions' tenant; null: the shared tenant")
    mapping: dict[str, str] = Field(description="the plan: every source element that moves, and where to")
