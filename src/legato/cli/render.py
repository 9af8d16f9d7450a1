"""How the CLI shows things: tables, an instance with its history timeline, errors.

Listing commands print rich tables for people and raw JSON with `--json` for scripts.
Everything that comes from the server is escaped before rich sees it, so a variable
holding "[bold]" prints as text, not as markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

STATUS_STYLES = {
    "active": "cyan",
    "completed": "green",
    "open": "yellow",
    "resolved": "green",
    "cancelled": "magenta",
    "terminated": "red",
}
MAX_VALUE_WIDTH = 60


def print_json(data: Any) -> None:
    """Raw JSON on stdout, for scripts: no colour, no wrapping."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_problem(console: Console, problem: Mapping[str, Any], *, context: str | None = None) -> None:
    """`error CODE: detail`, then what a person needs to fix it (the model's problems)."""
    code = str(problem.get("code", "ERROR"))
    detail = str(problem.get("detail", ""))
    where = f"{context}: " if context else ""
    console.print(Text(f"error {code}: {where}{detail}", style="bold red"))
    for item in problem.get("problems") or ():
        element = item.get("element")
        line = item.get("line")
        what = f"'{element}'" if element else "process"
        at = f" (line {line})" if line else ""
        console.print(Text(f"  - {what}{at}: {item.get('message', '')}"))


def status(value: str | None) -> Text:
    return Text(value or "-", style=STATUS_STYLES.get(value or "", ""))


def when(value: str | None, *, time_only: bool = False) -> str:
    """ISO 8601 from the server, shortened for a table (times are UTC)."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if time_only:
        return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def compact(value: Any, width: int = MAX_VALUE_WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def changes(variables: Mapping[str, Any] | None) -> str:
    if not variables:
        return ""
    return ", ".join(f"{name}={compact(value, 30)}" for name, value in variables.items())


# -- tables --------------------------------------------------------------------------------


def _table(*columns: str) -> Table:
    """A plain table; id columns never wrap, so an id can be copied from it."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        identifier = column == "ID" or column == "INSTANCE"
        table.add_column(column, overflow="fold", no_wrap=identifier)
    return table


def definitions_table(items: Iterable[Mapping[str, Any]]) -> Table:
    """The catalogue; a TENANT column appears once any definition belongs to a tenant."""
    rows = list(items)
    tenanted = any(item.get("tenant") for item in rows)
    table = _table("KEY", *(["TENANT"] if tenanted else []), "VERSION", "NAME", "FORMAT", "DEPLOYED", "ID")
    for item in rows:
        table.add_row(
            escape(item["key"]),
            *([escape(item.get("tenant") or "-")] if tenanted else []),
            str(item["version"]),
            escape(item.get("name") or "-"),
            item["source_format"],
            when(item["deployed_at"]),
            str(item["id"]),
        )
    return table


def page_footer(page: Mapping[str, Any], noun: str) -> str | None:
    """`20 of 3,412 instances shown; next page: --cursor ...`, or None when all are shown."""
    shown = len(page["items"])
    total = page["total"]
    if page.get("next_cursor") is None and shown >= total:
        return None
    more = "+" if not page.get("total_exact", True) else ""
    hint = f"; next page: --cursor {page['next_cursor']}" if page.get("next_cursor") else ""
    return f"{shown:,} of {total:,}{more} {noun} shown (--limit N){hint}"


def instances_table(items: Iterable[Mapping[str, Any]]) -> Table:
    table = _table("ID", "PROCESS", "STATUS", "BUSINESS KEY", "WAITING AT", "STARTED")
    for item in items:
        table.add_row(
            item["id"],
            escape(f"{item['process']} v{item['version']}"),
            status(item["status"]),
            escape(item.get("business_key") or "-"),
            escape(", ".join(item.get("waiting_at") or ()) or "-"),
            when(item["created_at"]),
        )
    return table


def tasks_table(items: Iterable[Mapping[str, Any]]) -> Table:
    table = _table("ID", "TASK", "STATUS", "ASSIGNEE", "GROUPS", "DUE", "INSTANCE", "CREATED")
    for item in items:
        name = item.get("name")
        table.add_row(
            escape(item["id"]),
            escape(f"{name} ({item['element']})" if name else item["element"]),
            status(item["status"]),
            escape(item.get("assignee") or "-"),
            escape(", ".join(item.get("candidate_groups") or ()) or "-"),
            when(item.get("due_at")),
            item["instance_id"],
            when(item["created_at"]),
        )
    return table


def incidents_table(items: Iterable[Mapping[str, Any]]) -> Table:
    table = _table("ID", "ELEMENT", "ERROR", "STATUS", "INSTANCE", "CREATED")
    for item in items:
        table.add_row(
            str(item["id"]),
            escape(item["element"]),
            escape(f"{item['error_type']}: {item['message']}"),
            status(item["status"]),
            item["instance_id"],
            when(item["created_at"]),
        )
    return table


# -- one instance --------------------------------------------------------------------------


def instance_view(instance: Mapping[str, Any]) -> Group:
    """Header, variables, open tasks and incidents, then the history as a timeline."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("instance", instance["id"])
    head.add_row("process", escape(f"{instance['process']} v{instance['version']}"))
    head.add_row("status", status(instance["status"]))
    head.add_row("business key", escape(instance.get("business_key") or "-"))
    head.add_row("started", when(instance["created_at"]) + " UTC")
    head.add_row("ended", when(instance.get("ended_at")) + (" UTC" if instance.get("ended_at") else ""))
    head.add_row("waiting at", escape(", ".join(instance.get("waiting_at") or ()) or "-"))
    parts: list[Any] = [head]
    variables = instance.get("variables") or {}
    parts.append(
        Panel(
            Text(json.dumps(variables, indent=2, ensure_ascii=False)),
            title="variables",
            title_align="left",
            expand=False,
        )
    )
    if instance.get("tasks"):
        parts.append(Text("open tasks", style="bold"))
        parts.append(tasks_table(instance["tasks"]))
    if instance.get("incidents"):
        parts.append(Text("incidents", style="bold red"))
        parts.append(incidents_table(instance["incidents"]))
    parts.append(Text("history", style="bold"))
    parts.append(timeline(instance.get("history") or ()))
    return Group(*parts)


def timeline(events: Sequence[Mapping[str, Any]]) -> Table:
    table = _table("TIME", "EVENT", "ELEMENT", "ACTOR", "VARIABLES CHANGED")
    for event in events:
        data = event.get("data")
        variables = data.get("variables") if isinstance(data, dict) else None
        table.add_row(
            when(event["at"], time_only=True),
            escape(event["type"]),
            escape(event.get("element") or ""),
            escape(event.get("actor") or ""),
            escape(changes(variables)),
        )
    return table


def print_warnings(console: Console, warnings: Sequence[Mapping[str, Any]]) -> None:
    """Each warning of an answer (a task type no live worker serves) once, as `warning: ...`."""
    seen: set[str] = set()
    for warning in warnings:
        message = str(warning.get("message") or warning)
        if message not in seen:
            seen.add(message)
            console.print(f"warning: {message}", markup=False)
