"""Messages and signals from other systems.

A message is delivered to one waiting instance, or starts a new one; a signal is
broadcast to all waiting instances and signal start events.

A message that reaches neither is refused with 404 MESSAGE_NOT_CORRELATED, never dropped
in silence, so the sender knows to retry later or to look for a typo in the key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from legato.access.tenancy import sender
from legato.api.deps import ActorDep, LegatoDep
from legato.api.problems import problem_responses
from legato.api.schemas import (
    Broadcasted,
    BroadcastSignal,
    ConditionsEvaluated,
    Correlated,
    EvaluateConditions,
    SendMessage,
)
from legato.api.security import PrincipalDep

router = APIRouter(tags=["messages"])


@router.post(
    "/messages",
    response_model=Correlated,
    summary="Correlate a message by name and correlation key",
    description=(
        "Delivered to the oldest instance waiting for this name and key; otherwise, a process "
        "with a message start event for the name starts (the key becomes its business key)."
    ),
    responses=problem_responses(404, 409, 422),
)
def send_message(body: SendMessage, legato: LegatoDep, actor: ActorDep, principal: PrincipalDep) -> dict[str, Any]:
    within, origin = sender(principal, body.tenant)
    return legato.send_message(
        body.name, body.correlation_key, body.variables, actor=actor, within=within, origin=origin
    )


@router.post(
    "/signals",
    response_model=Broadcasted,
    summary="Broadcast a signal",
    description=(
        "Reaches every instance waiting for the signal and starts every process with that signal start "
        "event. Unlike a message, a signal that reaches no one is not an error: the counts say so."
    ),
    responses=problem_responses(404, 422),
)
def broadcast_signal(
    body: BroadcastSignal, legato: LegatoDep, actor: ActorDep, principal: PrincipalDep
) -> dict[str, Any]:
    within, origin = sender(principal, body.tenant)
    return legato.broadcast_signal(body.name, body.variables, actor=actor, within=within, origin=origin)


@router.post(
    "/conditions",
    response_model=ConditionsEvaluated,
    summary="Evaluate conditional start events",
    description=(
        "Starts every process whose conditional start event holds for the given variables, with those "
        "variables (BPMN 2.0, 10.5.2; as Camunda 7's evaluateConditions). None holding is not an error."
    ),
    responses=problem_responses(404),
)
def evaluate_conditions(
    body: EvaluateConditions, legato: LegatoDep, actor: ActorDep, principal: PrincipalDep
) -> dict[str, Any]:
    within, origin = sender(principal, body.tenant)
    started = legato.evaluate_conditions(body.variables or {}, actor=actor, within=within, origin=origin)
    return {
        "started": [
            {"instance_id": s.instance_id, "process": s.process, "version": s.version, "tenant": s.tenant}
            for s in started
        ]
    }
