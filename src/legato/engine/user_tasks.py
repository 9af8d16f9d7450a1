"""A user task opens (BPMN 2.0, 10.3.3 User Task): who it is offered to, when it is due.

The task's attributes were checked at deploy (model/user_tasks.py); the expressions among
them are evaluated here, against the variables the task sees as it opens, so a task for
`${approver}` goes to the approver of this instance. A value of the wrong kind (a number
where a user name belongs, a date that does not parse) is an `EvaluationError`, which
holds the instance at the task as an incident to repair, as any failed expression does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from legato.engine import effects as fx
from legato.engine.expressions import evaluate, is_expression
from legato.engine.state import TASK, Token
from legato.engine.step import Step
from legato.errors import EvaluationError
from legato.model.elements import UserTask
from legato.model.timers import TimerInvalid
from legato.model.user_tasks import DEFAULT_PRIORITY, priority_value, task_date

MAX_TEXT = 4000
"""Longest name or description a task keeps; an expression giving more is cut there."""


def user_task(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, UserTask)
    payload = step.inputs(element, token) if element.inputs else None
    boundaries = step.boundary_triggers(element.id, token)
    view = step.view(token)
    where = token.element
    effect = fx.OpenUserTask(
        wait=0,
        element=element.id,
        name=_text(element.name, view, where, "name"),
        assignee=_assignee(element.assignee, view, where),
        candidate_groups=_names(element.candidate_groups, view, where, "candidate groups"),
        candidate_users=_names(element.candidate_users, view, where, "candidate users"),
        description=_text(element.description or element.documentation, view, where, "description"),
        due=_date(element.due_date, view, where, "due date", step.now),
        follow_up=_date(element.follow_up_date, view, where, "follow-up date", step.now),
        priority=_priority(element.priority, view, where),
        form=element.form,
        payload=payload,
    )
    # Everything is evaluated before the wait opens: a failure leaves no half-open task.
    wait = step.open_wait(token, TASK, element.id)
    step.effects.append(_with_wait(effect, wait.id))
    step.record("element_entered", element.id)
    step.open_boundaries(token, boundaries)


def _with_wait(effect: fx.OpenUserTask, wait: int) -> fx.OpenUserTask:
    return replace(effect, wait=wait)


def _assignee(assignee: str | None, view: Mapping[str, Any], where: str) -> str | None:
    """A fixed user, or an expression (`=owner`, `${approver}`) evaluated as the task opens."""
    if assignee is None or not is_expression(assignee):
        return assignee
    value = evaluate(assignee, view)
    if value is not None and not isinstance(value, str):
        raise EvaluationError(f"assignee {assignee!r} of {where!r} is {value!r}, not a user name")
    return value or None


def _names(names: tuple[str, ...], view: Mapping[str, Any], where: str, what: str) -> tuple[str, ...]:
    """Fixed names, or one expression giving a list or a comma-separated text."""
    if len(names) != 1 or not is_expression(names[0]):
        return names
    value = evaluate(names[0], view)
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise EvaluationError(f"{what} {names[0]!r} of {where!r} are {value!r}, not names")
    return tuple(item.strip() for item in items if item.strip())


def _text(text: str | None, view: Mapping[str, Any], where: str, what: str) -> str | None:
    """A name or description; `Approve ${amount} EUR` is Camunda 7's composite expression."""
    if text is None or not is_expression(text):
        return text
    value = evaluate(text, view)
    if value is None:
        return None
    return (value if isinstance(value, str) else str(value))[:MAX_TEXT]


def _date(text: str | None, view: Mapping[str, Any], where: str, what: str, now: datetime) -> datetime | None:
    """A due or follow-up date: ISO 8601 text, or an expression giving a date-time or that text."""
    if text is None:
        return None
    value: Any = evaluate(text, view) if is_expression(text) else text
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise EvaluationError(f"{what} {text!r} of {where!r} is {value!r}, not a date-time or a duration")
    try:
        return task_date(value, now)
    except TimerInvalid as exc:
        raise EvaluationError(f"{what} {text!r} of {where!r}: {exc.message}") from None


def _priority(priority: int | str | None, view: Mapping[str, Any], where: str) -> int:
    if priority is None:
        return DEFAULT_PRIORITY
    value: Any = evaluate(priority, view) if isinstance(priority, str) and is_expression(priority) else priority
    if value is None:
        return DEFAULT_PRIORITY
    number = priority_value(value)
    if number is None:
        raise EvaluationError(f"priority {priority!r} of {where!r} is {value!r}, not a whole number 0..1000000")
    return number
