"""What changed, as it happens: the change feed as server-sent events, or as pages.

A browser follows `GET /api/v1/events` with `EventSource` (it sends `Accept:
text/event-stream`): one `change` event per row of the feed, each with its `id`, so a
reconnecting `EventSource` resumes after the last one it saw (`Last-Event-ID`); a `reset`
event means the screen missed too much and should reload what it shows. A stream closes
after `STREAM_SECONDS`, and the browser reconnects by itself: that is when a logged-out
session or a revoked token stops being served.

Any other client gets the same rows as JSON pages: `?after=<last_id>` returns what came
since, and a call without `after` returns no rows and the position to start from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from legato.api.deps import LegatoDep, VisibleDep
from legato.api.live import ChangeHub, Subscriber
from legato.api.problems import problem_responses
from legato.store.changes import Change
from legato.store.codec import from_epoch

router = APIRouter(tags=["events"])

STREAM_SECONDS = 300.0
PING_SECONDS = 15
EVENT_STREAM = "text/event-stream"


class ChangeEvent(BaseModel):
    id: int = Field(description="the feed's position: pass it back as `after` (or Last-Event-ID)")
    at: str = Field(description="ISO 8601, UTC")
    kind: str = Field(
        description="instance_started | instance_advanced | instance_ended | task_opened | task_closed | "
        "incident_created | incident_resolved"
    )
    instance_id: str
    process: str | None
    element: str | None = Field(description="the element a task or incident is at")
    ref: str | None = Field(description="the task id a task change is about")
    status: str | None = Field(description="an ended instance's status, a closed task's outcome, an error type")


class ChangePage(BaseModel):
    items: list[ChangeEvent]
    last_id: int = Field(description="pass as `after` to get what comes next")


def _event(change: Change) -> dict[str, Any]:
    at = from_epoch(change.at)
    return {
        "id": change.id,
        "at": at.isoformat() if at is not None else None,
        "kind": change.kind,
        "instance_id": change.instance_id,
        "process": change.process_key,
        "element": change.element,
        "ref": change.ref,
        "status": change.status,
    }


def _hub(request: Request, legato: Any) -> ChangeHub:
    hub: ChangeHub | None = getattr(request.app.state, "change_hub", None)
    if hub is None:
        hub = ChangeHub(legato.store.changes)
        request.app.state.change_hub = hub
    return hub


@router.get(
    "/events",
    response_model=ChangePage,
    summary="What changed: server-sent events for live screens, or pages after a position",
    description=(
        "With `Accept: text/event-stream`: a stream of `change` events (data: a ChangeEvent) and `reset` "
        "events (reload, then follow on), resumable with `Last-Event-ID`; it closes after five minutes and "
        "EventSource reconnects. Otherwise: the changes after `after` as a page. Only changes of instances "
        "in the caller's tenants. Rows are kept for an hour (WorkerSettings.change_retention)."
    ),
    responses=problem_responses(also={200: {"content": {EVENT_STREAM: {"schema": {"type": "string"}}}}}),
)
async def events(
    request: Request,
    legato: LegatoDep,
    visible: VisibleDep,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="the last id seen")] = None,
    process: Annotated[str | None, Query(min_length=1, max_length=256, description="only this process")] = None,
    instance_id: Annotated[str | None, Query(min_length=1, max_length=256, description="only this instance")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="rows per page (pages only)")] = 200,
    last_event_id: Annotated[str | None, Header(max_length=32, include_in_schema=False)] = None,
) -> Any:
    subscriber = Subscriber(visible=visible, process=process, instance=instance_id)
    if EVENT_STREAM in request.headers.get("accept", ""):
        resume = after
        if last_event_id is not None and last_event_id.strip().isdigit():
            resume = min(int(last_event_id.strip()), 2**62)
        return EventSourceResponse(_stream(_hub(request, legato), subscriber, resume), ping=PING_SECONDS)
    changes = legato.store.changes
    if after is None:
        return {"items": [], "last_id": await run_in_threadpool(changes.last_id)}
    rows = await run_in_threadpool(changes.after, after, limit=limit)
    return {
        "items": [_event(c) for c in rows if subscriber.wants(c)],
        "last_id": rows[-1].id if rows else after,
    }


async def _stream(hub: ChangeHub, subscriber: Subscriber, after: int | None) -> AsyncIterator[ServerSentEvent]:
    loop = asyncio.get_running_loop()
    closes_at = loop.time() + STREAM_SECONDS
    async with hub.subscribe(subscriber, after):
        yield ServerSentEvent(comment="following the change feed", retry=1000)
        while (left := closes_at - loop.time()) > 0:
            try:
                change = await subscriber.next(timeout=left)
            except TimeoutError:
                return
            if change is None:  # RESET
                yield ServerSentEvent(event="reset", data="{}")
            else:
                yield ServerSentEvent(event="change", id=str(change.id), data=orjson.dumps(_event(change)).decode())
