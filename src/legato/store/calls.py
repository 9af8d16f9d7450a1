"""Call activities across instances: children started, cancelled and answered in the
transaction of the step that asked for it.

The engine runs one instance per step, so a call activity talks to its child through
effects (engine/calls.py): `StartChild` when it is entered, `CancelChild` when its wait
closes early, and the child's `ReturnToCaller` when the child ends. `Executor.finish`
hands them here after each flush of the writer. A parent's step and its child's start
therefore commit together or not at all, and so do a child's end and its parent's next
step. What a round does may ask for more (a child that calls at once, a child that ends
at once), so delivery goes on round by round until nothing is left.

Two bounds stop recursion that would never end:

- depth: a child deeper than MAX_CALL_DEPTH in a chain of calls (a process that calls
  itself with no way out) is not started; its call activity gets an incident instead,
  and the step that got there still commits;
- rounds: more than MAX_CALL_ROUNDS rounds in one transaction (children that end at once,
  called again and again by a loop in the caller) raise EvaluationError, and the whole
  transaction rolls back, as a loop of signals does.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from legato.engine import effects as fx
from legato.engine.commands import (
    CancelInstance,
    Command,
    CompleteCallActivity,
    EscalateCallActivity,
    FailCallActivity,
    HoldCallActivity,
)
from legato.engine.state import CANCELLED
from legato.errors import EvaluationError, LegatoError
from legato.store.commands import CommandItem, LatestKey, StartRequest
from legato.store.definitions import StoredDefinition
from legato.store.sql import fetch
from legato.store.writer import Writer

if TYPE_CHECKING:
    from legato.store.commands import Executor

MAX_CALL_DEPTH = 32
"""Most call activities between a root instance and its deepest descendant."""
MAX_CALL_ROUNDS = 256
"""Most rounds of starting, cancelling and answering children in one transaction."""

_ANCESTORS = (
    "WITH RECURSIVE chain(id, depth) AS ("
    "SELECT parent_id, 1 FROM instances WHERE id = :id AND parent_id IS NOT NULL "
    "UNION ALL SELECT i.parent_id, chain.depth + 1 FROM instances i JOIN chain ON i.id = chain.id "
    "WHERE i.parent_id IS NOT NULL AND chain.depth <= :limit) "
    "SELECT COUNT(*) FROM chain"
)
_ACTIVE_CHILDREN = "SELECT id FROM instances WHERE parent_id = :parent AND parent_wait = :wait AND status = 'active'"


class CallDelivery:
    """The calls of one transaction: created by `Executor.finish` at the first one."""

    def __init__(self, executor: Executor, conn: Connection, now: datetime) -> None:
        self.executor = executor
        self.conn = conn
        self.now = now
        self.rounds = 0
        self.cascaded: set[str] = set()  # cancelled because their caller was: no one to answer

    def deliver(self, writer: Writer) -> None:
        """One round: start children, cancel children, answer callers, in that order."""
        self.rounds += 1
        if self.rounds > MAX_CALL_ROUNDS:
            raise EvaluationError(
                f"call activities kept calling and returning for {MAX_CALL_ROUNDS} rounds in one step; "
                "is there a loop that calls a process that ends at once?"
            )
        pending, writer.calls = writer.calls, []
        starts: dict[tuple[str, int], fx.StartChild] = {}
        cancels: list[tuple[str, int]] = []
        answers: list[CommandItem] = []
        for instance_id, effect in pending:
            if isinstance(effect, fx.StartChild):
                starts[(instance_id, effect.wait)] = effect
            elif isinstance(effect, fx.CancelChild):
                # Started and cancelled by the same steps: the child is never started at all.
                if starts.pop((instance_id, effect.wait), None) is None:
                    cancels.append((instance_id, effect.wait))
            elif isinstance(effect, fx.ReturnToCaller) and instance_id not in self.cascaded:
                answers.append(CommandItem(instance_id=effect.parent, command=_answer(instance_id, effect)))
            elif isinstance(effect, fx.EscalateToCaller) and instance_id not in self.cascaded:
                command = EscalateCallActivity(wait=effect.wait, code=effect.code, actor=f"instance:{instance_id}")
                answers.append(CommandItem(instance_id=effect.parent, command=command))
        items = self._start(starts, writer) + self._cancel(cancels) + answers
        if items:
            # An answer that finds its call closed (a boundary event fired, the caller was
            # cancelled) is stale, and skipped like any stale command.
            self.executor._apply(self.conn, items, self.now, writer)

    def _start(self, starts: dict[tuple[str, int], fx.StartChild], writer: Writer) -> list[CommandItem]:
        """Start each child; a call that cannot start holds its call activity in an incident."""
        held: list[CommandItem] = []
        rows: list[dict[str, Any]] = []
        latest: dict[LatestKey, StoredDefinition] = {}
        for (parent_id, wait), effect in starts.items():
            depth = self._ancestors(parent_id) + 1
            if depth > MAX_CALL_DEPTH:
                message = (
                    f"calling {effect.process!r} would nest calls {depth} deep; the limit is {MAX_CALL_DEPTH} "
                    "(does the process call itself with no way out?)"
                )
                held.append(_hold(parent_id, wait, "CallDepthExceeded", message))
                continue
            request = StartRequest(
                process=effect.process,
                version=effect.version,
                variables=effect.variables,
                actor=f"instance:{parent_id}",
                # A fixed tenant (calledElementTenantId): that tenant's process only, and the
                # child belongs to it. Else the caller's tenant first, then the shared one
                # (Camunda's resolution), and the child belongs to the caller's tenant.
                tenant=effect.tenant if effect.tenant is not None else writer.tenant_of.get(parent_id),
                exact_tenant=effect.tenant is not None,
            )
            try:
                self.executor.start_within(self.conn, request, self.now, writer, rows, latest, caller=(parent_id, wait))
            except LegatoError as exc:  # no such process or version, no plain start event
                held.append(_hold(parent_id, wait, type(exc).__name__, exc.message))
        self.executor.insert_instances(self.conn, rows)
        return held

    def _cancel(self, cancels: list[tuple[str, int]]) -> list[CommandItem]:
        """Cancel the running child of each closed call; each child's own calls follow in
        the next round, through the `CancelChild` effects its cancellation emits."""
        items: list[CommandItem] = []
        for parent_id, wait in cancels:
            for (child_id,) in fetch(self.conn, _ACTIVE_CHILDREN, {"parent": parent_id, "wait": wait}):
                self.cascaded.add(child_id)
                command = CancelInstance(actor=f"instance:{parent_id}", reason="its call activity was cancelled")
                items.append(CommandItem(instance_id=child_id, command=command))
        return items

    def _ancestors(self, instance_id: str) -> int:
        rows = fetch(self.conn, _ANCESTORS, {"id": instance_id, "limit": MAX_CALL_DEPTH})
        return int(rows[0][0])


def _answer(child_id: str, effect: fx.ReturnToCaller) -> Command:
    actor = f"instance:{child_id}"
    if effect.failed or effect.error_code is not None:
        return FailCallActivity(wait=effect.wait, code=effect.error_code, message=effect.error_message, actor=actor)
    if effect.status == CANCELLED:
        # Cancelled on its own, not through its caller: the caller must not wait forever.
        message = f"the called instance {child_id} was cancelled"
        return HoldCallActivity(wait=effect.wait, error_type="CalledInstanceCancelled", message=message, actor=actor)
    # Completed, or ended by a terminate end event: a normal end either way (BPMN 2.0, 10.5.3).
    return CompleteCallActivity(wait=effect.wait, variables=effect.variables, actor=actor)


def _hold(parent_id: str, wait: int, error_type: str, message: str) -> CommandItem:
    command = HoldCallActivity(wait=wait, error_type=error_type, message=message)
    return CommandItem(instance_id=parent_id, command=command)
