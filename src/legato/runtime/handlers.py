"""Task handlers: the Python functions that service tasks call, registered by task type.

A handler receives a `Job` and returns a dict of variables (or None). It may be a plain
function (run in a thread pool, so a blocking HTTP call does not stall other jobs) or an
`async def` (run on the worker's event loop). It signals a business outcome by raising
`BpmnError`; any other exception is a technical failure, retried by the task's policy.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

HandlerFunction = Callable[["Job"], dict[str, Any] | Awaitable[dict[str, Any] | None] | None]


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    """What a handler gets. `idempotency_key` is the same on every attempt of this step.

    Pass it on to the systems you call (for HTTP, an `Idempotency-Key` header) so that a
    retried or redelivered attempt does not charge a card twice.
    """

    id: str
    idempotency_key: str
    instance_id: str
    element: str
    task_type: str
    attempt: int
    variables: dict[str, Any]
    tenant: str | None = None
    """The tenant of the instance (None: the shared tenant)."""
    traceparent: str | None = None
    """The W3C `traceparent` of this attempt's span, in its instance's trace (None when no
    trace is kept): pass it on as a `traceparent` header so the systems you call join it."""

    def trace_headers(self) -> dict[str, str]:
        """`{"traceparent": ...}` (empty without a trace): the header to send with a call made for this job."""
        return {} if self.traceparent is None else {"traceparent": self.traceparent}


@dataclass(frozen=True, slots=True)
class Handler:
    task_type: str
    function: HandlerFunction
    is_async: bool
    timeout: float | None


class Handlers:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, task_type: str, function: HandlerFunction, *, timeout: float | None = None) -> None:
        if not isinstance(task_type, str) or not task_type:
            raise ValueError("a handler needs a non-empty task type")
        self._handlers[task_type] = Handler(
            task_type=task_type,
            function=function,
            is_async=inspect.iscoroutinefunction(function),
            timeout=timeout,
        )

    def __call__(self, task_type: str, *, timeout: float | None = None) -> Callable[[HandlerFunction], HandlerFunction]:
        """Decorator form: `@handlers("credit.check")`."""

        def decorate(function: HandlerFunction) -> HandlerFunction:
            self.register(task_type, function, timeout=timeout)
            return function

        return decorate

    def get(self, task_type: str) -> Handler | None:
        return self._handlers.get(task_type)

    def __contains__(self, task_type: object) -> bool:
        return task_type in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def types(self) -> list[str]:
        return sorted(self._handlers)
