"""The inclusive gateway and the event-based gateway.

Inclusive gateway (BPMN 2.0, 10.6.3): as a fork it takes every outgoing flow whose
condition holds, or its default flow when none does. As a join it is the one gateway
whose behaviour depends on the whole instance (13.4.3): it fires once a token has arrived
and no other token of the same scope can still reach it. So an arriving token only waits
(JOINING); `release_inclusive_joins` runs whenever the tokens of a step have settled, and
fires each join that nothing upstream can feed any more. Where several tokens arrived by
the same flow (a loop feeding the join), all of them are consumed by one firing; the spec
asks for one per flow, but a second firing would then need tokens no path provides.

Event-based gateway (10.6.6): the token waits at the gateway for every event its flows
lead to; the first event to occur takes the token on, and the other waits are closed
(see `legato.engine.core._trigger_event`).
"""

from __future__ import annotations

from legato.engine.expressions import condition
from legato.engine.state import JOINING, WAITING, Token
from legato.engine.step import Step, Trigger
from legato.errors import EvaluationError, ExpressionInvalid
from legato.model.elements import (
    ConditionalDefinition,
    EventBasedGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    ReceiveTask,
    SignalDefinition,
    TimerDefinition,
)


def inclusive_gateway(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, InclusiveGateway)
    if len(step.definition.incoming(element.id)) > 1:
        token.state = JOINING  # released by release_inclusive_joins once the step settles
        return
    _fork(step, token, element)


def _fork(step: Step, token: Token, element: InclusiveGateway) -> None:
    flows = [
        flow
        for flow in step.definition.outgoing(element.id)
        if flow.id != element.default and (flow.condition is None or condition(flow.condition, step.view(token)))
    ]
    if not flows and element.default is not None:
        flows = [step.definition.flows[element.default]]
    if not flows and not step.definition.outgoing(element.id):
        step.record("element_passed", element.id)
        step.end_path(token)  # BPMN 2.0.2, 10.5.3: a gateway without outgoing flows ends the path
        return
    if not flows:
        raise EvaluationError(f"no condition of inclusive gateway {element.id!r} is true and it has no default flow")
    step.record("element_passed", element.id, {"flows": [flow.id for flow in flows]})
    step.leave(token, flows)


def release_inclusive_joins(step: Step) -> bool:
    """Fire every waiting inclusive join that no other token can reach; True if any fired."""
    groups: dict[tuple[str, int], list[Token]] = {}
    for token in step.state.tokens.values():
        if token.state == JOINING and isinstance(step.definition.elements[token.element], InclusiveGateway):
            groups.setdefault((token.element, token.scope), []).append(token)
    fired = False
    for (gateway_id, scope), arrived in groups.items():
        upstream = step.definition.elements_reaching(gateway_id)
        waiting_for = [t for t in step.state.tokens.values() if t.scope == scope and t.element in upstream]
        if waiting_for:
            continue  # another token may still arrive here
        keep, *others = sorted(arrived, key=lambda t: t.id)
        for other in others:
            step.consume(other)
        element = step.definition.elements[gateway_id]
        assert isinstance(element, InclusiveGateway)
        try:
            _fork(step, keep, element)
        except (EvaluationError, ExpressionInvalid) as exc:
            step.raise_incident(keep, exc)
        fired = True
    return fired


def event_based_gateway(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, EventBasedGateway)
    triggers: list[Trigger] = []
    for flow in step.definition.outgoing(element.id):
        target = step.definition.elements[flow.target]
        if isinstance(target, ReceiveTask):
            event: TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition = MessageDefinition(
                message=target.message, correlation_key=target.correlation_key
            )
        else:
            assert isinstance(target, IntermediateCatchEvent)
            assert isinstance(
                target.event, TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition
            )
            event = target.event
        triggers.append(step.trigger(target.id, event, token=token))  # all evaluated before any wait opens
    token.state = WAITING
    for trigger in triggers:
        step.open_trigger(token, trigger)
    step.record("element_entered", element.id)
