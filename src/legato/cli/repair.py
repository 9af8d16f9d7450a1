"""`legato retry` and `legato cancel`: one incident or instance, or every one a filter selects;
`legato modify`: move an instance's tokens.

With an id they act on that one. With filters (and `--all` for no filter at all) they show
what matches, then work through it request by request (each at most `--batch` rows, the
server's cursor carrying on), with a progress bar and a line per row that was skipped or
failed. `--dry-run` shows the count and the first ids and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from legato.cli import render
from legato.cli.context import CliContext, Failure
from legato.cli.variables import collect, var_option, vars_json_option

BATCH = click.IntRange(1, 500)


def _common(function: Any) -> Any:
    for option in reversed(
        (
            click.option("--process", help="Only those of this process."),
            click.option("--version", type=click.IntRange(min=1), help="With --process: only this version."),
            click.option("--business-key", help="Only instances with this business key."),
            click.option("--started-after", type=click.DateTime(), help="Instances started at or after (ISO 8601)."),
            click.option("--started-before", type=click.DateTime(), help="Instances started before (ISO 8601)."),
            click.option("--error", "error_text", help="Text in the (open incident's) error message."),
            click.option("--tenant", help="Only this tenant's."),
            click.option("--all", "everything", is_flag=True, help="Act on every match, also with no filter."),
            click.option("--dry-run", is_flag=True, help="Show what matches; change nothing."),
            click.option("--batch", type=BATCH, default=100, show_default=True, help="Rows per request."),
            click.option("--json", "as_json", is_flag=True, help="Print the server's answers as JSON."),
        )
    ):
        function = option(function)
    return function


@click.command()
@click.argument("incident_id", type=click.IntRange(min=1), metavar="[INCIDENT_ID]", required=False)
@var_option
@vars_json_option
@click.option("--element", help="Only incidents at this element.")
@click.option("--error-type", help="Only incidents with this error type or code.")
@_common
@click.pass_obj
def retry(
    obj: CliContext,
    incident_id: int | None,
    pairs: tuple[str, ...],
    vars_json: str | None,
    element: str | None,
    error_type: str | None,
    process: str | None,
    version: int | None,
    business_key: str | None,
    started_after: datetime | None,
    started_before: datetime | None,
    error_text: str | None,
    tenant: str | None,
    everything: bool,
    dry_run: bool,
    batch: int,
    as_json: bool,
) -> None:
    """Retry the failed step of an incident, or of every open incident the filters select.

    \b
      legato retry INCIDENT_ID                             run the step again as it is
      legato retry INCIDENT_ID --var customer_id=C-17      fix the data and run it again, in one step
      legato retry --process order --element charge --dry-run   what would be retried
      legato retry --process order --element charge        retry them all, with progress
      legato retry --all                                   every open incident
    """
    variables = collect(pairs, vars_json)
    filters = _selection(process, version, business_key, started_after, started_before, error_text, tenant)
    selection = {**filters, "element": element, "error_type": error_type}
    if incident_id is not None:
        if any(value is not None for value in selection.values()) or everything or dry_run:
            raise Failure("USAGE", "give an INCIDENT_ID or filters, not both")
        incident = obj.client.retry_incident(incident_id, variables)
        obj.out.print(
            f"retrying incident {incident['id']}: instance {incident['instance_id']} runs "
            f"'{incident['element']}' again",
            markup=False,
        )
        return
    _bulk(
        obj,
        "retry",
        lambda cursor, preview: obj.client.retry_incidents(
            all=everything, limit=batch, cursor=cursor, dry_run=preview, variables=variables or None, **selection
        ),
        dry_run=dry_run,
        as_json=as_json,
        nouns=("incident", "incidents", "retried"),
    )


@click.command()
@click.argument("instance_id", metavar="[INSTANCE]", required=False)
@click.option("--reason", help="Why; kept in the history.")
@click.option("--waiting-at", help="Only instances with a token waiting at this element.")
@click.option("--var", "var_filters", multiple=True, metavar="NAME:VALUE", help="A variable equals VALUE (repeatable).")
@_common
@click.pass_obj
def cancel(
    obj: CliContext,
    instance_id: str | None,
    reason: str | None,
    waiting_at: str | None,
    var_filters: tuple[str, ...],
    process: str | None,
    version: int | None,
    business_key: str | None,
    started_after: datetime | None,
    started_before: datetime | None,
    error_text: str | None,
    tenant: str | None,
    everything: bool,
    dry_run: bool,
    batch: int,
    as_json: bool,
) -> None:
    """Cancel an active instance, or every active instance the filters select.

    \b
      legato cancel INSTANCE_ID --reason "duplicate order"
      legato cancel --process order --waiting-at approve --dry-run
      legato cancel --process order --business-key withdrawn --reason "product withdrawn"
    """
    filters = _selection(process, version, business_key, started_after, started_before, error_text, tenant)
    selection = {**filters, "waiting_at": waiting_at}
    if instance_id is not None:
        if any(value is not None for value in selection.values()) or var_filters or everything or dry_run:
            raise Failure("USAGE", "give an INSTANCE or filters, not both")
        instance = obj.client.cancel(instance_id, reason)
        obj.out.print(f"cancelled instance {instance['id']} ({instance['process']})", markup=False)
        return
    _bulk(
        obj,
        "cancel",
        lambda cursor, preview: obj.client.cancel_instances(
            all=everything,
            limit=batch,
            cursor=cursor,
            dry_run=preview,
            reason=reason,
            variables=var_filters,
            **selection,
        ),
        dry_run=dry_run,
        as_json=as_json,
        nouns=("instance", "instances", "cancelled"),
    )


@click.command()
@click.argument("instance_id", metavar="INSTANCE")
@click.option("--cancel", "cancel_at", multiple=True, metavar="ELEMENT", help="Cancel the tokens here (repeatable).")
@click.option(
    "--start-before", multiple=True, metavar="ELEMENT", help="Start a token before this element (repeatable)."
)
@click.option("--reason", help="Why; kept in the history.")
@click.option("--json", "as_json", is_flag=True, help="Print the instance as JSON.")
@click.pass_obj
def modify(
    obj: CliContext,
    instance_id: str,
    cancel_at: tuple[str, ...],
    start_before: tuple[str, ...],
    reason: str | None,
    as_json: bool,
) -> None:
    """Move an instance's tokens: cancel at some elements, start before others, in one step.

    \b
      legato modify INSTANCE_ID --cancel ship --start-before check      go back to the check
      legato modify INSTANCE_ID --cancel charge --start-before notify   skip a step that cannot succeed
      legato modify INSTANCE_ID --start-before remind                   run a step once more, beside the rest
      legato modify INSTANCE_ID --cancel legal_review                   drop one of several waiting activities
    """
    instance = obj.client.modify_instance(instance_id, cancel=cancel_at, start_before=start_before, reason=reason)
    if as_json:
        render.print_json(instance)
        return
    moved = [f"cancelled at {', '.join(cancel_at)}"] if cancel_at else []
    moved += [f"started before {', '.join(start_before)}"] if start_before else []
    waiting = ", ".join(instance.get("waiting_at") or []) or "nothing"
    obj.out.print(f"instance {instance['id']}: {'; '.join(moved)}; now waiting at {waiting}", markup=False)


def _selection(
    process: str | None,
    version: int | None,
    business_key: str | None,
    started_after: datetime | None,
    started_before: datetime | None,
    error: str | None,
    tenant: str | None,
) -> dict[str, Any]:
    """The shared filter options as the client's keyword arguments; times typed without a
    zone are the operator's local time."""
    return {
        "process": process,
        "version": version,
        "business_key": business_key,
        "started_after": started_after.astimezone() if started_after is not None else None,
        "started_before": started_before.astimezone() if started_before is not None else None,
        "error": error,
        "tenant": tenant,
    }


def _bulk(
    obj: CliContext,
    action: str,
    request: Callable[[str | None, bool], dict[str, Any]],
    *,
    dry_run: bool,
    as_json: bool,
    nouns: tuple[str, str, str],
) -> None:
    """The preview, then (unless a dry run) every page of the action with a progress bar."""
    one, many, verb = nouns
    preview = request(None, True)
    if dry_run:
        if as_json:
            render.print_json(preview)
            return
        about = "" if preview["total_exact"] else "at least "
        obj.out.print(f"{about}{preview['total']:,} {many} match; nothing changed (dry run)", markup=False)
        if preview["ids"]:
            shown = ", ".join(str(i) for i in preview["ids"])
            more = "" if len(preview["ids"]) >= preview["total"] else ", ..."
            obj.out.print(f"first: {shown}{more}", markup=False)
        return
    if preview["total"] == 0:
        if as_json:
            render.print_json([])
        else:
            obj.out.print(f"no {many} match: nothing to {action}", markup=False)
        return
    answers: list[dict[str, Any]] = []
    totals = {"done": 0, "skipped": 0, "failed": 0}
    cursor: str | None = None
    with Progress(
        TextColumn(f"{action} {many}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=obj.err,
    ) as progress:
        task = progress.add_task("", total=preview["total"])
        while True:
            answer = request(cursor, False)
            answers.append(answer)
            for key in totals:
                totals[key] += answer[key]
            progress.advance(task, len(answer["items"]))
            if not as_json:
                for item in answer["items"]:
                    if item["result"] != "done":
                        obj.out.print(
                            f"{item['result']} {one} {item['id']} (instance {item['instance_id']}): "
                            f"{item.get('code')}: {item.get('reason')}",
                            markup=False,
                        )
            cursor = answer["next_cursor"]
            if cursor is None:
                break
    if as_json:
        render.print_json(answers)
    else:
        obj.out.print(
            f"{verb} {totals['done']:,} {many}, {totals['skipped']:,} skipped, {totals['failed']:,} failed",
            markup=False,
        )
    if totals["failed"]:  # with --json too: a script sees the status, the answers say which
        raise Failure("BULK_FAILED", f"{totals['failed']} {many} could not be {verb}; see above")
