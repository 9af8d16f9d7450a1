"""Drive one process instance through the pure engine, the way a store would, in memory.

    from datetime import timedelta
    from legato.testing import EngineHarness

    h = EngineHarness(definition, variables={"amount": 120}, reload=True)
    h.complete_job("check_credit", {"approved": True})
    h.advance(timedelta(hours=1))          # fires every timer due within the hour
    h.complete_task("approve", {"ok": True}, actor="ann")
    assert h.status == "completed"

The harness keeps what a store keeps: the instance state, and the open waits that the
engine's effects announced (jobs, timers, subscriptions, user tasks, incidents). Commands
name an *element* instead of a wait id; the harness finds the open wait there. Time is a
datetime that moves only when you move it (`advance`, `fire_timer`), so timers fire
deterministically and no test sleeps.

`reload=True` saves and reloads the state after every step exactly as the store does
(`to_dict()` and the variables in their own column, both through JSON), so a scenario run
both ways proves that nothing the engine needs lives only in memory (STYLE.md, habit 6).

Every step is also checked, and a failed check raises `HarnessError` (an AssertionError):
the engine must not change the state it was given; history `seq` numbers must run on
without gaps; the waits that the effects opened and closed must be exactly the waits in
the state; an ended instance must hold no tokens, scopes or waits. A test of your own
process therefore also tests that the engine kept its promises.

Only `legato.engine` and below are imported: the harness runs without a database.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from legato.engine import effects as fx
from legato.engine.commands import (
    CancelInstance,
    Command,
    CompleteCallActivity,
    CompleteJob,
    CompleteUserTask,
    CorrelateMessage,
    FailCallActivity,
    FailJob,
    FireTimer,
    HoldCallActivity,
    MigrateInstance,
    ModifyInstance,
    RetryIncident,
    SetVariables,
    ThrowError,
    TriggerSignal,
)
from legato.engine.core import StepResult, apply, start
from legato.engine.migrate import plan_migration
from legato.engine.state import (
    ACTIVE,
    CALL,
    JOB,
    JOINING,
    MESSAGE,
    SIGNAL,
    TASK,
    TIMER,
    WAITING,
    InstanceState,
)
from legato.errors import MessageNotCorrelated
from legato.model.elements import BoundaryEvent, IntermediateCatchEvent, MessageDefinition
from legato.model.process import ProcessDefinition

__all__ = ["DEFAULT_START", "EngineHarness", "HarnessError", "Incident", "OpenWait"]

DEFAULT_START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
# Every other kind of wait is an incident alone (entering, leaving, completing failed).
_OPENED_BY_EFFECTS = (JOB, TIMER, MESSAGE, SIGNAL, TASK, CALL)


class HarnessError(AssertionError):
    """A scenario asked for something that is not there, or the engine broke a promise."""


@dataclass(slots=True)
class OpenWait:
    """One open wait as a store sees it: a job, timer, subscription or user task row."""

    wait: int
    kind: str  # "job" | "timer" | "message" | "task"
    element: str
    due: datetime | None = None
    task_type: str | None = None
    payload: dict[str, Any] | None = None
    attempts: int = 0  # failed attempts so far (jobs)
    held: bool = False  # a job stopped by an incident
    last_error: str | None = None
    message: str | None = None
    correlation_key: str | None = None
    assignee: str | None = None
    candidate_groups: tuple[str, ...] = ()
    process: str | None = None  # the process a call activity called


@dataclass(frozen=True, slots=True)
class Incident:
    wait: int
    element: str
    error_type: str
    message: str


class EngineHarness:
    """One instance, started at construction; see the module docstring."""

    def __init__(
        self,
        definition: ProcessDefinition,
        *,
        variables: dict[str, Any] | None = None,
        now: datetime = DEFAULT_START,
        reload: bool = False,
        instance_id: str = "instance-1",
        start_event: str | None = None,
        actor: str | None = None,
        caller: tuple[str, int] | None = None,
    ) -> None:
        self.definition = definition
        self.reload = reload
        self.now = now
        self.effects: list[fx.Effect] = []  # of the last step
        self.all_effects: list[fx.Effect] = []
        self._waits: dict[int, OpenWait] = {}
        self._incidents: dict[int, Incident] = {}
        self._history: list[fx.Record] = []
        self.broadcasts: list[str] = []  # signals this instance threw, in order
        result = start(
            definition,
            instance_id=instance_id,
            variables=dict(variables or {}),
            now=now,
            actor=actor,
            start_event=start_event,
            caller=caller,
        )
        self.state = result.state
        self._absorb(result, was_active=True)

    @classmethod
    def resume(
        cls,
        definition: ProcessDefinition,
        state: InstanceState,
        *,
        now: datetime = DEFAULT_START,
        reload: bool = False,
    ) -> EngineHarness:
        """Take over a stored instance (a golden file, a row copied from a store).

        The open waits are rebuilt from the state alone, so what only the effects said
        (job payloads, due times, correlation keys) is unknown: timers fire at `now`.
        """
        harness = cls.__new__(cls)
        harness.definition = definition
        harness.reload = reload
        harness.now = now
        harness.effects = []
        harness.all_effects = []
        harness._history = []
        harness._waits = {}
        harness._incidents = {}
        harness.state = state
        for wait in state.waits.values():
            if wait.kind not in _OPENED_BY_EFFECTS:
                harness._incidents[wait.id] = Incident(wait.id, wait.element, "unknown", "")
                continue
            open_wait = OpenWait(wait=wait.id, kind=wait.kind, element=wait.element, held=wait.incident)
            element = definition.elements[wait.element]
            if isinstance(element, IntermediateCatchEvent | BoundaryEvent) and isinstance(
                element.event, MessageDefinition
            ):
                open_wait.message = element.event.message
            harness._waits[wait.id] = open_wait
            if wait.incident:
                harness._incidents[wait.id] = Incident(wait.id, wait.element, "unknown", "")
        harness._check_waits()
        return harness

    # -- reading -------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def variables(self) -> dict[str, Any]:
        return copy.deepcopy(self.state.variables)

    @property
    def incidents(self) -> list[Incident]:
        return sorted(self._incidents.values(), key=lambda i: i.wait)

    def waiting_at(self) -> list[str]:
        """Sorted element ids of every open wait: jobs, timers, subscriptions, tasks, incidents."""
        elements = [w.element for w in self._waits.values()]
        elements += [i.element for i in self._incidents.values() if i.wait not in self._waits]
        return sorted(elements)

    def history(self, *types: str) -> list[fx.Record]:
        """History entries recorded since the start (or resume), optionally of some types."""
        return [r for r in self._history if not types or r.type in types]

    def trail(self) -> list[tuple[str, str | None]]:
        """History as (type, element) pairs: the readable shape for assertions."""
        return [(r.type, r.element) for r in self._history]

    def waits(self, kind: str | None = None) -> list[OpenWait]:
        return [w for w in sorted(self._waits.values(), key=lambda w: w.wait) if kind in (None, w.kind)]

    def job(self, element: str) -> OpenWait:
        return self._one(JOB, element)

    def timer(self, element: str) -> OpenWait:
        return self._one(TIMER, element)

    def task(self, element: str) -> OpenWait:
        return self._one(TASK, element)

    def subscription(self, element: str) -> OpenWait:
        return self._one(MESSAGE, element)

    def call(self, element: str) -> OpenWait:
        """The open call of a call activity: `payload` holds the child's start variables."""
        return self._one(CALL, element)

    def incident(self, element: str) -> Incident:
        found = [i for i in self._incidents.values() if i.element == element]
        if len(found) != 1:
            raise HarnessError(f"{len(found)} incidents at {element!r}; incidents: {self.incidents}")
        return found[0]

    # -- commands ------------------------------------------------------------------------

    def complete_job(self, element: str, variables: dict[str, Any] | None = None, *, actor: str | None = None) -> None:
        job = self.job(element)
        self.send(CompleteJob(wait=job.wait, variables=dict(variables or {}), actor=actor))

    def fail_job(
        self,
        element: str,
        error_type: str = "RuntimeError",
        message: str = "the handler failed",
        *,
        jitter: float = 0.5,
        details: str | None = None,
    ) -> None:
        """One more failed attempt of the job at `element` (the attempt number is counted)."""
        job = self.job(element)
        self.send(
            FailJob(
                wait=job.wait,
                attempt=job.attempts + 1,
                error_type=error_type,
                message=message,
                details=details,
                jitter=jitter,
            )
        )

    def throw_error(
        self,
        element: str,
        code: str,
        message: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> None:
        job = self.job(element)
        self.send(ThrowError(wait=job.wait, code=code, message=message, variables=dict(variables or {})))

    def fire_timer(self, element: str) -> None:
        """Fire the timer at `element`, moving the clock to its due time if that is later."""
        timer = self.timer(element)
        if timer.due is not None and timer.due > self.now:
            self.now = timer.due
        self.send(FireTimer(wait=timer.wait))

    def advance(self, by: timedelta | float) -> list[str]:
        """Move the clock forward, firing each timer that comes due on the way, in order."""
        target = self.now + (by if isinstance(by, timedelta) else timedelta(seconds=by))
        fired = []
        while self.state.status == ACTIVE:
            due = [w for w in self._waits.values() if w.kind == TIMER and w.due is not None and w.due <= target]
            if not due:
                break
            timer = min(due, key=lambda w: (w.due or target, w.wait))
            self.now = max(self.now, timer.due or target)
            self.send(FireTimer(wait=timer.wait))
            fired.append(timer.element)
        self.now = max(self.now, target)
        return fired

    def correlate(
        self,
        message_or_element: str,
        variables: dict[str, Any] | None = None,
        *,
        correlation_key: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Deliver a message: to the subscription at an element, or by name and key.

        By name it matches as the store does: a subscription with exactly that correlation
        key (no key matches only subscriptions without one), the oldest first.
        """
        at_element = [w for w in self.waits(MESSAGE) if w.element == message_or_element]
        if at_element:
            target = at_element[0]
            if correlation_key is not None and target.correlation_key != correlation_key:
                raise MessageNotCorrelated(
                    f"{message_or_element!r} waits for key {target.correlation_key!r}, not {correlation_key!r}"
                )
        else:
            matches = [
                w
                for w in self.waits(MESSAGE)
                if w.message == message_or_element and w.correlation_key == correlation_key
            ]
            if not matches:
                raise MessageNotCorrelated(
                    f"message {message_or_element!r} with key {correlation_key!r} matches no open "
                    f"subscription; subscribed: "
                    f"{[(w.message, w.correlation_key) for w in self.waits(MESSAGE)]}"
                )
            target = matches[0]
        assert target.message is not None
        self.send(
            CorrelateMessage(
                wait=target.wait,
                message=target.message,
                variables=dict(variables or {}),
                actor=actor,
            )
        )

    def signal(self, name: str, variables: dict[str, Any] | None = None, *, actor: str | None = None) -> None:
        """Deliver a broadcast signal to every wait of this instance that catches it."""
        targets = [w for w in self.waits(SIGNAL) if w.message == name]
        if not targets:
            raise HarnessError(f"no wait catches signal {name!r}; open: {self.waits()}")
        for target in targets:
            if target.wait in self._waits:  # an earlier delivery may have closed it
                self.send(TriggerSignal(wait=target.wait, signal=name, variables=dict(variables or {}), actor=actor))

    def complete_task(self, element: str, variables: dict[str, Any] | None = None, *, actor: str | None = None) -> None:
        task = self.task(element)
        self.send(CompleteUserTask(wait=task.wait, variables=dict(variables or {}), actor=actor))

    def retry_incident(
        self, element: str, variables: dict[str, Any] | None = None, *, actor: str | None = None
    ) -> None:
        self.send(RetryIncident(wait=self.incident(element).wait, variables=dict(variables or {}), actor=actor))

    def set_variables(
        self, variables: dict[str, Any] | None = None, remove: tuple[str, ...] = (), *, actor: str | None = None
    ) -> None:
        self.send(SetVariables(variables=dict(variables or {}), remove=remove, actor=actor))

    def cancel(self, reason: str | None = None, *, actor: str | None = None) -> None:
        self.send(CancelInstance(reason=reason, actor=actor))

    def modify(
        self,
        *,
        cancel: Iterable[str] = (),
        start_before: Iterable[str] = (),
        reason: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Cancel the tokens at `cancel`'s elements and start tokens before `start_before`'s."""
        self.send(ModifyInstance(cancel=tuple(cancel), start_before=tuple(start_before), reason=reason, actor=actor))

    def migrate(
        self,
        target: ProcessDefinition,
        mapping: dict[str, str] | None = None,
        *,
        generate: bool = True,
        actor: str | None = None,
    ) -> None:
        """Move the instance to `target`, another version of its process, by the generated
        mapping with `mapping` over it (engine/migrate.py); the harness runs on `target` after."""
        plan = plan_migration(self.definition, target, mapping, generate=generate, from_version=1, to_version=2)
        self.send(MigrateInstance(plan=plan, source_id=1, target_id=2, actor=actor))
        self.definition = target

    def complete_call(self, element: str, variables: dict[str, Any] | None = None) -> None:
        """The instance the call activity at `element` called completed with `variables`."""
        self.send(CompleteCallActivity(wait=self.call(element).wait, variables=dict(variables or {})))

    def fail_call(self, element: str, code: str, message: str | None = None) -> None:
        """A BPMN error that nothing caught ended the instance `element` called."""
        self.send(FailCallActivity(wait=self.call(element).wait, code=code, message=message))

    def hold_call(self, element: str, error_type: str, message: str) -> None:
        """The instance `element` calls could not start, or was cancelled on its own."""
        self.send(HoldCallActivity(wait=self.call(element).wait, error_type=error_type, message=message))

    def send(self, command: Command) -> list[fx.Effect]:
        """Apply any command as it is; errors (StaleCommand, ...) propagate unchanged."""
        before = self.state.to_dict()
        variables_before = copy.deepcopy(self.state.variables)
        was_active = self.state.status == ACTIVE
        try:
            result = apply(self.definition, self.state, command, self.now)
        finally:
            if self.state.to_dict() != before or self.state.variables != variables_before:
                raise HarnessError(f"the engine changed the state it was given, applying {command!r}")
        self.state = result.state
        if isinstance(command, CompleteCallActivity | FailCallActivity) and command.wait not in self.state.waits:
            self._waits.pop(command.wait, None)  # the child returned: its call closed without an effect
        self._absorb(result, was_active)
        return result.effects

    # -- bookkeeping ---------------------------------------------------------------------

    def _one(self, kind: str, element: str) -> OpenWait:
        found = [w for w in self._waits.values() if w.kind == kind and w.element == element]
        if len(found) != 1:
            what = "nothing" if not found else f"{len(found)} {kind}s"
            raise HarnessError(
                f"{what} waits at {element!r} as a {kind}; the instance ({self.status}) waits at {self.waiting_at()}"
            )
        return found[0]

    def _absorb(self, result: StepResult, was_active: bool) -> None:
        self.effects = list(result.effects)
        self.all_effects.extend(result.effects)
        ended = [e for e in result.effects if isinstance(e, fx.InstanceEnded)]
        for effect in result.effects:
            self._track(effect)
        if self.reload:
            self.state = _round_trip(self.state)
        if was_active and self.state.status != ACTIVE and [e.status for e in ended] != [self.state.status]:
            raise HarnessError(f"instance became {self.state.status} with InstanceEnded effects {ended}")
        if self.state.status != ACTIVE and (self.state.tokens or self.state.waits or self.state.scopes):
            raise HarnessError(f"an ended instance still holds {self.state.to_dict()}")
        self._check_waits()

    def _track(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.Record):
            expected = (self._history[-1].seq + 1) if self._history else effect.seq
            if effect.seq != expected or effect.seq > self.state.history:
                raise HarnessError(f"history seq {effect.seq} follows {expected - 1}")
            self._history.append(effect)
        elif isinstance(effect, fx.ScheduleJob):
            self._open(
                OpenWait(
                    wait=effect.wait,
                    kind=TIMER if effect.task_type is None else JOB,
                    element=effect.element,
                    due=effect.due,
                    task_type=effect.task_type,
                    payload=effect.payload,
                )
            )
        elif isinstance(effect, fx.OpenUserTask):
            self._open(
                OpenWait(
                    wait=effect.wait,
                    kind=TASK,
                    element=effect.element,
                    payload=effect.payload,
                    assignee=effect.assignee,
                    candidate_groups=effect.candidate_groups,
                )
            )
        elif isinstance(effect, fx.Subscribe):
            self._open(
                OpenWait(
                    wait=effect.wait,
                    kind=MESSAGE,
                    element=effect.element,
                    message=effect.message,
                    correlation_key=effect.correlation_key,
                )
            )
        elif isinstance(effect, fx.RetryJob):
            job = self._tracked(effect.wait, JOB, effect)
            job.due, job.attempts, job.last_error = effect.due, effect.attempts, effect.error
            if effect.payload is not None:
                job.payload = effect.payload
        elif isinstance(effect, fx.HoldJob):
            job = self._tracked(effect.wait, JOB, effect)
            job.held, job.last_error = True, effect.error
        elif isinstance(effect, fx.CancelJob):
            self._close(effect.wait, (JOB, TIMER), effect)
        elif isinstance(effect, fx.CloseUserTask):
            self._close(effect.wait, (TASK,), effect)
        elif isinstance(effect, fx.SubscribeSignal):
            self._open(OpenWait(wait=effect.wait, kind=SIGNAL, element=effect.element, message=effect.signal))
        elif isinstance(effect, fx.BroadcastSignal):
            self.broadcasts.append(effect.signal)
        elif isinstance(effect, fx.MoveWait):
            moved = self._waits.get(effect.wait)
            if moved is not None:  # a timer whose cycle ended, a condition: no row to move
                moved.element = effect.element
                if effect.task_type is not None:
                    moved.task_type = effect.task_type
                if effect.message is not None:
                    moved.message = effect.message
            for number, incident in list(self._incidents.items()):
                if number == effect.wait:
                    self._incidents[number] = Incident(number, effect.element, incident.error_type, incident.message)
        elif isinstance(effect, fx.StartChild):
            call = self._waits.get(effect.wait)
            if call is None:  # a retried call starts its new child on the same wait
                self._open(OpenWait(wait=effect.wait, kind=CALL, element=effect.element))
                call = self._waits[effect.wait]
            call.payload, call.process = effect.variables, effect.process
        elif isinstance(effect, fx.CancelChild):
            self._close(effect.wait, (CALL,), effect)
        elif isinstance(effect, fx.Unsubscribe):
            self._close(effect.wait, (MESSAGE, SIGNAL), effect)
        elif isinstance(effect, fx.CreateIncident):
            if effect.wait in self._incidents:
                raise HarnessError(f"a second incident on wait {effect.wait}: {effect}")
            self._incidents[effect.wait] = Incident(effect.wait, effect.element, effect.error_type, effect.message)
        elif isinstance(effect, fx.ResolveIncident):
            if self._incidents.pop(effect.wait, None) is None:
                raise HarnessError(f"{effect} resolves no open incident")
            if effect.wait in self._waits:
                self._waits[effect.wait].held = False

    def _open(self, wait: OpenWait) -> None:
        if wait.wait in self._waits:
            raise HarnessError(f"wait {wait.wait} opened twice: {wait}")
        self._waits[wait.wait] = wait

    def _tracked(self, wait_id: int, kind: str, effect: fx.Effect) -> OpenWait:
        wait = self._waits.get(wait_id)
        if wait is None or wait.kind != kind:
            raise HarnessError(f"{effect} names no open {kind}")
        return wait

    def _close(self, wait_id: int, kinds: Iterable[str], effect: fx.Effect) -> None:
        wait = self._waits.pop(wait_id, None)
        if wait is None or wait.kind not in kinds:
            raise HarnessError(f"{effect} closes no open wait of kind {tuple(kinds)}")

    def _check_waits(self) -> None:
        """The waits the effects announced are exactly the waits in the state."""
        state_waits = self.state.waits
        for wait in self._waits.values():
            held = state_waits.get(wait.wait)
            if held is None or held.kind != wait.kind or held.element != wait.element:
                raise HarnessError(f"the effects left {wait} open, the state has {held}")
        for incident in self._incidents.values():
            held = state_waits.get(incident.wait)
            if held is None or not held.incident:
                raise HarnessError(f"the effects left {incident} open, the state has {held}")
        for held in state_waits.values():
            if held.incident and held.id not in self._incidents:
                raise HarnessError(f"the state holds an incident no effect created: {held}")
            # A timer whose cycle is exhausted has a wait but no job: it never fires.
            if held.kind in (JOB, MESSAGE, SIGNAL, TASK, CALL) and held.id not in self._waits:
                raise HarnessError(f"the state waits on {held}, which no effect opened")
            if held.kind not in (*_OPENED_BY_EFFECTS, "compensating", "call", "condition") and not held.incident:
                raise HarnessError(f"an incident wait without its incident: {held}")
        self._check_tokens()

    def _check_tokens(self) -> None:
        """Between steps every token rests, and waits, tokens and scopes point at each other."""
        state = self.state
        waited_on = {w.token for w in state.waits.values()}
        scope_tokens = {s.token for s in state.scopes.values()}
        for wait in state.waits.values():
            if wait.token not in state.tokens:
                raise HarnessError(f"{wait} belongs to no token; tokens: {state.tokens}")
        for scope in state.scopes.values():
            # One instance of a multi-instance activity hangs from its body scope, not a token.
            held = scope.token in state.tokens or (scope.kind in ("one", "comp") and scope.token is None)
            if not held or (scope.parent != 0 and scope.parent not in state.scopes):
                raise HarnessError(f"{scope} hangs from nothing; state: {state.to_dict()}")
            if scope.kind == "one" and not any(t.scope == scope.id for t in state.tokens.values()):
                raise HarnessError(f"{scope} is an instance without a token: {state.to_dict()}")
        for token in state.tokens.values():
            if token.scope != 0 and token.scope not in state.scopes:
                raise HarnessError(f"{token} is in a scope that is gone: {state.to_dict()}")
            if token.state == JOINING:
                continue
            if token.state != WAITING or (token.id not in waited_on and token.id not in scope_tokens):
                raise HarnessError(f"{token} does not rest in a wait state: {state.to_dict()}")


def _round_trip(state: InstanceState) -> InstanceState:
    """Save and load as the store does: the state and the variables as separate JSON."""
    data = orjson.loads(orjson.dumps(state.to_dict()))
    variables = orjson.loads(orjson.dumps(state.variables))
    return InstanceState.from_dict(data, variables)
