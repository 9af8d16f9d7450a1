"""`legato login`, `logout`, `whoami`, and the directory: `users`, `groups`, `roles`, `tokens`.

`legato login` logs in with a password once, then creates a personal API token (30 days)
and keeps it in the user's config folder (mode 0600); every other command sends it. The
password itself is never stored.

    legato login --username admin          # asks for the password
    legato users create ann --role operator --password-stdin < pw.txt
    legato groups create sales && legato groups add sales user ann
    legato tokens create ci-deployer --kind service --permission definitions:deploy
"""

from __future__ import annotations

import contextlib
import getpass
import socket
import sys
from typing import Any

import click
from rich.table import Table

from legato.cli import render
from legato.cli.context import CliContext
from legato.cli.credentials import store_token
from legato.client import ApiError
from legato.client import segment as _segment

json_option = click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")


def _password(stdin: bool, prompt: str = "Password") -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(f"{prompt}: ")


@click.command()
@click.option("--username", "-u", prompt=True, help="Your user name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@click.pass_obj
def login(obj: CliContext, username: str, password_stdin: bool) -> None:
    """Log in to the server and keep a 30-day API token for the commands that follow."""
    url = obj.settings.url
    password = _password(password_stdin)
    with obj.new_client(with_token=False) as client:  # the session only: not an older token
        me = client.login(username, password)
        created = client.create_token(f"cli on {socket.gethostname()}", kind="personal", expires_in_days=30)
        with contextlib.suppress(ApiError):  # the session ends by itself; the token is what counts
            client.logout()
    path = store_token(url, created["token"], obj.env)
    obj.out.print(f"logged in to {url} as {me['username']}; token kept in {path}", markup=False)


@click.command()
@click.pass_obj
def logout(obj: CliContext) -> None:
    """Revoke this machine's token for the server and forget it."""
    url = obj.settings.url
    try:
        me = obj.client.call("GET", "/auth/me")
        mine = [t for t in obj.client.call("GET", "/tokens")["items"] if t["owner"] == me["username"]]
        name = f"cli on {socket.gethostname()}"
        for token in mine:
            if token["name"] == name and token["revoked_at"] is None:
                obj.client.call("DELETE", f"/tokens/{_segment(token['id'])}")
    finally:
        store_token(url, None, obj.env)
    obj.out.print(f"logged out of {url}", markup=False)


@click.command()
@json_option
@click.pass_obj
def whoami(obj: CliContext, as_json: bool) -> None:
    """Who the server takes you for, with your groups and permissions."""
    me = obj.client.call("GET", "/auth/me")
    if as_json:
        render.print_json(me)
        return
    obj.out.print(f"{me['username']} ({me['kind']})", markup=False)
    obj.out.print(f"groups: {', '.join(me['groups']) or '-'}", markup=False)
    obj.out.print(f"permissions: {', '.join(me['permissions']) or '-'}", markup=False)


# -- users ---------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Users: list, create, disable, enable, delete, set passwords."""


@users.command("list")
@json_option
@click.pass_obj
def users_list(obj: CliContext, as_json: bool) -> None:
    """Every user."""
    items = obj.client.call("GET", "/users")["items"]
    if as_json:
        render.print_json(items)
        return
    table = Table("user", "name", "email", "status")
    for user in items:
        table.add_row(
            user["username"],
            user["display_name"] or "",
            user["email"] or "",
            "disabled" if user["disabled"] else "active",
        )
    obj.out.print(table)


@users.command("create")
@click.argument("username")
@click.option("--display-name")
@click.option("--email")
@click.option("--role", "roles", multiple=True, help="A role to grant (repeatable): admin, operator, modeler, ...")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="No password login (tokens or single sign-on only).")
@json_option
@click.pass_obj
def users_create(
    obj: CliContext,
    username: str,
    display_name: str | None,
    email: str | None,
    roles: tuple[str, ...],
    password_stdin: bool,
    no_password: bool,
    as_json: bool,
) -> None:
    """Create USERNAME (asks for a password unless --no-password)."""
    password = None if no_password else _password(password_stdin, f"Password for {username}")
    body: dict[str, Any] = {
        "username": username,
        "password": password,
        "display_name": display_name,
        "email": email,
        "roles": list(roles),
    }
    user = obj.client.call("POST", "/users", json=body)
    _done(obj, user, as_json, f"user {user['username']} created")


@users.command("disable")
@click.argument("username")
@click.pass_obj
def users_disable(obj: CliContext, username: str) -> None:
    """Disable USERNAME: their sessions end and their tokens stop working."""
    obj.client.call("PATCH", f"/users/{_segment(username)}", json={"disabled": True})
    obj.out.print(f"user {username} disabled", markup=False)


@users.command("enable")
@click.argument("username")
@click.pass_obj
def users_enable(obj: CliContext, username: str) -> None:
    """Enable USERNAME again."""
    obj.client.call("PATCH", f"/users/{_segment(username)}", json={"disabled": False})
    obj.out.print(f"user {username} enabled", markup=False)


@users.command("delete")
@click.argument("username")
@click.pass_obj
def users_delete(obj: CliContext, username: str) -> None:
    """Delete USERNAME; their tokens are revoked."""
    obj.client.call("DELETE", f"/users/{_segment(username)}")
    obj.out.print(f"user {username} deleted", markup=False)


@users.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.pass_obj
def users_password(obj: CliContext, username: str, password_stdin: bool) -> None:
    """Set USERNAME's password (your own, or anyone's as admin)."""
    password = _password(password_stdin, f"New password for {username}")
    obj.client.call("PUT", f"/users/{_segment(username)}/password", json={"password": password})
    obj.out.print(f"password of {username} set", markup=False)


# -- groups --------------------------------------------------------------------------------


@click.group()
def groups() -> None:
    """Groups: list, create, delete, add and remove members (users or groups)."""


@groups.command("list")
@json_option
@click.pass_obj
def groups_list(obj: CliContext, as_json: bool) -> None:
    """Every group with its direct members."""
    items = obj.client.call("GET", "/groups")["items"]
    if as_json:
        render.print_json(items)
        return
    table = Table("group", "users", "groups")
    for group in items:
        table.add_row(group["group"], ", ".join(group["users"]), ", ".join(group["groups"]))
    obj.out.print(table)


@groups.command("create")
@click.argument("group")
@click.option("--name", help="A display name.")
@click.pass_obj
def groups_create(obj: CliContext, group: str, name: str | None) -> None:
    """Create GROUP."""
    obj.client.call("POST", "/groups", json={"group": group, "name": name})
    obj.out.print(f"group {group} created", markup=False)


@groups.command("delete")
@click.argument("group")
@click.pass_obj
def groups_delete(obj: CliContext, group: str) -> None:
    """Delete GROUP (its members stay)."""
    obj.client.call("DELETE", f"/groups/{_segment(group)}")
    obj.out.print(f"group {group} deleted", markup=False)


@groups.command("add")
@click.argument("group")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("member")
@click.pass_obj
def groups_add(obj: CliContext, group: str, kind: str, member: str) -> None:
    """Put a user or a group (nesting) into GROUP."""
    obj.client.call("PUT", f"/groups/{_segment(group)}/members/{kind}/{_segment(member)}")
    obj.out.print(f"{kind} {member} is in {group}", markup=False)


@groups.command("remove")
@click.argument("group")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("member")
@click.pass_obj
def groups_remove(obj: CliContext, group: str, kind: str, member: str) -> None:
    """Take a user or group out of GROUP."""
    obj.client.call("DELETE", f"/groups/{_segment(group)}/members/{kind}/{_segment(member)}")
    obj.out.print(f"{kind} {member} is no longer in {group}", markup=False)


# -- roles ---------------------------------------------------------------------------------


@click.group()
def roles() -> None:
    """Roles: list them, create custom ones, grant and revoke."""


@roles.command("list")
@json_option
@click.pass_obj
def roles_list(obj: CliContext, as_json: bool) -> None:
    """Built-in and custom roles with their permissions."""
    items = obj.client.call("GET", "/roles")["items"]
    if as_json:
        render.print_json(items)
        return
    table = Table("role", "kind", "permissions")
    for role in items:
        table.add_row(role["role"], "built-in" if role["builtin"] else "custom", ", ".join(role["permissions"]))
    obj.out.print(table)


@roles.command("create")
@click.argument("role")
@click.option("--permission", "permissions", multiple=True, required=True, help="resource:action (repeatable)")
@click.option("--description")
@click.pass_obj
def roles_create(obj: CliContext, role: str, permissions: tuple[str, ...], description: str | None) -> None:
    """Create a custom ROLE from permissions."""
    obj.client.call("POST", "/roles", json={"role": role, "permissions": list(permissions), "description": description})
    obj.out.print(f"role {role} created", markup=False)


@roles.command("grant")
@click.argument("role")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("subject")
@click.option("--process", "processes", multiple=True, help="Only for this process key (repeatable).")
@click.pass_obj
def roles_grant(obj: CliContext, role: str, kind: str, subject: str, processes: tuple[str, ...]) -> None:
    """Grant ROLE to a user or a group, for every process or only those given."""
    body = {"role": role, "kind": kind, "subject": subject, "process_keys": list(processes) or None}
    obj.client.call("POST", "/grants", json=body)
    where = f" for {', '.join(processes)}" if processes else ""
    obj.out.print(f"{kind} {subject} has the role {role}{where}", markup=False)


@roles.command("revoke")
@click.argument("role")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("subject")
@click.pass_obj
def roles_revoke(obj: CliContext, role: str, kind: str, subject: str) -> None:
    """Take ROLE away from a user or a group."""
    obj.client.call("DELETE", f"/grants/{_segment(role)}/{kind}/{_segment(subject)}")
    obj.out.print(f"{kind} {subject} no longer has the role {role}", markup=False)


# -- tokens --------------------------------------------------------------------------------


@click.group()
def tokens() -> None:
    """API tokens for programs: list, create (shown once), revoke."""


@tokens.command("list")
@json_option
@click.pass_obj
def tokens_list(obj: CliContext, as_json: bool) -> None:
    """Your tokens (all of them as admin); never their secrets."""
    items = obj.client.call("GET", "/tokens")["items"]
    if as_json:
        render.print_json(items)
        return
    table = Table("id", "name", "kind", "owner", "expires", "state")
    for token in items:
        state = "revoked" if token["revoked_at"] else "active"
        table.add_row(
            token["id"], token["name"], token["kind"], token["owner"] or "", token["expires_at"] or "never", state
        )
    obj.out.print(table)


@tokens.command("create")
@click.argument("name")
@click.option("--kind", type=click.Choice(["personal", "service", "worker"]), default="personal", show_default=True)
@click.option("--permission", "permissions", multiple=True, help="resource:action (repeatable); default: all yours")
@click.option("--task-type", "task_types", multiple=True, help="Worker tokens: a task type it may work on.")
@click.option("--tenant", "tenants", multiple=True, help="Service and worker tokens: a tenant whose work it sees.")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=90, show_default=True)
@click.option("--no-expiry", is_flag=True, help="Service and worker tokens only.")
@json_option
@click.pass_obj
def tokens_create(
    obj: CliContext,
    name: str,
    kind: str,
    permissions: tuple[str, ...],
    task_types: tuple[str, ...],
    tenants: tuple[str, ...],
    days: float,
    no_expiry: bool,
    as_json: bool,
) -> None:
    """Create a token called NAME and print it: this is the only time it is shown."""
    body: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "permissions": list(permissions) or None,
        "task_types": list(task_types) or None,
        "tenants": list(tenants) or None,
        "expires_in_days": None if no_expiry else days,
    }
    token = obj.client.call("POST", "/tokens", json=body)
    if as_json:
        render.print_json(token)
        return
    obj.out.print(token["token"], markup=False)
    obj.err.print(f"token {token['id']} ({kind}); keep it now: it is not shown again", markup=False)


@tokens.command("revoke")
@click.argument("token_id")
@click.pass_obj
def tokens_revoke(obj: CliContext, token_id: str) -> None:
    """Revoke the token with id TOKEN_ID."""
    obj.client.call("DELETE", f"/tokens/{_segment(token_id)}")
    obj.out.print(f"token {token_id} revoked", markup=False)


def _done(obj: CliContext, answer: Any, as_json: bool, message: str) -> None:
    if as_json:
        render.print_json(answer)
    else:
        obj.out.print(message, markup=False)


__all__ = ["groups", "login", "logout", "roles", "tokens", "users", "whoami"]
