"""Multi-instance activities (BPMN 2.0, 10.3.7 and 13.3.7).

A token arriving at a multi-instance activity waits there as the *body*; the body owns a
scope (kind BODY) whose bookkeeping (`meta`) says how many instances there are, which
one starts next, and what each produced. Each instance runs in a scope of its own (kind
INSTANCE) holding its local variables, the element variable and `loopCounter`, with a
token at the same activity, which then behaves as a plain activity. When that token
would leave the activity, it ends instead, and the body counts the instance done:
parallel bodies start every instance at once, sequential ones the next.

The body's scope also holds numberOfInstances, numberOfCompletedInstances and
numberOfActiveInstances as local variables, which the completion condition reads (the
names of Camunda 7 and 8). Boundary events belong to the body: they interrupt all
instances, and a BPMN error thrown inside an instance is caught on the activity.
"""

from __future__ import annotations

import re
from typing import Any, Final

from legato.engine.expressions import condition, evaluate, json_value
from legato.engine.state import BODY, INSTANCE, MOVING, WAITING, Scope, Token
from legato.engine.step import Step
from legato.errors import EvaluationError
from legato.model.elements import MAX_INSTANCES, Activity, MultiInstance

_PATH: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*$")


def enter_body(step: Step, token: Token, activity: Activity) -> None:
    loop = activity.multi_instance
    assert loop is not None
    variables = step.view(token)
    items: list[Any] | None = None
    if loop.collection is not None:
        value = evaluate(loop.collection, variables)
        if not isinstance(value, list):
            raise EvaluationError(
                f"the collection of {activity.id!r} ({loop.collection}) is {type(value).__name__}, not a list"
            )
        items, count = value, len(value)
    else:
        assert loop.cardinality is not None
        value = evaluate(loop.cardinality, variables)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise EvaluationError(f"the cardinality of {activity.id!r} is {value!r}, not a whole number >= 0")
        count = value
    if count > MAX_INSTANCES:
        raise EvaluationError(f"{activity.id!r} would run {count} instances; the limit is {MAX_INSTANCES}")
    boundaries = step.boundary_triggers(activity.id, token)
    body = Scope(
        step.next_id(),
        activity.id,
        token.scope,
        token.id,
        BODY,
        {"numberOfInstances": count, "numberOfCompletedInstances": 0, "numberOfActiveInstances": 0},
        {"items": items, "next": 0, "outputs": [None] * count if loop.output_collection else None},
    )
    step.state.scopes[body.id] = body
    token.state = WAITING
    step.record("element_entered", activity.id, {"instances": count})
    step.open_boundaries(token, boundaries)
    if count == 0:
        complete_body(step, body, activity)
        return
    for _ in range(1 if loop.sequential else count):
        _start_instance(step, body, loop)


def _start_instance(step: Step, body: Scope, loop: MultiInstance) -> None:
    index = body.meta["next"]
    body.meta["next"] = index + 1
    local: dict[str, Any] = {"loopCounter": index + 1}
    items = body.meta["items"]
    if loop.element_variable is not None and items is not None:
        local[loop.element_variable] = items[index]
    output = _output_variable(loop)
    if output is not None and output not in local:
        local[output] = None  # so that what an instance writes there stays its own
    assert body.element is not None
    instance = Scope(step.next_id(), body.element, body.id, None, INSTANCE, local, {"index": index})
    step.state.scopes[instance.id] = instance
    body.variables["numberOfActiveInstances"] += 1
    step.agenda.append(step.new_token(body.element, instance.id))


def _output_variable(loop: MultiInstance) -> str | None:
    """The variable an output element reads, when it reads one (`result`, `result.total`).

    Each instance gets it as a local variable, null at first, as Camunda 8 does, so that
    parallel instances writing `result` do not overwrite one another's before it is
    collected (BPMN 2.0.2, 10.3.7: the outputDataItem is the instance's own).
    """
    match = _PATH.match(loop.output_element or "")
    return match.group(1) if match else None


def is_instance_token(step: Step, token: Token) -> bool:
    """Is this the token of one instance (not the body) of a multi-instance activity?"""
    scope = step.state.scopes.get(token.scope)
    return scope is not None and scope.kind == INSTANCE and scope.element == token.element


def body_token(step: Step, token: Token) -> Token:
    """The body token for an instance token; the token itself otherwise."""
    if not is_instance_token(step, token):
        return token
    instance = step.state.scopes[token.scope]
    assert instance.parent is not None
    body = step.state.scopes[instance.parent]
    assert body.token is not None
    return step.state.tokens[body.token]


def instance_completed(step: Step, instance: Scope) -> None:
    """The last token of an instance ended: collect its output, then start or finish."""
    assert instance.parent is not None and instance.element is not None
    body = step.state.scopes[instance.parent]
    activity = step.definition.elements[instance.element]
    assert isinstance(activity, Activity)
    if activity.loop is not None:
        from legato.engine.loops import iteration_completed

        iteration_completed(step, instance, activity)
        return
    assert activity.multi_instance is not None
    loop = activity.multi_instance
    if loop.output_element is not None:
        value = evaluate(loop.output_element, step.scope_view(instance.id))
        body.meta["outputs"][instance.meta["index"]] = json_value(value, f"output element of {activity.id!r}")
    del step.state.scopes[instance.id]
    body.variables["numberOfActiveInstances"] -= 1
    body.variables["numberOfCompletedInstances"] += 1
    done = body.variables["numberOfCompletedInstances"]
    if loop.completion_condition is not None and condition(loop.completion_condition, step.scope_view(body.id)):
        step.record("multi_instance_completed_early", activity.id, {"completed": done})
        step.terminate_scope(body)
        complete_body(step, body, activity)
    elif body.meta["next"] < body.variables["numberOfInstances"]:
        if loop.sequential:
            _start_instance(step, body, loop)
    elif body.variables["numberOfActiveInstances"] == 0:
        complete_body(step, body, activity)


def complete_body(step: Step, body: Scope, activity: Activity) -> None:
    """Every instance is done (or the completion condition held): the activity completes."""
    assert body.token is not None
    token = step.state.tokens[body.token]
    del step.state.scopes[body.id]
    step.close_waits_of(token)
    updates: dict[str, Any] = {}
    if activity.multi_instance is not None and activity.multi_instance.output_collection is not None:
        updates[activity.multi_instance.output_collection] = body.meta["outputs"]
    changed = step.set_variables(updates, token)
    step.record("element_completed", activity.id, {"variables": changed} if changed else None)
    token.state = MOVING
    step.leave_safely(token)
