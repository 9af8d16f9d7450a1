"""Loop activities: the standard loop marker (BPMN 2.0.2, 10.3.8 and 13.3.6).

A standard loop runs its activity once, then again as long as its loop condition holds
("The Activity will only loop as long as this condition is true"), at most `maximum`
times. With `test_before` the condition is checked before each iteration, so the activity
may not run at all (a while loop); without it, after each one (a do-while loop).

It runs on the machinery of a sequential multi-instance activity (`multi_instance`): the
token waits as the body, whose scope holds `loopCounter`, the number of iterations
started; each iteration runs in an instance scope of its own, with a token at the same
activity that behaves as a plain activity. What an iteration writes goes to the instance
as usual, so the condition checked after it sees its results. Boundary events belong to
the body and interrupt the whole loop.
"""

from __future__ import annotations

from collections import ChainMap

from legato.engine.expressions import condition
from legato.engine.state import BODY, INSTANCE, WAITING, Scope, Token
from legato.engine.step import Step
from legato.errors import EvaluationError
from legato.model.elements import MAX_INSTANCES, Activity, StandardLoop


def enter_loop(step: Step, token: Token, activity: Activity) -> None:
    """A token arrives at a loop activity: open the body, then the first iteration, or
    (test before, condition false) complete at once."""
    loop = activity.loop
    assert loop is not None
    first = _runs_first(step, token, loop)  # may raise, before anything changed: the incident retries the entry
    boundaries = step.boundary_triggers(activity.id, token)
    body = Scope(step.next_id(), activity.id, token.scope, token.id, BODY, {"loopCounter": 0}, {"loop": True})
    step.state.scopes[body.id] = body
    token.state = WAITING
    step.record("element_entered", activity.id, {"loop": True})
    step.open_boundaries(token, boundaries)
    if first:
        _start_iteration(step, body)
    else:
        _complete(step, body, activity)


def iteration_completed(step: Step, instance: Scope, activity: Activity) -> None:
    """The last token of an iteration ended: loop again, or complete the activity.

    The condition is checked while the iteration's scope still exists, so that a failing
    condition (an incident on the body) is checked again when the incident is retried.
    """
    loop = activity.loop
    assert instance.parent is not None and loop is not None
    body = step.state.scopes[instance.parent]
    again = _goes_on(step, body, activity.id, loop)
    del step.state.scopes[instance.id]
    if again:
        _start_iteration(step, body)
    else:
        _complete(step, body, activity)


def _runs_first(step: Step, token: Token, loop: StandardLoop) -> bool:
    """Does the first iteration run? Always without test before (a do-while loop), unless
    the maximum is 0; with it, when the condition holds with loopCounter 0."""
    if loop.maximum == 0:
        return False
    if not loop.test_before or loop.condition is None:
        return True
    return condition(loop.condition, ChainMap({"loopCounter": 0}, dict(step.view(token))))


def _goes_on(step: Step, body: Scope, element: str, loop: StandardLoop) -> bool:
    """After an iteration: is there another one?"""
    done = body.variables["loopCounter"]
    if loop.maximum is not None and done >= loop.maximum:
        return False
    if loop.condition is not None and not condition(loop.condition, step.scope_view(body.id)):
        return False
    if done >= MAX_INSTANCES:
        raise EvaluationError(f"{element!r} has looped {done} times; the limit is {MAX_INSTANCES}")
    return True


def _start_iteration(step: Step, body: Scope) -> None:
    assert body.element is not None
    body.variables["loopCounter"] += 1
    index = body.variables["loopCounter"] - 1
    instance = Scope(step.next_id(), body.element, body.id, None, INSTANCE, {}, {"index": index})
    step.state.scopes[instance.id] = instance
    step.agenda.append(step.new_token(body.element, instance.id))


def _complete(step: Step, body: Scope, activity: Activity) -> None:
    from legato.engine.multi_instance import complete_body

    step.record("loop_completed", activity.id, {"iterations": body.variables["loopCounter"]})
    complete_body(step, body, activity)
