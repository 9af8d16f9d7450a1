"""The `Legato` methods for people's work on user tasks: claim, assign, delegate, draft.

Each method names who acts, `user`: a user name (their groups are looked up, nested ones
included, and the rules of store/task_actions.py apply to them), a `TaskActor` (what the
API builds from the caller), or None: the program itself, which acts as an operator under
the application's actor name. Each returns the task as it is afterwards.

    app.claim_task(task["id"], "ada")                 # ada is a candidate: now hers
    app.delegate_task(task["id"], "bob", user="ada")  # bob works on it, ada owns it
    app.resolve_task(task["id"], {"ok": True}, user="bob")
    app.complete_task(task["id"], {"ok": True}, user="ada")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from legato.store.task_actions import TaskActor
from legato.store.task_files import DEFAULT_MAX_ATTACHMENT_BYTES, Upload
from legato.store.tenants import Visible
from legato.store.variables import check_variables

if TYPE_CHECKING:
    from legato.runtime.clock import Clock
    from legato.store import Store

Acting = str | TaskActor | None
"""Who acts on a task: a user's name, a `TaskActor`, or None for the program itself."""


class TaskWork:
    """Mixed into `Legato`: it provides `store`, `clock` and `actor`."""

    store: Store
    clock: Clock
    actor: str
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    """The largest file `attach_to_task` stores (the server sets it from LEGATO_TASK_ATTACHMENT_MAX_BYTES)."""

    def task_actor(self, user: Acting) -> TaskActor:
        """The `TaskActor` for `user`: with their groups from the directory, nested ones included."""
        if isinstance(user, TaskActor):
            return user
        if user is None:
            return TaskActor(name=self.actor, operator=True)
        return TaskActor(name=user, groups=self.store.directory.groups_of(user))

    def task(self, task_id: str, *, visible: Visible = None) -> dict[str, Any]:
        """One user task, open or ended."""
        return self.store.queries.task(task_id, visible)

    def claim_task(self, task_id: str, user: str | TaskActor, *, visible: Visible = None) -> dict[str, Any]:
        """`user` takes an open task offered to them; 409 TASK_ALREADY_CLAIMED if another holds it."""
        self.store.tasks.claim(task_id, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def unclaim_task(self, task_id: str, *, user: Acting = None, visible: Visible = None) -> dict[str, Any]:
        """Give a claimed task back to its candidates."""
        self.store.tasks.unclaim(task_id, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def assign_task(
        self, task_id: str, assignee: str | None, *, user: Acting = None, visible: Visible = None
    ) -> dict[str, Any]:
        """Assign or reassign a task to `assignee` (None: unassign); an operator's action."""
        self.store.tasks.assign(task_id, assignee, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def delegate_task(
        self, task_id: str, delegate: str, *, user: Acting = None, visible: Visible = None
    ) -> dict[str, Any]:
        """Hand a task to `delegate`, who resolves it back; the assignee becomes its owner."""
        self.store.tasks.delegate(task_id, delegate, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def resolve_task(
        self,
        task_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        user: Acting = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """The delegate hands a delegated task back to its owner; `variables` become its draft."""
        draft = check_variables(dict(variables), where="task resolution") if variables is not None else None
        self.store.tasks.resolve(task_id, self.task_actor(user), draft=draft, now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def update_task(
        self, task_id: str, changes: Mapping[str, Any], *, user: Acting = None, visible: Visible = None
    ) -> dict[str, Any]:
        """Change an open task's `due`, `follow_up` (ISO 8601 date-time or duration from now),
        `priority`, `name` or `description`; None clears a date or a text."""
        self.store.tasks.update(task_id, changes, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def save_task_draft(
        self, task_id: str, variables: Mapping[str, Any], *, user: Acting = None, visible: Visible = None
    ) -> dict[str, Any]:
        """Keep the form data entered so far without completing the task."""
        draft = check_variables(dict(variables), where="task draft")
        self.store.tasks.save_draft(task_id, draft, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)

    def comment_task(self, task_id: str, text: str, *, user: Acting = None, visible: Visible = None) -> dict[str, Any]:
        """Add a comment to an open task (its people or an operator); the comment comes back."""
        comment_id = self.store.tasks.comment(
            task_id, text, self.task_actor(user), now=self.clock.now(), visible=visible
        )
        return next(c for c in self.store.task_files.comments(task_id) if c["id"] == comment_id)

    def task_comments(self, task_id: str, *, visible: Visible = None) -> list[dict[str, Any]]:
        """A task's comments, oldest first."""
        return self.store.task_files.comments(task_id, visible)

    def attach_to_task(
        self,
        task_id: str,
        name: str,
        content: bytes,
        *,
        content_type: str | None = None,
        user: Acting = None,
        visible: Visible = None,
    ) -> dict[str, Any]:
        """Attach a file to an open task; its name is made harmless, its content type kept."""
        upload = Upload(name=name, content=bytes(content), content_type=content_type)
        created = self.store.tasks.attach(
            task_id,
            upload,
            self.task_actor(user),
            now=self.clock.now(),
            limit=self.max_attachment_bytes,
            visible=visible,
        )
        meta, _ = self.store.task_files.attachment(task_id, int(created["id"]))
        return meta

    def task_attachments(self, task_id: str, *, visible: Visible = None) -> list[dict[str, Any]]:
        """A task's attachments (without their bytes), oldest first."""
        return self.store.task_files.attachments(task_id, visible)

    def task_attachment(
        self, task_id: str, attachment_id: int, *, visible: Visible = None
    ) -> tuple[dict[str, Any], bytes]:
        """One attachment: its metadata and its bytes."""
        return self.store.task_files.attachment(task_id, attachment_id, visible)
