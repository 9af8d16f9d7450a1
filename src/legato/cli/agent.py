"""`legato agent`: run task handlers against a Legato server over HTTP (no database access)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click

from legato.cli.context import CliContext, Failure

HANDLERS_HELP = "Handlers to run: MODULE or MODULE:ATTRIBUTE (a register function, Handlers or Legato). Repeatable."


@click.command()
@click.option("--server", metavar="URL", help="The Legato server [LEGATO_URL, http://127.0.0.1:8080].")
@click.option("--token", envvar="LEGATO_TOKEN", help="A worker token (`legato tokens create --kind worker`).")
@click.option("--handlers", "handler_specs", multiple=True, required=True, metavar="MODULE[:ATTR]", help=HANDLERS_HELP)
@click.option("--worker-id", help="This agent's name in the task locks [host:pid:random].")
@click.option("--concurrency", type=click.IntRange(1, 1000), default=8, show_default=True, help="Handlers at once.")
@click.option("--max-tasks", type=click.IntRange(1, 1000), default=10, show_default=True, help="Tasks per fetch.")
@click.option(
    "--lock-seconds", type=click.FloatRange(0.1, 86400), default=30.0, show_default=True, help="Lock per task."
)
@click.option(
    "--long-poll", type=click.FloatRange(0, 300), default=20.0, show_default=True, help="Seconds a fetch waits."
)
@click.option("--shutdown-grace", type=click.FloatRange(0, 3600), default=10.0, show_default=True)
@click.option("--log-level", metavar="LEVELS", help="Levels, e.g. info or info,legato.agent=debug [LEGATO_LOG_LEVEL].")
@click.option("--log-format", type=click.Choice(("text", "json")), help="Log line format [LEGATO_LOG_FORMAT, text].")
@click.pass_obj
def agent(
    obj: CliContext,
    server: str | None,
    token: str | None,
    handler_specs: tuple[str, ...],
    worker_id: str | None,
    concurrency: int,
    max_tasks: int,
    lock_seconds: float,
    long_poll: float,
    shutdown_grace: float,
    log_level: str | None,
    log_format: str | None,
) -> None:
    """Fetch and run service tasks from a Legato server over HTTP(S): the hub-and-spoke worker.

    It opens no port and needs no database credentials, only a worker token scoped to its
    task types. SIGTERM or Ctrl-C: stop fetching, let running handlers finish, exit.
    """
    from legato.agent import AgentSettings, HttpWorker
    from legato.cli.credentials import token_for
    from legato.cli.loading import AgentHandlers, load_handlers
    from legato.runtime.log_setup import configure

    settings = obj.override(url=server, log_level=log_level, log_format=log_format)
    configure(format=settings.log_format, levels=settings.log_level)
    if "httpx" not in (settings.log_level or ""):  # one line per request is too much by default
        logging.getLogger("httpx").setLevel(logging.WARNING)
    token = token or token_for(settings.url, obj.env)
    if not token:
        raise Failure("TOKEN_MISSING", "give a worker token: --token, LEGATO_TOKEN or `legato login`", exit_code=2)
    host = AgentHandlers()
    for spec in handler_specs:
        load_handlers(spec, host)
    worker = HttpWorker(
        settings.url,
        token,
        host.handlers,
        worker_id=worker_id,
        settings=AgentSettings(
            concurrency=concurrency,
            max_tasks=max_tasks,
            lock_seconds=lock_seconds,
            long_poll=long_poll,
            shutdown_grace=shutdown_grace,
        ),
    )

    def stop(_signum: int, _frame: Any) -> None:
        worker.stop()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    obj.out.print(f"agent {worker.id} on {settings.url}; handlers: {', '.join(host.handlers.types())}", markup=False)
    try:
        running = threading.Thread(target=worker.run, name="legato-agent")
        running.start()
        while running.is_alive():  # the main thread stays free to take the signals
            running.join(0.5)
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
    stats = worker.stats
    obj.out.print(
        f"agent stopped: {stats.completed} completed, {stats.failed} failed, {stats.bpmn_errors} BPMN errors, "
        f"{stats.refused} refused",
        markup=False,
    )
