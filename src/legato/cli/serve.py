"""`legato server` (API and in-process worker) and `legato worker` (executor only).

Both stop gracefully on SIGTERM or SIGINT: no new jobs are claimed, running handlers get
the worker's grace period to finish, their results are committed, and the command exits
with status 0. A job still running after the grace period is not lost: its lock expires
and another worker runs it again.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from legato.cli.context import CliContext, Failure
from legato.settings import Settings

if TYPE_CHECKING:  # the runtime is imported when a command runs: client commands start fast
    from legato.runtime.app import Legato

LOG_LEVEL_HELP = (
    "A level (critical, error, warning, info, debug), or per logger: "
    "warning,legato.jobs=info,legato.http=warning [LEGATO_LOG_LEVEL, info]."
)
LOG_FORMAT_HELP = (
    "text, or json: one object per line with instance_id, element, job_id, trace_id, span_id [LEGATO_LOG_FORMAT]."
)
HANDLERS_HELP = "Handlers to run: MODULE or MODULE:ATTRIBUTE (a register function, Handlers or Legato). Repeatable."


@click.command()
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Deploy the order-to-cash demo and its handlers. "
    "Default: on while the database is empty or holds only the demo. "
    "While the demo is deployed its handlers are registered either way.",
)
@click.option("--host", help="Listen on this address [LEGATO_HOST, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Listen on this port [LEGATO_PORT, 8080].")
@click.option("--database", help="SQLite path or URL, or postgresql://... [LEGATO_DATABASE, legato.db].")
@click.option("--handlers", "handler_specs", multiple=True, metavar="MODULE[:ATTR]", help=HANDLERS_HELP)
@click.option("--log-level", metavar="LEVELS", help=LOG_LEVEL_HELP)
@click.option("--log-format", type=click.Choice(("text", "json")), help=LOG_FORMAT_HELP)
@click.option("--access-log/--no-access-log", default=None, help="Log one line per request [LEGATO_ACCESS_LOG, on].")
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Local development only: no login, everyone is admin. Refused unless listening on loopback.",
)
@click.pass_obj
def server(
    obj: CliContext,
    demo: bool | None,
    host: str | None,
    port: int | None,
    database: str | None,
    handler_specs: tuple[str, ...],
    log_level: str | None,
    log_format: str | None,
    access_log: bool | None,
    insecure_no_auth: bool,
) -> None:
    """Run the REST API with an in-process worker.

    On a database without users it creates the user `admin` and prints its password once
    (LEGATO_ADMIN_PASSWORD sets it instead); then `legato login -u admin`.
    """
    import uvicorn

    from legato.api import create_app
    from legato.api.security import AuthSettings
    from legato.cli import demo as demos
    from legato.cli.loading import load_handlers

    settings = obj.override(
        host=host, port=port, database=database, log_level=log_level, log_format=log_format, access_log=access_log
    )
    _configure_logging(settings)
    _configure_expressions(settings)
    _configure_tracing(obj, "legato-server")
    if insecure_no_auth and settings.host not in LOOPBACK:
        raise Failure(
            "INSECURE_NOT_LOOPBACK",
            f"--insecure-no-auth serves everyone as admin: it listens on loopback only, not on {settings.host}",
            exit_code=2,
        )
    legato = open_legato(settings)
    try:
        if insecure_no_auth:
            obj.err.print(
                "WARNING: --insecure-no-auth: NO AUTHENTICATION. Anyone who can reach "
                f"{settings.host}:{settings.port} is admin. For local development only.",
                markup=False,
            )
        else:
            _bootstrap_admin(obj, legato)
        if not settings.audit_keys and legato.store.audit.key_file is None:
            obj.err.print(
                "warning: LEGATO_AUDIT_KEY is not set: the audit log's key is kept in the database, which "
                "guards against accidental edits only (docs/security.md, Audit log).",
                markup=False,
            )
        if demo is None:
            demo = demos.is_demo_database(legato)
        # the demo's handlers stay registered while the demo is deployed, --no-demo or not
        set_up = demos.set_up(legato) if demo else demos.keep_handlers(legato)
        if set_up is not None and set_up.problem:
            obj.err.print(f"warning: the demo model did not deploy: {set_up.problem}", markup=False)
        for spec in handler_specs:
            load_handlers(spec, legato)
        legato.max_attachment_bytes = settings.task_attachment_max_bytes
        app = create_app(
            legato,
            worker=True,
            auth=AuthSettings(enabled=not insecure_no_auth, oidc=settings.oidc()),
            allowed_hosts=_allowed_hosts(obj, settings),
            cors_origins=settings.cors_origins,
            access_log=settings.access_log,
        )
        obj.out.print(demos.banner(settings, set_up, legato.handlers.types()))
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,  # uvicorn's loggers go through ours (_configure_logging)
            log_level=None,
            lifespan="on",
            access_log=False,  # ours (legato.http) has the trace id and the JSON fields
        )
        server = uvicorn.Server(config)
        handle_exit = server.handle_exit

        def stop_long_polls(signum: int, frame: Any) -> None:
            legato.external_tasks.stop_waiting()  # waiting fetches answer now: shutdown need not wait 20 s
            handle_exit(signum, frame)

        server.handle_exit = stop_long_polls  # type: ignore[method-assign,assignment]
        with _on_signals(_ignore):
            server.run()
    finally:
        legato.close()
    obj.out.print("server stopped")


@click.command()
@click.option("--database", help="SQLite path or URL, or postgresql://... [LEGATO_DATABASE, legato.db].")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 10_000),
    help="Handlers running at once [LEGATO_WORKER_CONCURRENCY, 64].",
)
@click.option("--handlers", "handler_specs", multiple=True, metavar="MODULE[:ATTR]", help=HANDLERS_HELP)
@click.option("--log-level", metavar="LEVELS", help=LOG_LEVEL_HELP)
@click.option("--log-format", type=click.Choice(("text", "json")), help=LOG_FORMAT_HELP)
@click.option(
    "--tenant", "tenants", multiple=True, help="Run only this tenant's jobs and the shared ones (repeatable)."
)
@click.pass_obj
def worker(
    obj: CliContext,
    database: str | None,
    concurrency: int | None,
    handler_specs: tuple[str, ...],
    log_level: str | None,
    log_format: str | None,
    tenants: tuple[str, ...],
) -> None:
    """Run a job executor only: more of these scale out the work on a shared database."""
    from legato.cli.demo import hide_password, keep_handlers
    from legato.cli.loading import load_handlers
    from legato.runtime.worker import Worker

    settings = obj.override(
        database=database, worker_concurrency=concurrency, log_level=log_level, log_format=log_format
    )
    _configure_logging(settings)
    _configure_expressions(settings)
    _configure_tracing(obj, "legato-worker")
    legato = open_legato(settings)
    try:
        keep_handlers(legato)  # the demo's, while the demo process is deployed; --handlers may override them
        for spec in handler_specs:
            load_handlers(spec, legato)
        types = legato.handlers.types()
        worker_settings = settings.worker_settings()
        if tenants:
            kept = frozenset(tenant.strip().lower() for tenant in tenants)
            worker_settings = dataclasses.replace(worker_settings, tenants=kept)
        running = Worker(legato.store, legato.handlers, clock=legato.clock, settings=worker_settings)
        stop = threading.Event()
        with _on_signals(lambda _signum, _frame: stop.set()):
            running.start()
            obj.out.print(
                f"worker {running.id} on {hide_password(settings.database)}, concurrency "
                f"{settings.worker_concurrency}; handlers: {', '.join(types) or 'none (timers only)'}",
                markup=False,
            )
            try:
                while not stop.wait(0.5):  # a timeout, so the main thread gets to run handlers
                    pass
            finally:
                running.stop()
    finally:
        legato.close()
    stats = running.stats
    obj.out.print(
        f"worker stopped: {stats['completed']} job(s) completed, {stats['failed']} failed",
        markup=False,
    )


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _configure_expressions(settings: Settings) -> None:
    """The CPU-time limits of one evaluation (LEGATO_EXPRESSION_CPU_LIMIT, LEGATO_SCRIPT_CPU_LIMIT)."""
    from legato.expressions import set_cpu_limits

    set_cpu_limits(expression=settings.expression_cpu_limit, script=settings.script_cpu_limit)


def _configure_tracing(obj: CliContext, service: str) -> None:
    """Export traces by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/tracing.md)."""
    from legato.telemetry.tracing import configure_from_environment

    try:
        configure_from_environment(service, obj.env)
    except RuntimeError as exc:
        raise Failure("TRACING_UNAVAILABLE", str(exc), exit_code=2) from exc


def _configure_logging(settings: Settings) -> None:
    """Log lines to stderr in the chosen format, with the level per logger (docs/operations.md)."""
    from legato.runtime.log_setup import configure

    configure(format=settings.log_format, levels=settings.log_level)


def _allowed_hosts(obj: CliContext, settings: Settings) -> tuple[str, ...] | None:
    """The Host names to answer: loopback, our own --host, LEGATO_ALLOWED_HOSTS (a DNS-rebinding guard)."""
    if settings.host in ("0.0.0.0", "::") and not settings.allowed_hosts:
        obj.err.print(
            f"note: listening on {settings.host} without LEGATO_ALLOWED_HOSTS: any Host name is answered",
            markup=False,
        )
        return None
    from legato.api.hardening import LOOPBACK_HOSTS

    return (*LOOPBACK_HOSTS, settings.host.lower(), *settings.allowed_hosts)


def _bootstrap_admin(obj: CliContext, legato: Legato) -> None:
    """The first start of a new database: an admin account, its password printed once."""
    import secrets

    from legato.access.authenticator import Authenticator, ensure_admin

    given = obj.env.get("LEGATO_ADMIN_PASSWORD", "")
    password = given or secrets.token_urlsafe(12)
    created = ensure_admin(Authenticator(legato.store, clock=legato.clock), password)
    if created is None:
        return
    if given:
        obj.out.print("created the user admin with the password from LEGATO_ADMIN_PASSWORD", markup=False)
    else:
        obj.out.print(
            f"created the user admin with the password {password} (shown once; change it with "
            "`legato users password admin`)",
            markup=False,
        )
    obj.out.print("log in with: legato login -u admin", markup=False)


def open_legato(settings: Settings) -> Legato:
    from legato.cli.demo import hide_password
    from legato.runtime.app import Legato
    from legato.store import Store

    keyring = settings.keyring()  # a bad key or key file says so, not as a database failure
    try:
        store = Store(
            settings.database,
            sqlite_synchronous=settings.sqlite_synchronous,
            sensitive=settings.sensitive_variables,
            connect_timeout=settings.database_connect_timeout,
            statement_timeout=settings.database_timeout,
            audit_keys=settings.audit_keys,
            encryption_keys=keyring,
            encrypt="all" if settings.encrypt == "all" else "sensitive",
        )
    except Exception as exc:
        raise Failure(
            "DATABASE_UNAVAILABLE",
            f"cannot open the database {hide_password(settings.database)}: {exc}",
        ) from None
    return Legato(store, worker_settings=settings.worker_settings())


@contextmanager
def _on_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """Run `handler` on SIGINT and SIGTERM while the block runs."""
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _ignore(_signum: int, _frame: Any) -> None:
    """For uvicorn's graceful shutdown to be the end of `legato server`.

    uvicorn catches SIGINT and SIGTERM, shuts down, then raises the signal again for the
    handler that was installed before it. With Python's defaults that is a traceback
    (SIGINT) or death by signal (SIGTERM) after a clean shutdown; with this one the
    command goes on, closes the store and exits 0.
    """
