"""`legato send`, `signal`, `complete`, `incidents` and `variables`: the day-to-day work
(`tasks`: task_work.py; `retry`: repair.py)."""

from __future__ import annotations

import json

import click

from legato.cli import render
from legato.cli.context import CliContext
from legato.cli.variables import collect, var_option, vars_json_option


@click.command()
@click.argument("message")
@click.option("--key", "correlation_key", help="The correlation key (which instance it is for).")
@var_option
@vars_json_option
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_obj
def send(
    obj: CliContext,
    message: str,
    correlation_key: str | None,
    pairs: tuple[str, ...],
    vars_json: str | None,
    as_json: bool,
) -> None:
    """Send MESSAGE to the instance waiting for it (or start one by a message start event)."""
    result = obj.client.send_message(message, correlation_key, collect(pairs, vars_json))
    if as_json:
        render.print_json(result)
    elif result["correlated"] == "instance":
        obj.out.print(f"message {message} delivered to instance {result['instance_id']}", markup=False)
    else:
        obj.out.print(f"message {message} started instance {result['instance_id']}", markup=False)


@click.command()
@var_option
@vars_json_option
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_obj
def conditions(obj: CliContext, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Start every process whose conditional start event holds for these variables."""
    result = obj.client.evaluate_conditions(collect(pairs, vars_json))
    if as_json:
        render.print_json(result)
        return
    if not result["started"]:
        obj.out.print("no conditional start event holds: nothing started", markup=False)
    for started in result["started"]:
        obj.out.print(
            f"started {started['process']} v{started['version']}: instance {started['instance_id']}", markup=False
        )


@click.command()
@click.argument("name")
@var_option
@vars_json_option
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_obj
def signal(obj: CliContext, name: str, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Broadcast signal NAME to every instance waiting for it and every signal start event."""
    result = obj.client.broadcast_signal(name, collect(pairs, vars_json))
    if as_json:
        render.print_json(result)
    else:
        obj.out.print(
            f"signal {name} reached {result['instances']} waiting instance(s) and started {result['started']}",
            markup=False,
        )


@click.command()
@click.argument("task_id")
@var_option
@vars_json_option
@click.option("--json", "as_json", is_flag=True, help="Print the completed task as JSON.")
@click.pass_obj
def complete(obj: CliContext, task_id: str, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Complete the user task TASK_ID, with its output variables."""
    task = obj.client.complete_task(task_id, collect(pairs, vars_json))
    if as_json:
        render.print_json(task)
    else:
        obj.out.print(f"completed task {task['id']} ({task['element']})", markup=False)


@click.command()
@click.option("--instance", "instance_id", help="Only the incidents of this instance.")
@click.option("--status", type=click.Choice(("open", "resolved")), default="open", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--cursor", help="Continue after the previous page (its footer names the cursor).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def incidents(
    obj: CliContext, instance_id: str | None, status: str, limit: int, cursor: str | None, as_json: bool
) -> None:
    """List incidents: steps that ran out of retries."""
    page = obj.client.incidents(status=status, instance_id=instance_id, limit=limit, cursor=cursor)
    items = page.items
    if as_json:
        render.print_json(items)
        return
    if not items:
        obj.out.print(f"no {status} incidents")
    else:
        obj.out.print(render.incidents_table(items))
        footer = render.page_footer(page.to_dict(), "incidents")
        if footer:
            obj.out.print(footer, markup=False)
    # jobs no worker serves never fail, so they are no incident: say so where people look
    render.print_warnings(obj.err, page.extra.get("warnings") or [])


@click.command()
@click.argument("instance_id")
@var_option
@vars_json_option
@click.option("--remove", "remove", multiple=True, metavar="NAME", help="Remove this variable (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the variables as JSON.")
@click.pass_obj
def variables(
    obj: CliContext,
    instance_id: str,
    pairs: tuple[str, ...],
    vars_json: str | None,
    remove: tuple[str, ...],
    as_json: bool,
) -> None:
    """Show an instance's variables, or set and remove some (a repair, recorded with your name).

    \b
      legato variables INSTANCE_ID                       show them
      legato variables INSTANCE_ID --var amount=120      set one (JSON values: 120 is a number)
      legato variables INSTANCE_ID --remove debug        remove one
    """
    changes = collect(pairs, vars_json)
    if changes or remove:
        instance = obj.client.set_variables(instance_id, changes, remove)
    else:
        instance = obj.client.instance(instance_id)
    values = instance.get("variables", {})
    if as_json:
        render.print_json(values)
        return
    if changes or remove:
        obj.out.print(f"instance {instance_id}: {len(changes)} set, {len(remove)} removed", markup=False)
    if not values:
        obj.out.print("no variables")
    for name in sorted(values):
        obj.out.print(f"{name} = {json.dumps(values[name], ensure_ascii=False)}", markup=False)


@click.command()
@click.option("--all", "everyone", is_flag=True, help="Also workers not seen for a while.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def workers(obj: CliContext, everyone: bool, as_json: bool) -> None:
    """List the live workers, the task types they serve, and the task types nobody serves."""
    answer = obj.client.workers(all=everyone)
    if as_json:
        render.print_json(answer)
        return
    items = answer["items"]
    if not items:
        obj.out.print(f"no live workers (none seen in the last {answer['live_seconds']:g} s)", markup=False)
    for worker in items:
        state = "" if worker["live"] else " (not live)"
        types = ", ".join(worker["task_types"]) or "none (timers only)"
        obj.out.print(
            f"{worker['id']} [{worker['kind']}]{state}: {types}; last seen {worker['last_seen_at']}", markup=False
        )
    render.print_warnings(obj.err, answer.get("unserved") or [])
