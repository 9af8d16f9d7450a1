"""What people do with an open user task: claim, assign, delegate, resolve, draft, complete.

Each action is one transaction: the task's instance is locked, the task row is read, the
rules below decide whether the caller may do it (or refuse with a stable code), and the
action goes through the engine as a command (`ActOnUserTask`, `CompleteUserTask`), which
records it in the instance's history with the actor and hands the task row's changes to
the writer. Two people claiming the same task at once are serialised by the lock: the
second one reads the first one's claim and gets 409 TASK_ALREADY_CLAIMED.

The rules, as Camunda 7 and its Tasklist have them:

| action     | who may                                               | refused when                        |
| ---------- | ----------------------------------------------------- | ----------------------------------- |
| claim      | a candidate: a candidate user, a member of a candidate | someone else holds it (409)         |
|            | group (nested groups count); anyone when the task      |                                     |
|            | names no candidates; an operator                       |                                     |
| unclaim    | the assignee, an operator                              | a delegation is pending (409)       |
| assign     | an operator (assign, reassign, or unassign with None)  |                                     |
| delegate   | the assignee, an operator                              |                                     |
| resolve    | the delegate (the assignee), an operator               | nothing is delegated (409)          |
| save draft | the assignee, an operator                              |                                     |
| complete   | the assignee, an operator                              | a delegation is pending (409)       |
| update     | the assignee, the owner, an operator                   | a date that does not parse (422)    |
| comment,   | the assignee, the owner, a candidate, an operator      |                                     |
| attach     |                                                        | a file over the size limit (413)    |

"Operator" is a caller that may act on tasks not its own: `TaskActor.operator`, which the
API sets for holders of `tasks:assign` (operators, administrators), and a Python program
acting as itself has. Delegation (Camunda 7's): the assignee hands the task to a delegate
and becomes its owner; the delegate resolves it, and it goes back to the owner, with the
delegate's form data as the task's draft, for the owner to complete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Row

from legato.engine.commands import ActOnUserTask, Command, CompleteUserTask
from legato.errors import (
    InvalidInput,
    LegatoError,
    TaskAlreadyClaimed,
    TaskDateInvalid,
    TaskDelegationPending,
    TaskNotActive,
    TaskNotAssignee,
    TaskNotCandidate,
    TaskNotDelegated,
    TaskNotFound,
)
from legato.model.timers import TimerInvalid
from legato.model.user_tasks import priority_value, task_date
from legato.store.codec import dumps, from_epoch, loads, to_epoch
from legato.store.commands import Executor
from legato.store.task_files import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    Upload,
    check_comment,
    check_upload,
    insert_attachment,
    insert_comment,
)
from legato.store.tenants import Visible, may_see
from legato.store.writer import ClaimNew, Handoff

MAX_USER_NAME = 255


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskActor:
    """Who acts on a task: a user name, the groups they are in (nested ones included, as
    `Directory.groups_of` gives them), and whether they may act on tasks not their own."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    operator: bool = False

    def is_(self, user: str | None) -> bool:
        return user is not None and user.casefold() == self.name.casefold()


def is_candidate(actor: TaskActor, row: Row[Any]) -> bool:
    """Whether the task is offered to `actor`: by name, through a group, or to anyone
    (a task that names no candidates and no assignee is open to everyone who may claim)."""
    users = [u.casefold() for u in loads(row.candidate_users) or []]
    groups = {g.casefold() for g in loads(row.candidate_groups) or []}
    if not users and not groups:
        return True
    return actor.name.casefold() in users or bool(groups & {g.casefold() for g in actor.groups})


def _check_user(user: str, what: str) -> str:
    user = user.strip() if isinstance(user, str) else user
    if not isinstance(user, str) or not user or len(user) > MAX_USER_NAME:
        raise InvalidInput(f"{what} must be a user name of 1..{MAX_USER_NAME} characters", details={"field": what})
    return user


class TaskActions:
    """The actions on open user tasks, each checked and applied in one transaction."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.database = executor.database

    def _draft(self, draft: Mapping[str, Any]) -> str:
        """A draft as stored: sealed whole with encryption at rest on (form data may be anything)."""
        sealer = self.database.sealer
        return dumps(dict(draft)) if sealer is None else sealer.seal_document(dict(draft))

    # -- the actions ---------------------------------------------------------------------

    def claim(self, task_id: str, actor: TaskActor, *, now: datetime, visible: Visible = None) -> None:
        def decide(row: Row[Any], wait: int) -> Command:
            if row.assignee is not None and not actor.is_(row.assignee):
                raise TaskAlreadyClaimed(
                    f"user task {task_id!r} is claimed by {row.assignee!r}",
                    details={"task_id": task_id, "assignee": row.assignee},
                )
            if not actor.operator and not is_candidate(actor, row):
                raise TaskNotCandidate(
                    f"user task {task_id!r} is not offered to {actor.name!r}: claim needs a candidate user, "
                    "a member of a candidate group, or an operator",
                    details={"task_id": task_id},
                )
            if actor.is_(row.assignee):
                return self._act(wait, "claimed", actor, {}, {"assignee": row.assignee, "again": True})
            return self._act(wait, "claimed", actor, {"assignee": actor.name}, {"assignee": actor.name})

        self._run(task_id, decide, now, visible)

    def unclaim(self, task_id: str, actor: TaskActor, *, now: datetime, visible: Visible = None) -> None:
        def decide(row: Row[Any], wait: int) -> Command:
            if row.assignee is None:
                raise TaskNotAssignee(f"user task {task_id!r} is not claimed", details={"task_id": task_id})
            self._require_assignee(task_id, row, actor)
            if row.delegation == "pending":
                raise TaskDelegationPending(
                    f"user task {task_id!r} is delegated to {row.assignee!r}: resolve it first",
                    details={"task_id": task_id},
                )
            return self._act(wait, "unclaimed", actor, {"assignee": None}, {"previous": row.assignee})

        self._run(task_id, decide, now, visible)

    def assign(
        self, task_id: str, assignee: str | None, actor: TaskActor, *, now: datetime, visible: Visible = None
    ) -> None:
        """Assign, reassign (the task had an assignee), or unassign (`assignee` None)."""
        if assignee is not None:
            assignee = _check_user(assignee, "assignee")

        def decide(row: Row[Any], wait: int) -> Command:
            if not actor.operator:
                raise TaskNotAssignee(
                    f"{actor.name!r} may not assign user task {task_id!r}: that needs an operator (tasks:assign)",
                    details={"task_id": task_id},
                )
            action = "assigned" if row.assignee is None else "reassigned" if assignee is not None else "unassigned"
            return self._act(
                wait, action, actor, {"assignee": assignee}, {"assignee": assignee, "previous": row.assignee}
            )

        self._run(task_id, decide, now, visible)

    def delegate(
        self, task_id: str, delegate: str, actor: TaskActor, *, now: datetime, visible: Visible = None
    ) -> None:
        """Hand the task to `delegate`; its assignee (or the operator acting) becomes its owner."""
        delegate = _check_user(delegate, "delegate")

        def decide(row: Row[Any], wait: int) -> Command:
            self._require_assignee(task_id, row, actor, unassigned_ok=actor.operator)
            owner = row.owner if row.owner is not None else row.assignee or actor.name
            if delegate.casefold() == owner.casefold():
                raise InvalidInput(
                    f"{delegate!r} owns user task {task_id!r}: delegate it to someone else",
                    details={"field": "delegate"},
                )
            return self._act(
                wait,
                "delegated",
                actor,
                {"assignee": delegate, "owner": owner, "delegation": "pending"},
                {"owner": owner, "delegate": delegate},
            )

        self._run(task_id, decide, now, visible)

    def resolve(
        self,
        task_id: str,
        actor: TaskActor,
        *,
        draft: Mapping[str, Any] | None = None,
        now: datetime,
        visible: Visible = None,
    ) -> None:
        """The delegate hands the task back to its owner, with `draft` (their form data) kept."""

        def decide(row: Row[Any], wait: int) -> Command:
            if row.delegation != "pending":
                raise TaskNotDelegated(f"user task {task_id!r} is not delegated", details={"task_id": task_id})
            self._require_assignee(task_id, row, actor)
            changes: dict[str, Any] = {"assignee": row.owner, "delegation": "resolved"}
            data: dict[str, Any] = {"owner": row.owner, "delegate": row.assignee}
            if draft is not None:
                changes["draft"] = self._draft(draft)
                data["variables"] = sorted(draft)
            return self._act(wait, "resolved", actor, changes, data)

        self._run(task_id, decide, now, visible)

    def save_draft(
        self, task_id: str, draft: Mapping[str, Any], actor: TaskActor, *, now: datetime, visible: Visible = None
    ) -> None:
        """Keep the form data entered so far, without completing; a later draft replaces it."""

        def decide(row: Row[Any], wait: int) -> Command:
            self._require_assignee(task_id, row, actor)
            return self._act(wait, "draft_saved", actor, {"draft": self._draft(draft)}, {"variables": sorted(draft)})

        self._run(task_id, decide, now, visible)

    def update(
        self,
        task_id: str,
        changes: Mapping[str, Any],
        actor: TaskActor,
        *,
        now: datetime,
        visible: Visible = None,
    ) -> None:
        """Change an open task's due or follow-up date, priority, name or description.

        `changes` holds only what changes: `due`, `follow_up` (ISO 8601 date-time or a
        duration from now; None clears), `priority`, `name`, `description` (None clears).
        The assignee, the owner or an operator may; a date that does not parse is 422
        TASK_DATE_INVALID naming the field.
        """
        columns = task_changes(changes, now)

        def decide(row: Row[Any], wait: int) -> Command:
            if not (actor.operator or actor.is_(row.assignee) or actor.is_(row.owner)):
                raise TaskNotAssignee(
                    f"only the assignee, the owner or an operator changes user task {task_id!r}",
                    details={"task_id": task_id},
                )
            data = {key: _shown(key, value) for key, value in columns.items()}
            return self._act(wait, "updated", actor, columns, data)

        self._run(task_id, decide, now, visible)

    def complete(
        self,
        task_id: str,
        variables: dict[str, Any],
        actor: TaskActor,
        *,
        now: datetime,
        claim_new: ClaimNew | None = None,
        visible: Visible = None,
    ) -> list[Handoff]:
        def decide(row: Row[Any], wait: int) -> Command:
            if row.delegation == "pending":
                raise TaskDelegationPending(
                    f"user task {task_id!r} is delegated to {row.assignee!r}: the delegate resolves it, "
                    "then its owner completes it",
                    details={"task_id": task_id},
                )
            self._require_assignee(task_id, row, actor)
            return CompleteUserTask(wait=wait, variables=variables, actor=actor.name or None)

        return self._run(task_id, decide, now, visible, claim_new)

    def comment(self, task_id: str, comment: str, actor: TaskActor, *, now: datetime, visible: Visible = None) -> int:
        """Add a comment to an open task; its id comes back (the history records the id, not the text)."""
        comment = check_comment(comment)
        created: dict[str, Any] = {}

        def decide(row: Row[Any], wait: int) -> Command:
            self._require_involved(task_id, row, actor)
            return self._act(wait, "commented", actor, {}, {})

        def write(conn: Connection, row: Row[Any]) -> dict[str, Any]:
            created["id"] = insert_comment(conn, row, actor.name or None, comment, now)
            return {"comment_id": created["id"]}

        self._run(task_id, decide, now, visible, write=write)
        return int(created["id"])

    def attach(
        self,
        task_id: str,
        upload: Upload,
        actor: TaskActor,
        *,
        now: datetime,
        limit: int = DEFAULT_MAX_ATTACHMENT_BYTES,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Attach a file to an open task (413 past `limit` bytes); its metadata comes back."""
        check_upload(upload, limit)
        created: dict[str, Any] = {}

        def decide(row: Row[Any], wait: int) -> Command:
            self._require_involved(task_id, row, actor)
            return self._act(wait, "attached", actor, {}, {})

        def write(conn: Connection, row: Row[Any]) -> dict[str, Any]:
            created.update(insert_attachment(conn, row, actor.name or None, upload, now))
            return {"attachment_id": created["id"], "name": created["name"], "size": created["size"]}

        self._run(task_id, decide, now, visible, write=write)
        return created

    # -- the rules and the transaction -----------------------------------------------------

    @staticmethod
    def _require_involved(task_id: str, row: Row[Any], actor: TaskActor) -> None:
        """Comments and files: from the task's people (assignee, owner, candidates) or an operator."""
        if actor.operator or actor.is_(row.assignee) or actor.is_(row.owner) or is_candidate(actor, row):
            return
        raise TaskNotCandidate(
            f"{actor.name!r} is neither the assignee, the owner nor a candidate of user task {task_id!r}",
            details={"task_id": task_id},
        )

    @staticmethod
    def _require_assignee(task_id: str, row: Row[Any], actor: TaskActor, *, unassigned_ok: bool = False) -> None:
        if actor.operator or actor.is_(row.assignee) or (unassigned_ok and row.assignee is None):
            return
        if row.assignee is None:
            raise TaskNotAssignee(
                f"user task {task_id!r} is not assigned: claim it first", details={"task_id": task_id}
            )
        raise TaskNotAssignee(
            f"user task {task_id!r} is assigned to {row.assignee!r}, not to {actor.name!r}",
            details={"task_id": task_id, "assignee": row.assignee},
        )

    @staticmethod
    def _act(wait: int, action: str, actor: TaskActor, changes: dict[str, Any], data: dict[str, Any] | None) -> Command:
        return ActOnUserTask(wait=wait, action=action, changes=changes, data=data, actor=actor.name or None)

    def _run(
        self,
        task_id: str,
        decide: Callable[[Row[Any], int], Command],
        now: datetime,
        visible: Visible,
        claim_new: ClaimNew | None = None,
        write: Callable[[Connection, Row[Any]], dict[str, Any]] | None = None,
    ) -> list[Handoff]:
        """Decide on the locked task and apply the command; `write` adds rows in the same
        transaction (a comment, a file) and what it returns to the history entry's data."""
        instance_id, wait = split_task_id(task_id)

        def locked(conn: Connection) -> Command:
            row = open_task(conn, task_id, visible)
            command = decide(row, wait)
            if write is not None and isinstance(command, ActOnUserTask):
                command = replace(command, data={**(command.data or {}), **write(conn, row)})
            return command

        try:
            _, handoffs = self.executor.apply_decided(instance_id, locked, now, claim_new)
        except LegatoError as exc:
            if exc.code in ("STALE_COMMAND", "INSTANCE_NOT_ACTIVE"):
                raise TaskNotActive(f"user task {task_id!r} is no longer open", details={"task_id": task_id}) from None
            if exc.code == "INSTANCE_NOT_FOUND":
                raise TaskNotFound(f"no user task {task_id!r}", details={"task_id": task_id}) from None
            raise
        return handoffs


_UPDATABLE = {"due": "due_at", "follow_up": "follow_up_at", "priority": "priority", "name": "name"}


def task_changes(changes: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The task row's columns for `update`'s changes, each checked."""
    unknown = sorted(set(changes) - {*_UPDATABLE, "description"})
    if unknown:
        raise InvalidInput(f"a task's {unknown[0]!r} cannot be changed this way", details={"field": unknown[0]})
    if not changes:
        raise InvalidInput("nothing to change: give due, follow_up, priority, name or description")
    columns: dict[str, Any] = {}
    for key in ("due", "follow_up"):
        if key in changes:
            value = changes[key]
            if value is None:
                columns[_UPDATABLE[key]] = None
                continue
            if not isinstance(value, str) or not value.strip() or len(value) > 64:
                raise TaskDateInvalid(f"{key} must be an ISO 8601 date-time or duration", field=key)
            try:
                columns[_UPDATABLE[key]] = to_epoch(task_date(value, now))
            except TimerInvalid as exc:
                raise TaskDateInvalid(
                    f"{key} {value!r}: {exc.message}; give a date-time (2026-12-24T12:00:00Z) or a duration (P2D)",
                    field=key,
                ) from None
    if "priority" in changes:
        number = priority_value(changes["priority"])
        if number is None or isinstance(changes["priority"], str):
            raise InvalidInput("priority must be a whole number from 0 to 1000000", details={"field": "priority"})
        columns["priority"] = number
    for key in ("name", "description"):
        if key in changes:
            value = changes[key]
            if value is not None and (not isinstance(value, str) or len(value) > 4000):
                raise InvalidInput(f"{key} must be text of at most 4000 characters", details={"field": key})
            if key == "name" and value is not None and not value.strip():
                raise InvalidInput("a task's name cannot be blank; null clears it", details={"field": key})
            columns[key] = value
    return columns


def _shown(column: str, value: Any) -> Any:
    """A changed column as the history shows it: dates in ISO 8601."""
    if column in ("due_at", "follow_up_at") and value is not None:
        moment = from_epoch(value)
        return None if moment is None else moment.isoformat()
    return value


def split_task_id(task_id: str) -> tuple[str, int]:
    """A task's id is its instance's id and its wait (`instance:wait`); anything else is not found."""
    instance_id, _, wait = task_id.rpartition(":")
    if not instance_id or not wait.isdigit() or len(wait) > 18:
        raise TaskNotFound(f"no user task {task_id!r}", details={"task_id": task_id})
    return instance_id, int(wait)


def open_task(conn: Connection, task_id: str, visible: Visible) -> Row[Any]:
    """The task's row, if it exists, may be seen, and is open (404, 409 otherwise)."""
    row = conn.execute(text("SELECT * FROM user_tasks WHERE id = :id"), {"id": task_id}).first()
    if row is None or not may_see(visible, row.tenant_id):
        raise TaskNotFound(f"no user task {task_id!r}", details={"task_id": task_id})
    if row.status != "open":
        raise TaskNotActive(f"user task {task_id!r} is already {row.status}", details={"task_id": task_id})
    return row


__all__ = ["TaskActions", "TaskActor", "is_candidate", "open_task", "split_task_id"]
