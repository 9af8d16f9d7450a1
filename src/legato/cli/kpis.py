"""`legato kpis KEY --since 7d`: a process version's key figures over a window, as a table.

    legato kpis order_to_cash                 # the last 7 days, latest version
    legato kpis order_to_cash --since 24h --version 2
    legato kpis order_to_cash --json

The server computes them from the history (GET /api/v1/definitions/{key}/kpis, permission
`instances:read`); a window that does not parse is refused naming `since`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click
from rich.table import Table

from legato.cli import render
from legato.cli.context import CliContext


@click.command()
@click.argument("key")
@click.option("--since", default="7d", show_default=True, help="The window, ending now: 30m, 24h, 7d, 2w.")
@click.option("--version", type=int, help="A version (default: the latest).")
@click.option("--tenant", help="The tenant whose process it is.")
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_obj
def kpis(obj: CliContext, key: str, since: str, version: int | None, tenant: str | None, as_json: bool) -> None:
    """Cycle time, throughput, error and automation rates of process KEY, and time per element."""
    params: dict[str, Any] = {"since": since}
    if version is not None:
        params["version"] = version
    if tenant is not None:
        params["tenant"] = tenant
    figures = obj.client.call("GET", f"/definitions/{quote(key, safe='')}/kpis", params=params)
    if as_json:
        render.print_json(figures)
        return
    obj.out.print(
        f"{figures['process']} version {figures['version']}, the last {since} "
        f"({render.when(figures['since'])} to {render.when(figures['until'])})",
        markup=False,
    )
    obj.out.print(_figures_table(figures))
    if figures["per_element"]:
        obj.out.print(_elements_table(figures["per_element"]))


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _figures_table(figures: dict[str, Any]) -> Table:
    cycle = figures["cycle_time_seconds"]
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("started", str(figures["started"])),
        ("completed", str(figures["completed"])),
        ("ended otherwise", str(figures["ended_otherwise"])),
        ("cycle time p50 / p90 / p99", " / ".join(_seconds(cycle[p]) for p in ("p50", "p90", "p99"))),
        ("throughput", f"{figures['throughput_per_day']:g} per day"),
        ("error rate", _share(figures["error_rate"])),
        ("automation rate", _share(figures["automation_rate"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _elements_table(elements: list[dict[str, Any]]) -> Table:
    table = Table("element", "passes", "p50", "p90", title="time spent per element")
    for item in elements:
        table.add_row(
            item["element"], str(item["passes"]), _seconds(item["p50_seconds"]), _seconds(item["p90_seconds"])
        )
    return table
