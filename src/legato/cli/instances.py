"""`legato start`, `instances`, `show` and `cancel`: process instances from the shell."""

from __future__ import annotations

from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from legato.cli import render
from legato.cli.context import CliContext
from legato.cli.variables import collect, var_option, vars_json_option

STATUSES = ("active", "completed", "terminated", "cancelled")


@click.command()
@click.argument("process")
@var_option
@vars_json_option
@click.option("--business-key", help="Your own key for the instance (an order number).")
@click.option("--version", type=click.IntRange(min=1), help="Start this version, not the latest.")
@click.option("--tenant", help="Start in this tenant (default: your only tenant, else the shared one).")
@click.option(
    "--idempotency-key",
    help="Start at most once per key; with --count N the keys are KEY-1 ... KEY-N.",
)
@click.option(
    "--count",
    type=click.IntRange(min=1, max=100_000),
    default=1,
    show_default=True,
    help="How many instances to start.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the server's answers as JSON.")
@click.pass_obj
def start(
    obj: CliContext,
    process: str,
    pairs: tuple[str, ...],
    vars_json: str | None,
    business_key: str | None,
    version: int | None,
    tenant: str | None,
    idempotency_key: str | None,
    count: int,
    as_json: bool,
) -> None:
    """Start instances of PROCESS.

    \b
      legato start order_to_cash --var amount=120 --var order_id=A-1
      legato start order_to_cash --vars-json '{"order_id": "A-7", "amount": 120}' --count 100
    """
    variables = collect(pairs, vars_json)
    options: dict[str, Any] = {"business_key": business_key, "version": version, "tenant": tenant}
    with Progress(
        TextColumn(f"starting {process}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=obj.err,
        disable=count < 2,
    ) as progress:
        task = progress.add_task("", total=count)
        if count == 1:
            results = [obj.client.start(process, variables, idempotency_key=idempotency_key, **options)]
        else:  # the n-th start carries KEY-n: rerunning a batch that failed part-way starts only the rest
            results = obj.client.start_many(
                process,
                [variables] * count,
                idempotency_key=idempotency_key,
                progress=lambda _started: progress.advance(task),
                **options,
            )
    if as_json:
        render.print_json(results[0] if count == 1 else results)
        return
    if count == 1:
        started = results[0]
        verb = "started" if started["created"] else "already started (same idempotency key)"
        where = f" in tenant {started['tenant']}" if started.get("tenant") else ""
        obj.out.print(
            f"{verb} {started['process']} v{started['version']}{where}: instance {started['instance_id']} "
            f"({started['status']})",
            markup=False,
        )
        render.print_warnings(obj.err, started.get("warnings") or [])
        return
    by_status: dict[str, int] = {}
    for started in results:
        by_status[started["status"]] = by_status.get(started["status"], 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(by_status.items()))
    obj.out.print(f"started {count} instances of {process} ({summary})", markup=False)
    render.print_warnings(obj.err, [warning for started in results for warning in started.get("warnings") or []])


@click.command()
@click.option("--process", help="Only instances of this process.")
@click.option("--status", type=click.Choice(STATUSES), help="Only instances in this status.")
@click.option("--business-key", help="Only instances with this business key.")
@click.option("--tenant", help="Only instances of this tenant.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--cursor", help="Continue after the previous page (its footer names the cursor).")
@click.option("--variables", "with_variables", is_flag=True, help="Include each instance's variables (with --json).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def instances(
    obj: CliContext,
    process: str | None,
    status: str | None,
    business_key: str | None,
    tenant: str | None,
    limit: int,
    cursor: str | None,
    with_variables: bool,
    as_json: bool,
) -> None:
    """List instances, newest first, a page at a time."""
    page = obj.client.instances(
        process=process,
        status=status,
        business_key=business_key,
        tenant=tenant,
        limit=limit,
        cursor=cursor,
        variables=with_variables,
    )
    items = page.items
    if as_json:
        render.print_json(items)
    elif not items:
        obj.out.print("no instances")
    else:
        obj.out.print(render.instances_table(items))
        footer = render.page_footer(page.to_dict(), "instances")
        if footer:
            obj.out.print(footer, markup=False)


@click.command()
@click.argument("instance_id", metavar="INSTANCE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(obj: CliContext, instance_id: str, as_json: bool) -> None:
    """Show an instance: status, variables, open tasks, incidents and its history."""
    instance = obj.client.instance(instance_id)
    if as_json:
        render.print_json(instance)
    else:
        obj.out.print(render.instance_view(instance))
        render.print_warnings(obj.err, instance.get("warnings") or [])
