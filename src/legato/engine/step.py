"""One engine step: a command applied to a copy of an instance's state.

`Step` is the working context of a single command: it owns the state copy, the list of
effects, and the *agenda* of tokens still moving. Tokens move until every one of them has
reached a wait state or ended; that is the unit of work the store commits atomically
(DESIGN.md, "the transaction model"). Element-specific behaviour lives in
`legato.engine.behaviours`; this module holds what all elements share: moving along
flows, opening and closing waits, ending scopes, throwing errors.
"""

from __future__ import annotations

from collections import ChainMap, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from legato.engine import effects as fx
from legato.engine.expressions import condition, evaluate, json_value, timer_due
from legato.engine.state import (
    ACTIVE,
    CALL,
    CONDITION,
    INCIDENT,
    INCIDENT_COMPLETING,
    INCIDENT_LEAVING,
    INSTANCE,
    JOB,
    LOCALS,
    MESSAGE,
    MOVING,
    SIGNAL,
    SUBPROCESS,
    TASK,
    TIMER,
    WAITING,
    InstanceState,
    Scope,
    Token,
    Wait,
)
from legato.errors import EvaluationError, ExpressionInvalid
from legato.model.elements import (
    Activity,
    BoundaryEvent,
    ConditionalDefinition,
    ErrorDefinition,
    MessageDefinition,
    SequenceFlow,
    SignalDefinition,
    TimerDefinition,
)
from legato.model.elements import (
    EndEvent as EndEventElement,
)
from legato.model.elements import (
    SubProcess as SubProcessElement,
)
from legato.model.process import ProcessDefinition

ROOT_SCOPE = 0
# the event definitions a token can wait for (catch, boundary, event-subprocess start)
WAITED_FOR = (TimerDefinition, MessageDefinition, SignalDefinition, ConditionalDefinition)
MAX_CONDITION_ROUNDS = 100


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a timer or message event waits for: its due time, or its correlation key."""

    element: str
    event: TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition
    due: datetime | None = None
    key: str | None = None


class Step:
    def __init__(
        self,
        definition: ProcessDefinition,
        state: InstanceState,
        now: datetime,
        actor: str | None,
    ) -> None:
        self.definition = definition
        self.state = state
        self.now = now
        self.actor = actor
        self.effects: list[fx.Effect] = []
        self.agenda: deque[Token] = deque()
        self.conditions_dirty = False  # variables changed or a conditional wait opened

    # -- ids, history ----------------------------------------------------------------------

    def next_id(self) -> int:
        self.state.seq += 1
        return self.state.seq

    def record(self, type_: str, element: str | None = None, data: dict[str, Any] | None = None) -> None:
        self.state.history += 1
        self.effects.append(
            fx.Record(
                seq=self.state.history,
                at=self.now,
                type=type_,
                element=element,
                actor=self.actor,
                data=data,
            )
        )

    # -- variables -------------------------------------------------------------------------

    def view(self, token: Token | None) -> Mapping[str, Any]:
        """The variables an expression at `token` sees: the locals of its scopes, innermost
        first (a multi-instance activity's element variable and loop counter), then the
        instance's. Without locals (the common case) this is the instance's dict itself."""
        if token is None:
            return self.state.variables
        layers = self._local_layers(token.scope)
        return ChainMap(*layers, self.state.variables) if layers else self.state.variables

    def scope_view(self, scope_id: int) -> Mapping[str, Any]:
        """The variables seen from inside a scope (for a scope whose tokens are gone)."""
        layers = self._local_layers(scope_id)
        return ChainMap(*layers, self.state.variables) if layers else self.state.variables

    def _local_layers(self, scope_id: int) -> list[dict[str, Any]]:
        layers = []
        while scope_id != ROOT_SCOPE:
            scope = self.state.scopes.get(scope_id)
            if scope is None:
                break
            if scope.variables:
                layers.append(scope.variables)
            scope_id = scope.parent if scope.parent is not None else ROOT_SCOPE
        return layers

    def set_variables(self, updates: dict[str, Any], token: Token | None = None) -> dict[str, Any]:
        """Write updates; returns what actually changed (for history).

        A name that a scope of `token` holds locally is written there; every other name
        goes to the instance, as Camunda 8 propagates variables to the top.
        """
        layers = self._local_layers(token.scope) if token is not None else []
        changed = {}
        for name, value in updates.items():
            target = next((layer for layer in layers if name in layer), self.state.variables)
            if target.get(name, _MISSING) != value:
                target[name] = value
                changed[name] = value
                self.conditions_dirty = True
        return changed

    def outputs(self, activity: Activity, result: dict[str, Any], token: Token | None = None) -> dict[str, Any]:
        """What a result writes into the instance: every key, or the `outputs` mappings.

        Raises EvaluationError before anything changes when a mapping fails.
        """
        if not activity.outputs:
            return result
        scope = ChainMap(result, dict(self.view(token)))
        return {name: json_value(evaluate(src, scope), f"output {name!r}") for name, src in activity.outputs.items()}

    def apply_outputs(self, activity: Activity, result: dict[str, Any], token: Token | None = None) -> dict[str, Any]:
        """Map a result into the instance; returns what changed."""
        return self.set_variables(self.outputs(activity, result, token), token)

    def inputs(self, activity: Activity, token: Token | None = None) -> dict[str, Any]:
        variables = self.view(token)
        if not activity.inputs:
            return dict(variables)
        return {name: json_value(evaluate(src, variables), f"input {name!r}") for name, src in activity.inputs.items()}

    # -- tokens ----------------------------------------------------------------------------

    def new_token(self, element: str, scope: int, flow: str | None = None) -> Token:
        token = Token(self.next_id(), element, scope, flow, MOVING)
        self.state.tokens[token.id] = token
        return token

    def arrive(self, token: Token, flow: SequenceFlow) -> None:
        token.element = flow.target
        token.flow = flow.id
        token.state = MOVING
        self.agenda.append(token)

    def leave(self, token: Token, flows: list[SequenceFlow] | None = None) -> None:
        """Take outgoing flows: every flow whose condition holds (BPMN 2.0, 10.2.1).

        A first matching flow reuses the token; further ones fork new tokens. An element
        whose outgoing flows all have false conditions has nowhere to go: that is a
        modelling error at run time, and becomes an incident at the element.
        """
        from legato.engine.compensation import handler_done, is_handler_token
        from legato.engine.multi_instance import is_instance_token

        if is_handler_token(self, token):
            handler_done(self, token)  # an undo finished: the next one, or the throw goes on
            return
        if is_instance_token(self, token):
            scope = token.scope  # one instance of a multi-instance activity is done
            self.consume(token)
            self.after_token_ended(scope)
            return
        if not self.definition.outgoing(token.element):
            self.end_path(token)
            return
        if flows is None:
            flows = self.taken_flows(token)
        if not flows:
            raise EvaluationError(f"no outgoing flow of {token.element!r} can be taken")
        for index, flow in enumerate(flows):
            if index == 0:
                self.arrive(token, flow)
            else:
                self.arrive(self.new_token(flow.target, token.scope), flow)

    def end_path(self, token: Token) -> None:
        """A flow node without outgoing flows ends its token's path, as an end event would
        (BPMN 2.0.2, 10.5.3: "implicit end"); its scope completes when nothing else is left."""
        scope = token.scope
        self.consume(token)
        self.after_token_ended(scope)

    def start_scope(self, scope_id: int, element: str | None) -> None:
        """Put the first tokens into a scope that starts plainly: at its start event without
        a trigger, or, in a scope without start events, at every flow node without incoming
        flows (BPMN 2.0.2, 10.5.2: "implicit start"), in the order of the model."""
        start = self.definition.none_start_event(element)
        if (
            start is None
            and element is not None
            and element == self.definition.compensation_event_subprocess(self.definition.elements[element].parent or "")
        ):
            start = self.definition.start_events(element)[0]  # run as its subprocess's undo: its compensation start
        if start is not None:
            self.agenda.append(self.new_token(start.id, scope_id))
            return
        for first in self.definition.implicit_starts(element):
            self.agenda.append(self.new_token(first.id, scope_id))

    def taken_flows(self, token: Token) -> list[SequenceFlow]:
        taken = []
        for flow in self.definition.outgoing(token.element):
            if flow.condition is None or condition(flow.condition, self.view(token)):
                taken.append(flow)
        return taken

    def consume(self, token: Token) -> None:
        del self.state.tokens[token.id]

    # -- waits -----------------------------------------------------------------------------

    def open_wait(self, token: Token, kind: str, element: str, fired: int = 0) -> Wait:
        wait = Wait(self.next_id(), token.id, kind, element, fired)
        self.state.waits[wait.id] = wait
        token.state = WAITING
        return wait

    def trigger(
        self,
        element_id: str,
        event: TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition,
        fired: int = 0,
        token: Token | None = None,
        local: dict[str, Any] | None = None,
    ) -> Trigger:
        """Evaluate what a timer or message event will wait for, opening nothing yet.

        Evaluation can fail (a timer or key expression); doing it before any wait opens
        keeps an element's entry all-or-nothing, so its incident retry starts clean.
        """
        if isinstance(event, TimerDefinition):
            due = timer_due(event, self.view(token), self.now, fired, self.now, element_id)
            return Trigger(element=element_id, event=event, due=due)
        if isinstance(event, SignalDefinition | ConditionalDefinition):
            return Trigger(element=element_id, event=event)
        key = None
        if event.correlation_key is not None:
            variables = ChainMap(local, dict(self.view(token))) if local else self.view(token)
            value = evaluate(event.correlation_key, variables)
            key = None if value is None else str(value)
        return Trigger(element=element_id, event=event, key=key)

    def open_trigger(self, token: Token, trigger: Trigger, fired: int = 0) -> Wait:
        event = trigger.event
        if isinstance(event, TimerDefinition):
            wait = self.open_wait(token, TIMER, trigger.element, fired)
            if trigger.due is not None:
                self.effects.append(fx.ScheduleJob(wait=wait.id, element=trigger.element, due=trigger.due))
            return wait
        if isinstance(event, ConditionalDefinition):
            wait = self.open_wait(token, CONDITION, trigger.element, fired)
            self.conditions_dirty = True  # checked once the step's tokens settle
            return wait
        if isinstance(event, SignalDefinition):
            wait = self.open_wait(token, SIGNAL, trigger.element)
            self.effects.append(fx.SubscribeSignal(wait=wait.id, element=trigger.element, signal=event.signal))
            return wait
        wait = self.open_wait(token, MESSAGE, trigger.element)
        self.effects.append(
            fx.Subscribe(wait=wait.id, element=trigger.element, message=event.message, correlation_key=trigger.key)
        )
        return wait

    def open_event_wait(
        self,
        token: Token,
        element_id: str,
        event: TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition,
        fired: int = 0,
    ) -> Wait:
        """Open the timer or message wait of a catch or boundary event."""
        return self.open_trigger(token, self.trigger(element_id, event, fired, token), fired)

    def boundary_triggers(self, activity_id: str, token: Token | None = None) -> list[Trigger]:
        """The timer, message and signal boundary events of an activity, evaluated (may raise).

        An instance of a multi-instance activity has none: they belong to its body.
        """
        from legato.engine.multi_instance import is_instance_token

        if token is not None and is_instance_token(self, token):
            return []
        return [
            self.trigger(boundary.id, boundary.event, token=token)
            for boundary in self.definition.boundary_events(activity_id)
            if isinstance(
                boundary.event, TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition
            )
        ]

    def open_boundaries(self, token: Token, triggers: list[Trigger]) -> None:
        for trigger in triggers:
            self.open_trigger(token, trigger)

    def close_wait(self, wait: Wait, outcome: str = "cancelled") -> None:
        del self.state.waits[wait.id]
        self.state.compensating.pop(wait.id, None)
        if wait.incident:
            self.effects.append(fx.ResolveIncident(wait=wait.id, actor=self.actor))
        if wait.kind in (JOB, TIMER):
            self.effects.append(fx.CancelJob(wait=wait.id))
        elif wait.kind in (MESSAGE, SIGNAL):
            self.effects.append(fx.Unsubscribe(wait=wait.id))
        elif wait.kind == TASK:
            self.effects.append(fx.CloseUserTask(wait=wait.id, outcome=outcome, actor=self.actor))
        elif wait.kind == CALL and outcome == "cancelled":
            self.effects.append(fx.CancelChild(wait=wait.id))  # a child that returned is over already

    def close_waits_of(self, token: Token, keep: Wait | None = None) -> None:
        for wait in [w for w in self.state.waits.values() if w.token == token.id]:
            if wait is not keep:
                self.close_wait(wait)

    def raise_incident(self, token: Token, error: Exception, kind: str = INCIDENT) -> None:
        """Park a token whose element failed to evaluate; a retry runs the element again.

        `kind` says what failed, and so what a retry redoes: INCIDENT_LEAVING marks a failure
        while choosing outgoing flows after the element's work was done (the retry only
        chooses again), INCIDENT_COMPLETING a subprocess whose output mappings failed (the
        retry maps again).
        """
        wait = self.open_wait(token, kind, token.element)
        wait.incident = True
        expression_failed = isinstance(error, EvaluationError | ExpressionInvalid)
        error_type = "ExpressionError" if expression_failed else type(error).__name__
        message = str(error)
        self.effects.append(
            fx.CreateIncident(wait=wait.id, element=token.element, error_type=error_type, message=message)
        )
        self.record("incident_created", token.element, {"error_type": error_type, "message": message})

    # -- scopes ----------------------------------------------------------------------------

    def enter_scope(self, token: Token, subprocess_id: str) -> Scope:
        scope = Scope(self.next_id(), subprocess_id, token.scope, token.id)
        self.state.scopes[scope.id] = scope
        return scope

    def tokens_in(self, scope_id: int) -> list[Token]:
        return [t for t in self.state.tokens.values() if t.scope == scope_id]

    def scope_of_subprocess_token(self, token: Token) -> Scope | None:
        for scope in self.state.scopes.values():
            if scope.token == token.id:
                return scope
        return None

    def terminate_token(self, token: Token) -> None:
        """Interrupt whatever a token is doing: close its waits and any scope it runs."""
        inner = self.scope_of_subprocess_token(token)
        if inner is not None:
            self.terminate_scope(inner)
            del self.state.scopes[inner.id]
        self.close_waits_of(token)
        if token.state == WAITING:
            self.record("element_terminated", token.element)
        self.state.tokens.pop(token.id, None)

    def terminate_scope(self, scope: Scope) -> None:
        self.terminate_within(scope.id)

    def terminate_within(self, scope_id: int) -> None:
        """End every token of a scope (the root too) and the scopes without a holder token
        that hang from it: multi-instance instances and running compensation handlers."""
        for token in self.tokens_in(scope_id):
            self.terminate_token(token)
        for child in [s for s in self.state.scopes.values() if s.parent == scope_id and s.token is None]:
            self.terminate_within(child.id)
            del self.state.scopes[child.id]

    def after_token_ended(self, scope_id: int) -> None:
        """If nothing is left in a scope, the scope completes (BPMN 2.0, 13.3.1).

        Listeners of event subprocesses do not count: they close with the scope.
        """
        from legato.engine.event_subprocess import disarm, is_listener

        if any(t.scope == scope_id and not is_listener(self, t) for t in self.state.tokens.values()):
            return
        disarm(self, scope_id)
        if scope_id == ROOT_SCOPE:
            self.end_instance("completed")
            return
        if self.state.scopes[scope_id].kind == INSTANCE:
            from legato.engine.multi_instance import instance_completed

            try:
                instance_completed(self, self.state.scopes[scope_id])
            except (EvaluationError, ExpressionInvalid) as exc:
                body = self.state.scopes.get(self.state.scopes[scope_id].parent or ROOT_SCOPE)
                holder = self.state.tokens[body.token] if body is not None and body.token is not None else None
                if holder is None:
                    raise
                self.raise_incident(holder, exc, INCIDENT_COMPLETING)
            return
        scope = self.state.scopes[scope_id]
        assert scope.token is not None
        self.complete_subprocess(self.state.tokens[scope.token])

    def complete_subprocess(self, token: Token) -> None:
        """The last token of a subprocess ended: the subprocess activity completes.

        Its output mappings see the subprocess's local variables (its input mappings, as
        Camunda 7 and 8 create them), so the scope is dropped only once they are mapped; a
        failing mapping is an incident, and its retry maps again from the same locals.
        """
        element = self.definition.elements[token.element]
        inner = self.scope_of_subprocess_token(token)
        from legato.engine.compensation import is_handler_token

        if isinstance(element, SubProcessElement) and element.triggered_by_event and not is_handler_token(self, token):
            from legato.engine.event_subprocess import completed

            if inner is not None:
                del self.state.scopes[inner.id]
            completed(self, token)
            return
        local = dict(inner.variables) if inner is not None else {}
        try:
            updates = self.outputs(element, local, token) if isinstance(element, Activity) and element.outputs else {}
        except (EvaluationError, ExpressionInvalid) as exc:
            self.raise_incident(token, exc, INCIDENT_COMPLETING)
            return
        if inner is not None:
            del self.state.scopes[inner.id]
        self.finish_activity(token, updates, inner=inner)

    def complete_activity(self, token: Token, result: dict[str, Any]) -> None:
        """A waiting activity is done: map its result, close its waits, move on.

        A failing output mapping raises before anything changed, so each caller decides
        what the failure means for its command.
        """
        element = self.definition.elements[token.element]
        held = self.scope_of_subprocess_token(token)
        local = held.variables if held is not None and held.kind == LOCALS else {}
        if isinstance(element, Activity) and element.outputs:
            updates = self.outputs(element, {**local, **result}, token)  # the outputs see the task's locals
        else:
            updates = result
        if held is not None and held.kind == LOCALS:
            del self.state.scopes[held.id]
        self.finish_activity(token, updates)

    def finish_activity(self, token: Token, updates: dict[str, Any], inner: Scope | None = None) -> None:
        """Write an activity's mapped result, close its waits, and move on.

        `inner` is a completed subprocess's own scope (already dropped): its compensation
        event subprocess, if it has one, undoes it later over a copy of its variables.
        """
        element = self.definition.elements[token.element]
        self.close_waits_of(token)
        changed = self.set_variables(updates, token)
        if isinstance(element, Activity) and self.definition.compensation_handler(element.id) is not None:
            from legato.engine.compensation import record_completion

            record_completion(self, token, element, inner)
        self.record("element_completed", token.element, {"variables": changed} if changed else None)
        token.state = MOVING
        if isinstance(element, EndEventElement):  # a message end event's send is done: the path ends
            scope = token.scope
            self.consume(token)
            self.after_token_ended(scope)
            return
        self.leave_safely(token)

    def leave_safely(self, token: Token) -> None:
        try:
            self.leave(token)
        except (EvaluationError, ExpressionInvalid) as exc:
            self.raise_incident(token, exc, INCIDENT_LEAVING)

    def end_instance(self, status: str) -> None:
        if self.state.status != ACTIVE:
            return
        self.state.status = status
        self.record(f"instance_{status}")
        self.effects.append(fx.InstanceEnded(status=status))
        if self.state.caller is not None:
            from legato.engine.calls import return_to_caller

            return_to_caller(self, status)

    # -- errors ----------------------------------------------------------------------------

    def find_error_catch(self, element_id: str, code: str | None) -> BoundaryEvent | None:
        """The error boundary of an activity that catches `code`: its own code first.

        A boundary without a code catches every error (BPMN 2.0, 10.5.5), but only when no
        boundary on the same activity names the code, as in Camunda: the order the
        boundaries were drawn in must not decide which path an error takes. An error
        without a code (an error end event without `errorRef`) is caught by a catch-all only.
        """
        catch_all = None
        for boundary in self.definition.boundary_events(element_id):
            event = boundary.event
            if isinstance(event, ErrorDefinition):
                if code is not None and event.code == code:
                    return boundary
                if event.code is None and catch_all is None:
                    catch_all = boundary
        return catch_all

    def throw_error(self, token: Token, code: str | None, message: str | None, from_activity: bool) -> bool:
        """Propagate a BPMN error to the innermost catching boundary event (BPMN 2.0, 10.5.5).

        Returns False when nothing catches it, so the caller raises an incident.
        """
        current = token
        if from_activity:
            boundary = self.find_error_catch(token.element, code)
            if boundary is not None:
                self.interrupt_into(token, boundary, {"code": code, "message": message})
                return True
        from legato.engine.event_subprocess import catch

        data = {"code": code, "message": message}
        scope_id = token.scope
        while scope_id != ROOT_SCOPE:
            scope = self.state.scopes[scope_id]
            if scope.kind == SUBPROCESS and catch(self, scope.element, scope_id, ErrorDefinition, code, data):
                return True  # an error event subprocess of this scope (BPMN 2.0, 10.3.5)
            scope_id = scope.parent if scope.parent is not None else ROOT_SCOPE
            if scope.kind != SUBPROCESS:
                continue  # the body and instances of a multi-instance activity catch nothing
            assert scope.element is not None and scope.token is not None
            current = self.state.tokens[scope.token]
            boundary = self.find_error_catch(scope.element, code)
            if boundary is not None:
                self.interrupt_into(current, boundary, data)
                return True
        from legato.engine.calls import escape_error

        return catch(self, None, ROOT_SCOPE, ErrorDefinition, code, data) or escape_error(self, code, message)

    def interrupt_into(self, token: Token, boundary: BoundaryEvent, data: dict[str, Any] | None) -> None:
        """Cancel an activity and continue from one of its boundary events."""
        from legato.engine.multi_instance import body_token

        token = body_token(self, token)
        scope = token.scope
        self.terminate_token(token)
        successor = self.new_token(boundary.id, scope)
        self.record("boundary_triggered", boundary.id, data)
        self.leave_safely(successor)

    # -- driving ---------------------------------------------------------------------------

    def run(self) -> None:
        """Move tokens on the agenda until each rests in a wait state or has ended."""
        from legato.engine.behaviours import enter
        from legato.engine.gateways import release_inclusive_joins

        rounds = 0
        while True:
            while self.agenda:
                token = self.agenda.popleft()
                if token.id not in self.state.tokens or self.state.status != ACTIVE:
                    continue
                try:
                    enter(self, token)
                except (EvaluationError, ExpressionInvalid) as exc:
                    self.raise_incident(token, exc)
            # Tokens that ended or came to rest may have been all an inclusive join was
            # waiting for (BPMN 2.0, 13.4.3): check the joins once everything has settled.
            if self.state.status != ACTIVE:
                return
            if release_inclusive_joins(self):
                continue
            if self.conditions_dirty:
                from legato.engine.conditions import fire_conditions

                rounds += 1
                if rounds > MAX_CONDITION_ROUNDS:
                    raise EvaluationError("conditional events kept firing each other; is there a loop?")
                if fire_conditions(self):
                    continue
            return

    def schedule_due(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=seconds)


_MISSING = object()
