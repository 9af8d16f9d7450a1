"""Compensation (BPMN 2.0, 10.5.5 and 13.5.5): undo, newest first, what already completed.

An activity with a compensation handler (`compensated_by`) that completes is written to
the instance's compensation log, with the path of scopes it ran in and the local
variables it saw (a multi-instance item, for example), so that its undo sees the same.
A compensation throw (an intermediate throw or end event) takes from the log every entry
of its scope, including activities of subprocesses that ran inside it, or only those of
one activity (`CompensationDefinition.activity`), and runs their handlers one at a time,
newest first. The throwing token waits until the last handler is done
(waitForCompletion), then goes on. Each entry is undone at most once.

An embedded subprocess is undone as a whole (BPMN 2.0.2, 10.3.5 and 10.5.5): by its
compensation event subprocess when it has one, which then runs over a copy of the
subprocess's variables as they were when it completed, and whose own compensation throw
undoes the activities that ran inside the subprocess; without one, compensating the
subprocess (an `activityRef` naming it) undoes the activities inside it that have handlers,
newest first, as Camunda 7 does.

A difference from the spec, on purpose: handlers always run one after another (the spec
allows them in parallel), because an undo often depends on the later step's undo having
happened.
"""

from __future__ import annotations

from typing import Any

from legato.engine.state import COMPENSATING, MOVING, Scope, Token
from legato.engine.step import ROOT_SCOPE, Step
from legato.model.elements import Activity, CancelDefinition, CompensationDefinition, EndEvent, SubProcess

HANDLER = "comp"  # the scope kind a compensation handler runs in, holding the snapshot locals


def record_completion(step: Step, token: Token, activity: Activity, inner: Scope | None = None) -> None:
    """Log a completed activity that has an undo.

    A subprocess undone by its compensation event subprocess also logs its own scope's id
    and variables (`inner`): the event subprocess runs over them, and its compensation
    throw reaches what ran in that scope.
    """
    from legato.engine.multi_instance import body_token

    handler = step.definition.compensation_handler(activity.id)
    if handler is None:
        return
    holder = body_token(step, token)
    path = []
    scope_id = holder.scope
    while scope_id != ROOT_SCOPE:
        path.append(scope_id)
        parent = step.state.scopes[scope_id].parent
        scope_id = parent if parent is not None else ROOT_SCOPE
    path.append(ROOT_SCOPE)
    local = {name: value for name, value in step.view(token).items() if name not in step.state.variables}
    entry: list[Any] = [path, activity.id, handler, local]
    if inner is not None and activity.compensated_by is None:  # undone by its compensation event subprocess
        entry[3] = {**local, **inner.variables}
        entry.append(inner.id)
    step.state.compensable.append(entry)


def throw(step: Step, token: Token, event: CompensationDefinition) -> bool:
    """Start compensating; True when the token must wait for handlers to finish."""
    entries = _to_undo(step, token, event)
    step.state.compensable = [entry for entry in step.state.compensable if entry not in entries]
    step.record("compensation_thrown", token.element, {"activities": [entry[1] for entry in reversed(entries)]})
    if not entries:
        return False
    wait = step.open_wait(token, COMPENSATING, token.element)
    step.state.compensating[wait.id] = list(reversed(entries))
    _start_next(step, wait.id, token)
    return True


def _to_undo(step: Step, token: Token, event: CompensationDefinition) -> list[list[Any]]:
    """The log entries a throw undoes, oldest first.

    Those of the thrower's scope (and the scope a running compensation event subprocess
    undoes), or only those of `event.activity`; a subprocess named there without an undo
    of its own stands for the activities inside it. What ran inside a subprocess that has a
    compensation event subprocess is left to that event subprocess.
    """
    scopes = _scopes_of(step, token.scope)
    named = event.activity
    by_event_subprocess = named is not None and step.definition.compensation_handler(named) is not None
    chosen = []
    for entry in step.state.compensable:
        if not scopes.intersection(entry[0]):
            continue
        if named is None or entry[1] == named:
            chosen.append(entry)
        elif not by_event_subprocess and named in step.definition.ancestors(entry[1]):
            chosen.append(entry)  # inside the named subprocess
    kept_for = {entry[4] for entry in chosen if len(entry) > 4}  # undone by their event subprocess
    return [entry for entry in chosen if not kept_for.intersection(entry[0])]


def _scopes_of(step: Step, scope_id: int) -> set[int]:
    """The scope and its enclosing ones; in a compensation event subprocess run as an undo,
    also the (ended) scope of the subprocess it undoes, whose activities it may compensate."""
    found = {scope_id}
    while scope_id != ROOT_SCOPE:
        scope = step.state.scopes[scope_id]
        undoes = scope.meta.get("undoes")
        if undoes is not None:
            found.add(int(undoes))
        scope_id = scope.parent if scope.parent is not None else ROOT_SCOPE
        found.add(scope_id)
    return found


def is_handler_token(step: Step, token: Token) -> bool:
    scope = step.state.scopes.get(token.scope)
    return scope is not None and scope.kind == HANDLER and scope.element == token.element


def handler_done(step: Step, token: Token) -> None:
    """A handler finished: start the next one, or let the throwing token go on."""
    scope = step.state.scopes[token.scope]
    run = int(scope.meta["run"])
    step.consume(token)
    del step.state.scopes[scope.id]
    wait = step.state.waits.get(run)
    if wait is None:
        return  # the compensation was cancelled meanwhile
    thrower = step.state.tokens[wait.token]
    if step.state.compensating.get(run):
        _start_next(step, run, thrower)
        return
    del step.state.compensating[run]
    del step.state.waits[run]
    step.record("compensation_completed", thrower.element)
    thrower.state = MOVING
    element = step.definition.elements[thrower.element]
    if isinstance(element, EndEvent) and isinstance(element.event, CancelDefinition):
        _leave_transaction(step, thrower)
        return
    if isinstance(element, EndEvent):
        scope_id = thrower.scope
        step.consume(thrower)
        step.after_token_ended(scope_id)
    else:
        step.leave_safely(thrower)


def _start_next(step: Step, run: int, thrower: Token) -> None:
    path, activity, handler, local, *undone = step.state.compensating[run].pop(0)
    # the innermost scope of the activity that still runs, or the thrower's
    target = next((scope_id for scope_id in path if scope_id in step.state.scopes), thrower.scope)
    meta: dict[str, Any] = {"run": run}
    if undone:
        meta["undoes"] = undone[0]  # a compensation event subprocess: the subprocess scope it undoes
    scope = Scope(step.next_id(), handler, target, None, HANDLER, dict(local), meta)
    step.state.scopes[scope.id] = scope
    step.record("compensation_started", handler, {"compensates": activity})
    step.agenda.append(step.new_token(handler, scope.id))


def log_entries(step: Step) -> list[dict[str, Any]]:
    """The compensation log, readable (for tests and the instance view)."""
    return [{"activity": e[1], "handler": e[2]} for e in step.state.compensable]


def cancel_transaction(step: Step, token: Token) -> None:
    """A cancel end event (BPMN 2.0, 10.5.5, 13.5.5): end the transaction's other paths,
    undo what completed inside it, newest first, then leave by its cancel boundary."""
    transaction = _transaction_scope(step, token)
    step.record("transaction_cancelled", transaction.element)
    for other in step.tokens_in(transaction.id):
        if other is not token:
            step.terminate_token(other)
    for child in [s for s in step.state.scopes.values() if s.parent == transaction.id and s.token is None]:
        step.terminate_within(child.id)
        del step.state.scopes[child.id]
    entries = [entry for entry in step.state.compensable if transaction.id in entry[0]]
    kept_for = {entry[4] for entry in entries if len(entry) > 4}
    entries = [entry for entry in entries if not kept_for.intersection(entry[0])]
    step.state.compensable = [entry for entry in step.state.compensable if entry not in entries]
    if not entries:
        _leave_transaction(step, token)
        return
    step.record("compensation_thrown", token.element, {"activities": [entry[1] for entry in reversed(entries)]})
    wait = step.open_wait(token, COMPENSATING, token.element)
    step.state.compensating[wait.id] = list(reversed(entries))
    _start_next(step, wait.id, token)


def _transaction_scope(step: Step, token: Token) -> Scope:
    scope_id = token.scope
    while scope_id != ROOT_SCOPE:
        scope = step.state.scopes[scope_id]
        element = step.definition.elements.get(scope.element or "")
        if isinstance(element, SubProcess) and element.transaction and scope.token is not None:
            return scope
        scope_id = scope.parent if scope.parent is not None else ROOT_SCOPE
    raise AssertionError("validation puts every cancel end event inside a transaction")


def _leave_transaction(step: Step, token: Token) -> None:
    transaction = _transaction_scope(step, token)
    assert transaction.element is not None and transaction.token is not None
    [boundary] = [
        b for b in step.definition.boundary_events(transaction.element) if isinstance(b.event, CancelDefinition)
    ]
    step.interrupt_into(step.state.tokens[transaction.token], boundary, {"cancelled": True})
