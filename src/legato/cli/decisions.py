"""`legato decide` and `legato decisions`: DMN decisions from the shell.

`legato deploy rates.dmn` deploys decisions through the same command as processes; what it
prints for them is made here (`print_deployed`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from legato.cli import render
from legato.cli.context import CliContext
from legato.cli.variables import collect, var_option, vars_json_option


@click.command()
@click.argument("decision_id", metavar="DECISION")
@var_option
@vars_json_option
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_obj
def decide(obj: CliContext, decision_id: str, pairs: tuple[str, ...], vars_json: str | None, as_json: bool) -> None:
    """Evaluate DECISION (its id) on variables: the value, and the rules that matched.

    \b
      legato decide credit_risk --var amount=1200            (examples/credit.dmn)
      legato decide credit_risk --vars-json '{"amount": 1200}' --json
    """
    result = obj.client.evaluate_decision(decision_id, collect(pairs, vars_json))
    if as_json:
        render.print_json(result)
        return
    for line in _result_lines(result):
        obj.out.print(line, markup=False)


@click.command()
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def decisions(obj: CliContext, all_versions: bool, as_json: bool) -> None:
    """List deployed decision models (DMN files) and their decisions."""
    items = obj.client.decisions(all_versions=all_versions)
    if as_json:
        render.print_json(items)
    elif not items:
        obj.out.print("no decisions deployed: try `legato deploy FILE.dmn`")
    else:
        obj.out.print(_models_table(items))


def print_deployed(obj: CliContext, deployed: Mapping[str, Any], path: Path) -> None:
    """One line for a deployed DMN file, and its import warnings on stderr."""
    verb = "deployed " if deployed["created"] else "unchanged"
    ids = ", ".join(decision["id"] for decision in deployed.get("decisions") or ())
    obj.out.print(f"{verb} decisions {deployed['key']} version {deployed['version']} ({ids}) from {path}", markup=False)
    for warning in deployed.get("warnings") or ():
        element, line = warning.get("element"), warning.get("line")
        where = (f"'{element}'" if element else "file") + (f" (line {line})" if line else "")
        obj.err.print(Text(f"  warning: {where}: {warning.get('message', '')}", style="yellow"))


def _result_lines(result: Mapping[str, Any]) -> list[str]:
    name = result.get("name")
    title = f"{name} ({result['decision']})" if name else str(result["decision"])
    lines = [
        f"{title}, {result['key']} version {result['version']}",
        f"value          {_json(result.get('value'))}",
        f"matched rules  {', '.join(result.get('matched_rules') or ()) or '-'}",
    ]
    for required in result.get("required") or ():
        rules = ", ".join(required.get("matched_rules") or ()) or "-"
        label = required.get("decision_name") or required.get("decision_id")
        lines.append(f"required       {label} = {_json(required.get('value'))} (rules: {rules})")
    return lines


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _models_table(items: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("KEY", "VERSION", "NAME", "DECISIONS", "DEPLOYED"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            escape(item["key"]),
            str(item["version"]),
            escape(item.get("name") or "-"),
            escape(", ".join(decision["id"] for decision in item.get("decisions") or ())),
            render.when(item["deployed_at"]),
        )
    return table
