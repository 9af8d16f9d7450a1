"""`legato tenants`: tenants and their members (docs/security.md, "Tenants").

legato tenants create acme --name "ACME Corp"
legato tenants add acme user alice          # or: legato tenants add acme group acme-staff
legato deploy order.yaml --tenant acme
"""

from __future__ import annotations

import click
from rich.table import Table

from legato.cli import render
from legato.cli.context import CliContext
from legato.client import segment as _segment

json_option = click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")


@click.group()
def tenants() -> None:
    """Tenants: list, create, delete, add and remove members (users or groups)."""


@tenants.command("list")
@json_option
@click.pass_obj
def tenants_list(obj: CliContext, as_json: bool) -> None:
    """Every tenant with its members."""
    items = obj.client.call("GET", "/tenants")["items"]
    if as_json:
        render.print_json(items)
        return
    if not items:
        obj.out.print("no tenants: everything is shared (try `legato tenants create NAME`)")
        return
    table = Table("tenant", "name", "users", "groups")
    for tenant in items:
        table.add_row(tenant["tenant"], tenant["name"] or "-", ", ".join(tenant["users"]), ", ".join(tenant["groups"]))
    obj.out.print(table)


@tenants.command("create")
@click.argument("tenant")
@click.option("--name", help="A display name.")
@click.pass_obj
def tenants_create(obj: CliContext, tenant: str, name: str | None) -> None:
    """Create TENANT (from then on, users see only their tenants' work and the shared work)."""
    obj.client.call("POST", "/tenants", json={"tenant": tenant, "name": name})
    obj.out.print(f"tenant {tenant} created", markup=False)


@tenants.command("delete")
@click.argument("tenant")
@click.pass_obj
def tenants_delete(obj: CliContext, tenant: str) -> None:
    """Delete TENANT (refused while definitions, decisions or instances belong to it)."""
    obj.client.call("DELETE", f"/tenants/{_segment(tenant)}")
    obj.out.print(f"tenant {tenant} deleted", markup=False)


@tenants.command("add")
@click.argument("tenant")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("member")
@click.pass_obj
def tenants_add(obj: CliContext, tenant: str, kind: str, member: str) -> None:
    """Make a user, or every member of a group, a member of TENANT."""
    obj.client.call("PUT", f"/tenants/{_segment(tenant)}/members/{kind}/{_segment(member)}")
    obj.out.print(f"{kind} {member} is in tenant {tenant}", markup=False)


@tenants.command("remove")
@click.argument("tenant")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("member")
@click.pass_obj
def tenants_remove(obj: CliContext, tenant: str, kind: str, member: str) -> None:
    """Take a user or a group out of TENANT."""
    obj.client.call("DELETE", f"/tenants/{_segment(tenant)}/members/{kind}/{_segment(member)}")
    obj.out.print(f"{kind} {member} is no longer in tenant {tenant}", markup=False)
