"""Commands: everything that can happen to a running instance, as data.

A command names the wait state it answers (`wait`), so a command that arrives twice, or
after the wait was cancelled (a boundary timer fired first), is recognised as stale and
changes nothing: this is what makes the engine's own state changes exactly-once under
at-least-once delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from legato.engine.migrate import MigrationPlan


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    actor: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CompleteJob(Command):
    wait: int
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class FailJob(Command):
    """A handler attempt failed with a technical error (exception or timeout)."""

    wait: int
    attempt: int
    error_type: str
    message: str
    details: str | None = None
    jitter: float = 0.5  # a sample in [0, 1) the runtime draws, so the engine stays pure
    retries: int | None = None
    """Retries left, as an external worker decides them (Camunda's `retries`): 0 opens the
    incident. None: the task's retry policy decides, as for in-process handlers."""
    retry_in: float | None = None
    """With `retries`: seconds until the next attempt (None: the policy's backoff)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ThrowError(Command):
    """A handler raised a BPMN error: a business outcome a boundary event may catch."""

    wait: int
    code: str
    message: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class FireTimer(Command):
    wait: int


@dataclass(frozen=True, kw_only=True, slots=True)
class CorrelateMessage(Command):
    wait: int
    message: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerSignal(Command):
    wait: int
    signal: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class CompleteUserTask(Command):
    wait: int
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ActOnUserTask(Command):
    """A person acted on an open user task without completing it: claimed, assigned,
    delegated, resolved it, saved a draft, commented, attached a file.

    The instance does not move; the action is recorded in its history as `task_<action>`
    with `data`, and `changes` (the task row's columns) go to the store as one effect. Who
    may act is decided before (store/task_actions.py), in the same transaction.
    """

    wait: int
    action: str
    changes: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryIncident(Command):
    """Resolve an incident and run its element again; `variables` are set on the instance
    first, so the operator's fix and the retry are one step (a job's inputs are read again)."""

    wait: int
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class SetVariables(Command):
    """An operator sets or removes instance (process-level) variables: a repair, not a step
    of the process. Conditional events see the change as they see any other."""

    variables: dict[str, Any] = field(default_factory=dict)
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelInstance(Command):
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CompleteCallActivity(Command):
    """The instance a call activity called completed with these final variables."""

    wait: int
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class FailCallActivity(Command):
    """A BPMN error that nothing caught ended the called instance: the call activity throws it."""

    wait: int
    code: str | None  # None: an error end event without a code, caught by a catch-all
    message: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldCallActivity(Command):
    """The called instance could not start, or was cancelled on its own: an incident on the
    call activity, whose retry calls the process again."""

    wait: int
    error_type: str
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class EscalateCallActivity(Command):
    """The instance a call activity called threw an escalation that nothing there caught."""

    wait: int
    code: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ModifyInstance(Command):
    """An operator moves tokens (Camunda's "modify instance"): the tokens at each element of
    `cancel` are cancelled with everything they wait for, then a token starts before each
    element of `start_before`. One command, so the move is atomic: it happens entirely or,
    when any part of it cannot be made, not at all (engine/modify.py)."""

    cancel: tuple[str, ...] = ()
    start_before: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MigrateInstance(Command):
    """An operator moves an instance to another version of its process (engine/migrate.py):
    its tokens and waits take the target's elements by the plan's mapping, all of it or,
    when any element cannot move, nothing. `source_id` and `target_id` are the stored
    definitions' ids: an instance no longer on `source_id` (migrated meanwhile) is stale."""

    plan: MigrationPlan
    source_id: int
    target_id: int
