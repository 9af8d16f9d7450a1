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

    def save_task_draft(
        self, task_id: str, variables: Mapping[str, Any], *, user: Acting = None, visible: Visible = None
    ) -> dict[str, Any]:
        """Keep the form data entered so far without completing the task."""
        draft = check_variables(dict(variables), where="task draft")
        self.store.tasks.save_draft(task_id, draft, self.task_actor(user), now=self.clock.now(), visible=visible)
        return self.task(task_id)
