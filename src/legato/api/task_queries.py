"""The task list's query, from query parameters or from a saved filter, checked the same way.

A saved filter (`/task-filters`) stores the parameters of `GET /tasks` as JSON; using one
(`GET /tasks?filter=7`) lays the parameters given in the request over it. Both go through
`task_query`, so a filter that could not run is refused when it is saved, with the field
at fault named, not when a colleague opens it.

`mine` and `offered` are relative to the caller: the tasks assigned to them, and the
unassigned tasks offered to them by name or through one of their groups (nested ones
included). `overdue` and `due_within` (an ISO 8601 duration: `PT4H`, `P1D`) are relative to
the server's clock at the time of the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import isodate

from legato.access import Principal
from legato.errors import InvalidFilter
from legato.store.search import VariableFilter
from legato.store.task_search import SORTS, TaskFilter

_TEXT: Final = ("status", "instance_id", "process", "element", "assignee", "candidate_group", "candidate_user")
_FLAGS: Final = ("mine", "offered", "unassigned", "overdue")
_DATES: Final = ("due_before", "due_after", "follow_up_before")
_NUMBERS: Final = ("priority_min", "priority_max")
FIELDS: Final = frozenset({*_TEXT, *_FLAGS, *_DATES, *_NUMBERS, "due_within", "var", "sort"})
"""What a saved filter may hold: the parameters of GET /tasks but paging, tenant and filter."""
MAX_VARIABLE_FILTERS: Final = 10


def task_query(query: Mapping[str, Any], principal: Principal, now: datetime) -> tuple[TaskFilter, str]:
    """The TaskFilter and sort a query describes; InvalidFilter (400) names a wrong field."""
    unknown = sorted(set(query) - FIELDS)
    if unknown:
        raise InvalidFilter(f"unknown task filter field {unknown[0]!r}", field=unknown[0])
    values: dict[str, Any] = {}
    for name in _TEXT:
        values[name] = _text(query, name)
    flags = {name: _flag(query, name) for name in _FLAGS}
    dates = {name: _date(query, name) for name in _DATES}
    numbers = {name: _number(query, name) for name in _NUMBERS}
    due_before = dates["due_before"]
    if flags["overdue"]:
        due_before = now if due_before is None else min(due_before, now)
    within = query.get("due_within")
    if within is not None:
        soon = now + _duration(within)
        due_before = soon if due_before is None else min(due_before, soon)
    raw_vars = query.get("var") or []
    if isinstance(raw_vars, str):
        raw_vars = [raw_vars]
    if not isinstance(raw_vars, list) or len(raw_vars) > MAX_VARIABLE_FILTERS:
        raise InvalidFilter(f"var is a list of at most {MAX_VARIABLE_FILTERS} name:value filters", field="var")
    sort = query.get("sort") or "created"
    if sort not in SORTS:
        raise InvalidFilter(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", field="sort")
    if flags["mine"]:
        if values["assignee"] is not None and values["assignee"].casefold() != principal.name.casefold():
            raise InvalidFilter("mine and assignee name different people", field="mine")
        values["assignee"] = principal.name
    return (
        TaskFilter(
            status=values["status"] if "status" in query else "open",
            instance_id=values["instance_id"],
            process=values["process"],
            element=values["element"],
            assignee=values["assignee"],
            unassigned=flags["unassigned"],
            offered_to=(principal.name, principal.groups) if flags["offered"] else None,
            candidate_group=values["candidate_group"],
            candidate_user=values["candidate_user"],
            due_before=due_before,
            due_after=dates["due_after"],
            follow_up_before=dates["follow_up_before"],
            priority_min=numbers["priority_min"],
            priority_max=numbers["priority_max"],
            variables=tuple(VariableFilter.parse(_variable(raw)) for raw in raw_vars),
        ),
        str(sort),
    )


def _text(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidFilter(f"{name} must be text of 1..255 characters", field=name)
    return value


def _flag(query: Mapping[str, Any], name: str) -> bool:
    value = query.get(name, False)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise InvalidFilter(f"{name} must be true or false", field=name)
    return value


def _date(query: Mapping[str, Any], name: str) -> datetime | None:
    value = query.get(name)
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise InvalidFilter(f"{name} must be an ISO 8601 date-time such as 2026-12-24T12:00:00Z, not {value!r}", field=name)


def _number(query: Mapping[str, Any], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise InvalidFilter(f"{name} must be a whole number from 0 to 1000000", field=name)
    return value


def _duration(value: Any) -> timedelta:
    problem = InvalidFilter(
        f"due_within must be an ISO 8601 duration such as PT4H or P2D, not {value!r}", field="due_within"
    )
    if not isinstance(value, str) or len(value) > 64:
        raise problem
    try:
        duration = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        raise problem from None
    if not isinstance(duration, timedelta) or duration < timedelta(0) or duration > timedelta(days=3660):
        raise problem
    return duration


def _variable(raw: Any) -> str:
    if not isinstance(raw, str):
        raise InvalidFilter("each var is name:value text", field="var")
    return raw
