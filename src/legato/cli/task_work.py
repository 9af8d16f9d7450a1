"""`legato tasks`: list user tasks, and claim, assign, delegate, comment on and attach to them.

    legato tasks                              the open tasks, oldest first
    legato tasks claim TASK                   take a task offered to you
    legato tasks delegate TASK bob            bob works on it and resolves it back to you
    legato tasks attach TASK invoice.pdf      attach a file (LEGATO_TASK_ATTACHMENT_MAX_BYTES)

Who may do what is the server's decision (docs/api.md, "User tasks"); a refusal prints its
code (`error TASK_ALREADY_CLAIMED: ...`) and exits 1.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import click

from legato.cli import render
from legato.cli.context import CliContext
from legato.cli.variables import collect, var_option, vars_json_option

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")


@click.group(invoke_without_command=True)
@click.option("--instance", "instance_id", help="Only the tasks of this instance.")
@click.option(
    "--status",
    type=click.Choice(("open", "completed", "cancelled")),
    default="open",
    show_default=True,
)
@click.option("--mine", is_flag=True, help="Only the tasks assigned to you.")
@click.option("--offered", is_flag=True, help="Only unassigned tasks offered to you or your groups.")
@click.option("--process", help="Only the tasks of this process.")
@click.option("--overdue", is_flag=True, help="Only tasks past their due date.")
@click.option("--due-within", metavar="DURATION", help="Only tasks due within an ISO 8601 duration (PT4H, P2D).")
@click.option("--sort", type=click.Choice(("created", "due", "priority")), help="The order (default: created).")
@click.option("--filter", "saved", type=click.IntRange(min=1), metavar="ID", help="Apply a saved task filter.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--cursor", help="Continue after the previous page (its footer names the cursor).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tasks(
    ctx: click.Context,
    instance_id: str | None,
    status: str,
    mine: bool,
    offered: bool,
    process: str | None,
    overdue: bool,
    due_within: str | None,
    sort: str | None,
    saved: int | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """List user tasks, oldest first; or act on one (claim, delegate, comment, ...)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: CliContext = ctx.obj
    page = obj.client.tasks(
        status=status,
        instance_id=instance_id,
        limit=limit,
        cursor=cursor,
        mine=mine or None,
        offered=offered or None,
        process=process,
        overdue=overdue or None,
        due_within=due_within,
        sort=sort,
        filter=saved,
    )
    items = page.items
    if as_json:
        render.print_json(items)
    elif not items:
        obj.out.print(f"no {status} tasks")
    else:
        obj.out.print(render.tasks_table(items))
        footer = render.page_footer(page.to_dict(), "tasks")
        if footer:
            obj.out.print(footer, markup=False)


def _done(obj: CliContext, task: dict[str, Any], as_json: bool, what: str) -> None:
    if as_json:
        render.print_json(task)
        return
    people = f"assignee {task.get('assignee') or '-'}"
    if task.get("owner"):
        people += f", owner {task['owner']}"
    obj.out.print(f"{what} task {task['id']} ({task['element']}): {people}", markup=False)


@tasks.command()
@click.argument("task_id")
@_JSON
@click.pass_obj
def claim(obj: CliContext, task_id: str, as_json: bool) -> None:
    """Take TASK_ID, which is offered to you (you are a candidate)."""
    _done(obj, obj.client.claim_task(task_id), as_json, "claimed")


@tasks.command()
@click.argument("task_id")
@_JSON
@click.pass_obj
def unclaim(obj: CliContext, task_id: str, as_json: bool) -> None:
    """Give TASK_ID back to its candidates."""
    _done(obj, obj.client.unclaim_task(task_id), as_json, "unclaimed")


@tasks.command()
@click.argument("task_id")
@click.argument("user", required=False)
@click.option("--none", "unassign", is_flag=True, help="Take the assignment away.")
@_JSON
@click.pass_obj
def assign(obj: CliContext, task_id: str, user: str | None, unassign: bool, as_json: bool) -> None:
    """Assign or reassign TASK_ID to USER (needs tasks:assign); --none unassigns it."""
    if (user is None) == (not unassign):
        raise click.UsageError("give a USER, or --none to unassign")
    _done(obj, obj.client.assign_task(task_id, None if unassign else user), as_json, "assigned")


@tasks.command()
@click.argument("task_id")
@click.argument("user")
@_JSON
@click.pass_obj
def delegate(obj: CliContext, task_id: str, user: str, as_json: bool) -> None:
    """Delegate TASK_ID to USER, who resolves it back to you (you stay its owner)."""
    _done(obj, obj.client.delegate_task(task_id, user), as_json, "delegated")


@tasks.command()
@click.argument("task_id")
@var_option
@vars_json_option
@_JSON
@click.pass_obj
def resolve(obj: CliContext, task_id: str, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Resolve delegated TASK_ID back to its owner; the variables given become its draft."""
    variables = collect(pairs, vars_json)
    _done(obj, obj.client.resolve_task(task_id, variables or None), as_json, "resolved")


@tasks.command()
@click.argument("task_id")
@click.option("--due", help="ISO 8601 date-time or duration from now (P2D); 'none' clears it.")
@click.option("--follow-up", help="ISO 8601 date-time or duration from now; 'none' clears it.")
@click.option("--priority", type=click.IntRange(0, 1_000_000))
@click.option("--name")
@click.option("--description")
@_JSON
@click.pass_obj
def update(
    obj: CliContext,
    task_id: str,
    due: str | None,
    follow_up: str | None,
    priority: int | None,
    name: str | None,
    description: str | None,
    as_json: bool,
) -> None:
    """Change TASK_ID's due or follow-up date, priority, name or description."""
    changes: dict[str, Any] = {}
    for key, value in (("due", due), ("follow_up", follow_up)):
        if value is not None:
            changes[key] = None if value.lower() == "none" else value
    for key, given in (("priority", priority), ("name", name), ("description", description)):
        if given is not None:
            changes[key] = given
    if not changes:
        raise click.UsageError("give at least one of --due, --follow-up, --priority, --name, --description")
    task = obj.client.update_task(task_id, **changes)
    if as_json:
        render.print_json(task)
    else:
        obj.out.print(
            f"updated task {task['id']} ({task['element']}): due {render.when(task.get('due_at'))}, "
            f"priority {task.get('priority')}",
            markup=False,
        )


@tasks.command()
@click.argument("task_id")
@var_option
@vars_json_option
@_JSON
@click.pass_obj
def draft(obj: CliContext, task_id: str, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Save form data for TASK_ID without completing it (a later draft replaces it)."""
    task = obj.client.save_task_draft(task_id, collect(pairs, vars_json))
    _done(obj, task, as_json, "saved a draft of")


@tasks.command()
@click.argument("task_id")
@var_option
@vars_json_option
@_JSON
@click.pass_obj
def complete(obj: CliContext, task_id: str, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Complete TASK_ID with its output variables (as `legato complete`)."""
    task = obj.client.complete_task(task_id, collect(pairs, vars_json))
    if as_json:
        render.print_json(task)
    else:
        obj.out.print(f"completed task {task['id']} ({task['element']})", markup=False)


@tasks.command()
@click.argument("task_id")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the comment as JSON.")
@click.pass_obj
def comment(obj: CliContext, task_id: str, text: str, as_json: bool) -> None:
    """Add a comment to TASK_ID."""
    added = obj.client.comment_task(task_id, text)
    if as_json:
        render.print_json(added)
    else:
        obj.out.print(f"comment {added['id']} added to task {task_id}", markup=False)


@tasks.command()
@click.argument("task_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--content-type", help="The file's media type (default: guessed from its name).")
@click.option("--json", "as_json", is_flag=True, help="Print the attachment as JSON.")
@click.pass_obj
def attach(obj: CliContext, task_id: str, file: Path, content_type: str | None, as_json: bool) -> None:
    """Attach FILE to TASK_ID."""
    media = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    added = obj.client.attach_to_task(task_id, file.name, file.read_bytes(), content_type=media)
    if as_json:
        render.print_json(added)
    else:
        obj.out.print(
            f"attached {added['name']} ({added['size']} bytes, {added['content_type']}) to task {task_id} "
            f"as attachment {added['id']}",
            markup=False,
        )


@tasks.command()
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(obj: CliContext, task_id: str, as_json: bool) -> None:
    """TASK_ID with its people, dates, draft, comments and attachments."""
    task = obj.client.task(task_id)
    comments = obj.client.task_comments(task_id)
    attachments = obj.client.task_attachments(task_id)
    if as_json:
        render.print_json({**task, "comments": comments, "attachments": attachments})
        return
    for label, value in (
        ("task", f"{task.get('name') or task['element']} ({task['element']})"),
        ("status", task["status"]),
        ("process", task.get("process") or "-"),
        ("assignee", task.get("assignee") or "-"),
        ("owner", task.get("owner") or "-"),
        ("candidates", ", ".join([*task.get("candidate_users", []), *task.get("candidate_groups", [])]) or "-"),
        ("priority", str(task.get("priority"))),
        ("due", render.when(task.get("due_at"))),
        ("follow-up", render.when(task.get("follow_up_at"))),
        ("draft", ", ".join(sorted(task.get("draft") or {})) or "-"),
    ):
        obj.out.print(f"{label:<11} {value}", markup=False)
    for item in comments:
        obj.out.print(f"comment    {render.when(item['at'])} {item['author'] or '-'}: {item['text']}", markup=False)
    for item in attachments:
        obj.out.print(
            f"attachment {item['id']}: {item['name']} ({item['size']} bytes, {item['content_type']})", markup=False
        )


@tasks.command()
@click.argument("task_id")
@click.argument("attachment_id", type=click.IntRange(min=1))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the file.",
)
@click.pass_obj
def download(obj: CliContext, task_id: str, attachment_id: int, output: Path) -> None:
    """Write attachment ATTACHMENT_ID of TASK_ID to --output."""
    content = obj.client.download_task_attachment(task_id, attachment_id)
    output.write_bytes(content)
    obj.out.print(f"wrote {len(content)} bytes to {output}", markup=False)
