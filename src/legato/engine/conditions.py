"""Conditional events (BPMN 2.0, 10.5.5 ConditionalEventDefinition).

A conditional catch, boundary or event-subprocess start waits with a CONDITION wait;
no row outside the instance stands for it, because only the instance's own variables can
make it fire. Whenever a step has changed variables or opened such a wait, the step
checks every open condition once its tokens have settled. A wait fires on the edge from
not-true to true: `Wait.fired` keeps whether the condition held at the last check, so a
non-interrupting event does not fire again while its condition simply stays true. A
condition that cannot be evaluated yet (a variable not set) counts as not true.
"""

from __future__ import annotations

from legato.engine.expressions import condition
from legato.engine.state import CONDITION
from legato.engine.step import Step
from legato.errors import EvaluationError, ExpressionInvalid
from legato.model.elements import ConditionalDefinition, waited_events


def fire_conditions(step: Step) -> bool:
    """Trigger the waits whose conditions just became true; True if any fired."""
    step.conditions_dirty = False
    due = []
    for wait in sorted(step.state.waits.values(), key=lambda w: w.id):
        if wait.kind != CONDITION:
            continue
        event = next(
            e for e in waited_events(step.definition.elements[wait.element]) if isinstance(e, ConditionalDefinition)
        )
        token = step.state.tokens.get(wait.token)
        try:
            holds = condition(event.condition, step.view(token))
        except (EvaluationError, ExpressionInvalid):
            holds = False
        if holds and not wait.fired:
            due.append(wait)
        else:
            wait.fired = 1 if holds else 0
    if not due:
        return False
    from legato.engine.core import trigger_event

    for wait in due:
        if wait.id in step.state.waits:  # an earlier trigger of this round may have closed it
            trigger_event(step, wait, {"trigger": "condition"}, {})
    return True
