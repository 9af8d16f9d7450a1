"""Effects: what the shell must persist or do after the engine decided a step.

The store applies all effects of a step in the same transaction as the new state, so a
step is never half-applied. Job and task ids are derived from the instance id and the
wait id, so applying the same effects twice would collide instead of duplicating work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class Effect:
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleJob(Effect):
    """A job for a service task (`task_type` set) or a timer (`task_type` None)."""

    wait: int
    element: str
    due: datetime
    task_type: str | None = None
    payload: dict[str, Any] | None = None
    timeout: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryJob(Effect):
    """Run the same job again at `due`; `attempts` is how many attempts were made so far."""

    wait: int
    due: datetime
    attempts: int
    error: str | None = None
    payload: dict[str, Any] | None = None  # new inputs for the job (a retry after variables changed); None: keep


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldJob(Effect):
    """Stop running a job until a person retries its incident."""

    wait: int
    error: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelJob(Effect):
    wait: int


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenUserTask(Effect):
    """A user task to offer: its people, schedule and texts evaluated as it opened."""

    wait: int
    element: str
    name: str | None
    assignee: str | None
    candidate_groups: tuple[str, ...]
    form: dict[str, Any] | None
    payload: dict[str, Any] | None
    candidate_users: tuple[str, ...] = ()
    description: str | None = None
    due: datetime | None = None
    follow_up: datetime | None = None
    priority: int = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class UpdateUserTask(Effect):
    """A person acted on an open user task (claimed, assigned, delegated it, saved a draft):
    the columns of its row that change, by name (store/task_actions.py says which)."""

    wait: int
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseUserTask(Effect):
    wait: int
    outcome: str  # "completed" | "cancelled"
    actor: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Subscribe(Effect):
    wait: int
    element: str
    message: str
    correlation_key: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SubscribeSignal(Effect):
    wait: int
    element: str
    signal: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BroadcastSignal(Effect):
    """Deliver a signal to every instance waiting for it and start every process whose
    start event it is (BPMN 2.0, 10.5.5), in the same transaction as this step.

    `delivered_here`: the throwing instance has caught it already, in the step that threw
    it (`throws.broadcast`), so the store leaves that instance out.
    """

    signal: str
    variables: dict[str, Any]
    delivered_here: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Unsubscribe(Effect):
    wait: int


@dataclass(frozen=True, kw_only=True, slots=True)
class CreateIncident(Effect):
    wait: int
    element: str
    error_type: str
    message: str
    details: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ResolveIncident(Effect):
    wait: int
    actor: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MoveWait(Effect):
    """A migration moved a wait to an element of another version (engine/migrate.py): its
    job, subscription, user task and open incident rows learn the new element; `task_type`
    (a job's) and `message` (a subscription's message or signal name) are the target's,
    None where the row keeps none."""

    wait: int
    element: str
    task_type: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Record(Effect):
    """One append-only history entry; `seq` numbers an instance's entries without gaps."""

    seq: int
    at: datetime
    type: str
    element: str | None = None
    actor: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InstanceEnded(Effect):
    status: str


@dataclass(frozen=True, kw_only=True, slots=True)
class StartChild(Effect):
    """Start an instance of `process` (its latest version when `version` is None) for the
    call activity waiting on `wait`, in the same transaction (BPMN 2.0, 10.3.6)."""

    wait: int
    element: str
    process: str
    version: int | None
    variables: dict[str, Any]
    tenant: str | None = None  # a fixed tenant to look the process up in, and to start the child in


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelChild(Effect):
    """Cancel the instance called by the call activity on `wait`, and whatever it called."""

    wait: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ReturnToCaller(Effect):
    """A called instance ended: tell the call activity waiting on `wait` in `parent`.

    `failed` is set when a BPMN error that nothing in this instance caught ended it, with
    its `error_code` (None for an error without a code, which only a catch-all catches).
    """

    parent: str
    wait: int
    status: str
    variables: dict[str, Any]
    error_code: str | None = None
    error_message: str | None = None
    failed: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class EscalateToCaller(Effect):
    """An escalation nothing in this called instance caught goes on to the call activity
    waiting on `wait` in `parent` (BPMN 2.0, 10.5.5); this instance goes on meanwhile."""

    parent: str
    wait: int
    code: str
