"""Modifying an instance: cancel the tokens at some elements, start tokens before others.

Camunda's "process instance modification", for the repairs a fix needs: an instance that
took a wrong branch is moved back (cancel at `ship`, start before `check`), a step that
cannot succeed is skipped (cancel at `charge`, start before `notify`), a step is run once
more beside what waits (start before `remind`), or one waiting activity of several is
dropped (cancel at `legal_review`).

What a cancellation removes is what the token waited for, exactly as an interrupting
boundary event would remove it (`Step.terminate_token`): its job or timer is deleted, its
message or signal subscription dropped, its user task closed as cancelled, its incident
resolved, a subprocess or multi-instance body it runs terminated with everything inside,
and a called child instance cancelled. A token started before an element enters it as
if it had arrived by a flow: the element's job, timer, subscription or task is created by
the element's own behaviour.

Everything is checked against the definition and the instance first, and the command
runs on a copy of the state (engine/core.py), so a modification that cannot be made in
full raises `ModificationInvalid` naming the element and changes nothing:

- every element exists and is a flow node a token can rest at (not a boundary event, an
  event subprocess or an element inside one: those start only by their trigger);
- each element to cancel has at least one token at it, and no element is named twice;
- each element to start before lies in the process itself or in a subprocess that is
  running once in this instance (after the cancellations), not inside a multi-instance
  activity, whose instances each have their own scope;
- the instance keeps at least one token, and so does every subprocess that was not itself
  cancelled: to end the instance, cancel it.
"""

from __future__ import annotations

from legato.engine.event_subprocess import is_listener
from legato.engine.state import SUBPROCESS, Token
from legato.engine.step import ROOT_SCOPE, Step
from legato.errors import ModificationInvalid
from legato.model.elements import BoundaryEvent, SubProcess


def modify(step: Step, cancel: tuple[str, ...], start_before: tuple[str, ...], reason: str | None) -> None:
    """Apply a modification to the step's state (a copy): validate, cancel, then start."""
    if not cancel and not start_before:
        raise ModificationInvalid(None, "name an element to cancel or to start before")
    for field, names in (("cancel", cancel), ("start_before", start_before)):
        if len(set(names)) != len(names):
            duplicate = next(name for name in names if names.count(name) > 1)
            raise ModificationInvalid(duplicate, f"is named twice in {field}")
        for name in names:
            _check_flow_node(step, name)
    doomed = {name: _tokens_at(step, name) for name in cancel}
    for name, tokens in doomed.items():
        if not tokens:
            raise ModificationInvalid(name, "no token is at this element in the instance")
    step.record(
        "instance_modified",
        None,
        {"cancelled": list(cancel), "started_before": list(start_before), **({"reason": reason} if reason else {})},
    )
    emptied: set[int] = set()
    for tokens in doomed.values():
        for token in tokens:
            if token.id in step.state.tokens:  # not ended with an enclosing scope cancelled first
                emptied.add(token.scope)
                step.terminate_token(token)
    targets = [(name, _scope_for(step, name)) for name in start_before]
    for scope_id in emptied:
        if scope_id not in step.state.scopes and scope_id != ROOT_SCOPE:
            continue  # the scope itself was cancelled with its holder
        if _busy(step, scope_id) or any(target == scope_id for _, target in targets):
            continue
        if scope_id == ROOT_SCOPE:
            raise ModificationInvalid(None, "the instance would have no token left: cancel the instance instead")
        holder = step.state.scopes[scope_id].element
        raise ModificationInvalid(holder, "this subprocess would have no token left: cancel it instead")
    for name, scope_id in targets:
        step.agenda.append(step.new_token(name, scope_id))  # enters as if it arrived by a flow


def _check_flow_node(step: Step, name: str) -> None:
    element = step.definition.elements.get(name)
    if element is None:
        raise ModificationInvalid(name, f"process {step.definition.id!r} has no such element")
    if isinstance(element, BoundaryEvent):
        raise ModificationInvalid(name, "a boundary event starts only when its trigger arrives")
    if isinstance(element, SubProcess) and element.triggered_by_event:
        raise ModificationInvalid(name, "an event subprocess starts only when its trigger arrives")
    for ancestor in step.definition.ancestors(name):
        container = step.definition.elements[ancestor]
        if isinstance(container, SubProcess) and container.triggered_by_event:
            raise ModificationInvalid(name, f"is inside event subprocess {ancestor!r}, which only its trigger starts")


def _tokens_at(step: Step, name: str) -> list[Token]:
    return [t for t in step.state.tokens.values() if t.element == name and not is_listener(step, t)]


def _busy(step: Step, scope_id: int) -> bool:
    return any(t.scope == scope_id and not is_listener(step, t) for t in step.state.tokens.values())


def _scope_for(step: Step, name: str) -> int:
    """The scope a token started before `name` runs in: the process, or the one running
    instance of the subprocess that contains it."""
    parent = step.definition.elements[name].parent
    if parent is None:
        return ROOT_SCOPE
    container = step.definition.elements[parent]
    if getattr(container, "multi_instance", None) is not None:
        raise ModificationInvalid(name, f"is inside multi-instance activity {parent!r}: start before {parent!r}")
    running = [s for s in step.state.scopes.values() if s.element == parent and s.kind == SUBPROCESS]
    if not running:
        raise ModificationInvalid(name, f"its subprocess {parent!r} is not running: start before {parent!r} instead")
    if len(running) > 1:
        raise ModificationInvalid(name, f"its subprocess {parent!r} runs {len(running)} times: which one is ambiguous")
    return running[0].id
