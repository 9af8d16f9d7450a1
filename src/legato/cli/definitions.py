"""`legato deploy` and `legato definitions`: models in, the catalogue out."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from legato.cli import render
from legato.cli.context import CliContext
from legato.cli.decisions import print_deployed
from legato.client import ApiError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", help="Deploy for this tenant (default: your only tenant, else the shared one).")
@click.option("--json", "as_json", is_flag=True, help="Print the server's answers as JSON.")
@click.pass_obj
def deploy(obj: CliContext, files: tuple[Path, ...], tenant: str | None, as_json: bool) -> None:
    """Deploy process models (.yaml, .yml, .json, .bpmn) and DMN decisions (.dmn).

    Each file becomes a new version of its process, unless it equals the latest version.
    A file the server refuses is reported with the elements at fault; the others still
    deploy, and the exit code is 1.
    """
    results = []
    failed = 0
    with Progress(
        TextColumn("deploying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=obj.err,
        disable=len(files) < 2,
    ) as progress:
        task = progress.add_task("", total=len(files))
        for path in files:
            progress.update(task, description=path.name)
            try:
                deployed = obj.client.deploy(path, tenant=tenant)
            except ApiError as exc:
                failed += 1
                render.print_problem(obj.err, exc.problem, context=str(path))
            else:
                results.append({"file": str(path), **deployed})
                if not as_json and deployed.get("kind") == "decisions":
                    print_deployed(obj, deployed, path)
                elif not as_json:
                    for each in (deployed, *deployed.get("others", [])):  # every pool of a collaboration
                        verb = "deployed " if each["created"] else "unchanged"
                        where = f" in tenant {each['tenant']}" if each.get("tenant") else ""
                        kept = " (kept for viewing: it cannot run)" if each.get("not_executable") else ""
                        obj.out.print(
                            f"{verb} {each['key']} version {each['version']}{where} "
                            f"(definition {each['id']}) from {path}{kept}",
                            markup=False,
                        )
                        for warning in each.get("warnings", []):
                            obj.err.print(f"warning: {path.name}: {warning}", markup=False)
            progress.advance(task)
    if as_json:
        render.print_json(results)
    if failed:
        raise click.exceptions.Exit(1)


@click.command()
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
@click.option("--tenant", help="Only this tenant's processes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def definitions(obj: CliContext, all_versions: bool, tenant: str | None, as_json: bool) -> None:
    """List deployed processes."""
    items = obj.client.definitions(all_versions=all_versions, tenant=tenant).items
    if as_json:
        render.print_json(items)
    elif not items:
        obj.out.print("no processes deployed: try `legato deploy FILE`")
    else:
        obj.out.print(render.definitions_table(items))


@click.command(name="export")
@click.argument("process")
@click.option("--version", type=click.IntRange(min=1), help="A version other than the latest.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.option(
    "--flavour",
    type=click.Choice(["camunda8", "camunda7"]),
    help="Convert: generate the file with zeebe: (camunda8) or camunda: (camunda7) extensions.",
)
@click.pass_obj
def export(obj: CliContext, process: str, version: int | None, output: Path | None, flavour: str | None) -> None:
    """Export PROCESS as BPMN 2.0 XML with a diagram, for Camunda Modeler or bpmn.io.

    A process deployed from a BPMN file comes back as that file, unchanged; one written in
    YAML or Python is generated. --flavour converts to the chosen Camunda flavour.
    """
    xml = obj.client.export_bpmn(process, version, flavour=flavour)
    if output is None:
        click.echo(xml, nl=False)
    else:
        output.write_text(xml, encoding="utf-8")
        obj.out.print(f"exported {process} to {output}", markup=False)
