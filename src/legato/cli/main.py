"""`legato`: the command line. `main()` is the console entry point.

Client commands (deploy, start, instances, show, send, complete, tasks, incidents, retry,
cancel, definitions, decisions, decide, audit) talk HTTP to the server at LEGATO_URL (or --url); `server` and
`worker` open the database themselves. Exit status: 0 done, 1 the server or the command
refused (the error's code is printed), 2 a usage or settings error, or no server to talk to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from rich.text import Text

from legato.cli import (
    agent,
    audit,
    decisions,
    definitions,
    identity,
    instances,
    keys,
    kpis,
    migrate,
    repair,
    serve,
    task_work,
    tenants,
    work,
)
from legato.cli.context import CliContext, Failure
from legato.cli.render import print_problem
from legato.client import ApiError, ServerUnreachable


class _Legato(click.Group):
    """The group that turns every failure of a command into one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            print_problem(_context(ctx).err, exc.problem)
            ctx.exit(1)
        except ServerUnreachable as exc:
            _context(ctx).err.print(
                Text(
                    f"error SERVER_UNREACHABLE: cannot reach the Legato server at {exc.url} "
                    f"({exc.reason}).\n"
                    "Is `legato server` running there? Point LEGATO_URL or --url at it otherwise.",
                    style="bold red",
                )
            )
            ctx.exit(2)
        except Failure as exc:
            _context(ctx).err.print(Text(f"error {exc.code}: {exc.message}", style="bold red"))
            ctx.exit(exc.exit_code)


def _context(ctx: click.Context) -> CliContext:
    obj = ctx.find_object(CliContext)
    return obj if obj is not None else CliContext()


@click.group(cls=_Legato, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    metavar="URL",
    help="The server for client commands [LEGATO_URL, http://127.0.0.1:8080].",
)
@click.version_option(package_name="legato", prog_name="legato")
@click.pass_context
def cli(ctx: click.Context, url: str | None) -> None:
    """Legato: durable process orchestration.

    \b
      legato server                                               run the API and a worker (demo on a new database)
      legato deploy order.yaml                                    deploy a model (YAML, BPMN or DMN)
      legato start order_to_cash --var order_id=A-1 --var amount=120   start an instance
      legato show INSTANCE_ID                                     where it stands, and its history
    """
    obj = ctx.ensure_object(CliContext)
    if url is not None:
        obj.url = url


for command in (
    serve.server,
    serve.worker,
    agent.agent,
    definitions.deploy,
    definitions.definitions,
    definitions.export,
    decisions.decisions,
    decisions.decide,
    instances.start,
    instances.instances,
    instances.show,
    repair.cancel,
    repair.modify,
    migrate.migrate,
    kpis.kpis,
    work.send,
    work.signal,
    work.conditions,
    task_work.tasks,
    work.complete,
    work.incidents,
    work.workers,
    repair.retry,
    work.variables,
    identity.login,
    identity.logout,
    identity.whoami,
    identity.users,
    identity.groups,
    identity.roles,
    identity.tokens,
    audit.audit,
    keys.keys,
    tenants.tenants,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="legato")
