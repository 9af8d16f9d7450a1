"""`legato migrate`: move running instances to another version of their process.

The plan is the server's: the mapping generated for the element ids both versions share,
with `--map A=B` over it. The command first checks the plan and the first page of
instances (a dry run on the server), prints the plan, then works through every instance
request by request with a progress bar, a line per instance that failed or was skipped.
"""

from __future__ import annotations

from typing import Any

import click

from legato.cli import render
from legato.cli.context import CliContext, Failure
from legato.cli.repair import BATCH, _bulk


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        source, sep, target = value.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise Failure("USAGE", f"--map takes SOURCE=TARGET element ids, not {value!r}")
        mapping[source.strip()] = target.strip()
    return mapping


@click.command()
@click.argument("process", metavar="KEY")
@click.option("--from", "from_version", type=click.IntRange(min=1), required=True, help="The version they run on.")
@click.option("--to", "to_version", type=click.IntRange(min=1), required=True, help="The version they move to.")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="SOURCE=TARGET",
    help="Map an element of --from to one of --to (repeatable).",
)
@click.option("--no-generate", is_flag=True, help="Map only what --map says, not the ids both versions share.")
@click.option("--instance", "instance_ids", multiple=True, metavar="INSTANCE", help="Only this instance (repeatable).")
@click.option("--business-key", help="Only instances with this business key.")
@click.option("--tenant", help="The tenant whose versions and instances.")
@click.option("--dry-run", is_flag=True, help="Show the plan and the instances that would fail; move nothing.")
@click.option("--batch", type=BATCH, default=100, show_default=True, help="Instances per request.")
@click.option("--json", "as_json", is_flag=True, help="Print the server's answers as JSON.")
@click.pass_obj
def migrate(
    obj: CliContext,
    process: str,
    from_version: int,
    to_version: int,
    pairs: tuple[str, ...],
    no_generate: bool,
    instance_ids: tuple[str, ...],
    business_key: str | None,
    tenant: str | None,
    dry_run: bool,
    batch: int,
    as_json: bool,
) -> None:
    """Migrate the running instances of one version of a process to another.

    \b
      legato migrate order --from 3 --to 4 --dry-run                 the plan, and who would fail
      legato migrate order --from 3 --to 4 --map charge=charge_card  move them, charge onto charge_card
      legato migrate order --from 3 --to 4 --instance INSTANCE       just one
    """
    mapping = _pairs(pairs)

    def request(cursor: str | None, preview: bool) -> dict[str, Any]:
        return obj.client.migrate_instances(
            process,
            from_version=from_version,
            to_version=to_version,
            mapping=mapping,
            generate=not no_generate,
            instance_ids=instance_ids,
            business_key=business_key,
            tenant=tenant,
            limit=batch,
            cursor=cursor,
            dry_run=preview,
        )

    if dry_run:
        preview = request(None, True)
        if as_json:
            render.print_json(preview)
            return
        plan = ", ".join(f"{a} -> {b}" if a != b else a for a, b in preview["mapping"].items()) or "nothing"
        obj.out.print(f"plan {process} {from_version} -> {to_version}: {plan}", markup=False)
        about = "" if preview["total_exact"] else "at least "
        obj.out.print(f"{about}{preview['total']:,} instances match; nothing changed (dry run)", markup=False)
        for item in preview["items"]:
            obj.out.print(f"would fail: instance {item['instance_id']}: {item['code']}: {item['reason']}", markup=False)
        if preview["next_cursor"] is not None:
            obj.out.print(f"checked the first {preview['matched']:,}; the rest are checked as they move", markup=False)
        return
    _bulk(obj, "migrate", request, dry_run=False, as_json=as_json, nouns=("instance", "instances", "migrated"))
