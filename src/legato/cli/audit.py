"""`legato audit list | export | verify`: the audit log, through the server or straight from the database.

    legato audit list --actor ann --action 'task.*' --since 2026-12-01
    legato audit list --tenant acme                   # rows about tenant acme's work
    legato audit export > audit.jsonl                 # every row, oldest first, JSON lines
    legato audit verify                               # exit 1 naming the first broken row
    legato audit verify --database postgresql://...   # without a server: needs LEGATO_AUDIT_KEY

By default the commands ask the server (permission `audit:read`), which shows a user kept to
tenants only the rows about its tenants' work and the shared tenant's. With `--database` they
open the database themselves, with the key from LEGATO_AUDIT_KEY or the one generated
beside a SQLite file; verify then works even when no server is running, or against a
copy of the database.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from legato.cli import render
from legato.cli.context import CliContext, Failure

DATABASE_HELP = "Read this database directly instead of asking the server (SQLite path or postgresql://...)."


def _filters(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--actor", help="Only this actor (a user name, token:NAME, or the name a failed login tried)."),
        click.option("--action", help="Only this action, or a prefix: 'task.*', 'auth.*'."),
        click.option("--target", metavar="KIND[:ID]", help="Only rows about this: 'instance:ID', 'user:ann', 'task'."),
        click.option("--outcome", type=click.Choice(("ok", "refused", "failed")), help="Only this outcome."),
        click.option("--since", metavar="TIME", help="From this time on (ISO 8601; UTC if no offset)."),
        click.option("--until", metavar="TIME", help="Before this time."),
        click.option("--tenant", help="Only rows about this tenant's work (with --database, '' for the shared one's)."),
        click.option("--database", metavar="URL", help=DATABASE_HELP),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _params(
    actor: str | None,
    action: str | None,
    target: str | None,
    outcome: str | None,
    since: str | None,
    until: str | None,
    tenant: str | None = None,
) -> dict[str, str]:
    params: dict[str, str] = {}
    if target:
        kind, _, target_id = target.partition(":")
        params["target_kind"] = kind
        if target_id:
            params["target_id"] = target_id
    for name, value in (("actor", actor), ("action", action), ("outcome", outcome), ("since", since), ("until", until)):
        if value:
            params[name] = value
    if tenant is not None:
        params["tenant"] = tenant
    return params


@click.group()
def audit() -> None:
    """The audit log: who did what, when, from where; hash-chained (docs/security.md)."""


@audit.command("list")
@_filters
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Rows to show.")
@click.option("--cursor", help="Continue after a page: the `next` value printed below it.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@click.pass_obj
def audit_list(
    obj: CliContext, /, database: str | None, limit: int, cursor: str | None, as_json: bool, **filters: Any
) -> None:
    """The newest rows first."""
    params = _params(**filters)
    if database:
        where = _where(params)
        with _audit_log(obj, database) as log:
            page = log.query(where, cursor=cursor, limit=limit)
            answer: dict[str, Any] = {
                "items": [record.public() for record in page.items],
                "next_cursor": page.next_cursor,
            }
    else:
        paging = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = obj.client.call("GET", "/audit", params={**params, **paging})
    if as_json:
        render.print_json(answer)
        return
    table = Table("seq", "at", "actor", "source", "action", "target", "tenant", "outcome", "details")
    for row in answer["items"]:
        target = row["target"]
        table.add_row(
            str(row["seq"]),
            render.when(row["at"]),
            row["actor"],
            row["source"] or "",
            row["action"],
            "" if target is None else f"{target['kind']}:{target['id'] or ''}",
            _tenant(row.get("tenant")),
            row["outcome"] if row["code"] is None else f"{row['outcome']} {row['code']}",
            render.compact(row["details"]) if row["details"] else "",
        )
    obj.out.print(table)
    if answer["next_cursor"]:
        obj.out.print(f"more: legato audit list --cursor {answer['next_cursor']}", markup=False)


@audit.command("export")
@_filters
@click.pass_obj
def audit_export(obj: CliContext, /, database: str | None, **filters: Any) -> None:
    """Every matching row, oldest first, as JSON lines on standard output."""
    params = _params(**filters)
    out = sys.stdout.buffer
    if database:
        where = _where(params)
        with _audit_log(obj, database) as log:
            for record in log.export(where):
                out.write(orjson.dumps(record.public()) + b"\n")
    else:
        for chunk in obj.client.stream("GET", "/audit/export", params=params):
            out.write(chunk)
    out.flush()


@audit.command("verify")
@click.option("--database", metavar="URL", help=DATABASE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def audit_verify(obj: CliContext, database: str | None, as_json: bool) -> None:
    """Check the whole chain; exit status 1 naming the first changed, missing or reordered row."""
    if database:
        with _audit_log(obj, database) as log:
            result = log.verify().public()
    else:
        result = obj.client.call("GET", "/audit/verify")
    if as_json:
        render.print_json(result)
    broken = result["broken"]
    if broken is not None:
        raise Failure("AUDIT_CHAIN_BROKEN", f"row {broken['seq']} {broken['reason']}: {broken['detail']}")
    if not as_json:
        head = result["head"]
        obj.out.print(
            f"the audit log holds: {result['rows']} rows, head row {head['seq']} {head['hash']} "
            f"(key: {result['key_source']})",
            markup=False,
        )


@contextmanager
def _audit_log(obj: CliContext, database: str) -> Iterator[Any]:
    from sqlalchemy.engine import make_url

    from legato.cli.demo import hide_password
    from legato.errors import LegatoError
    from legato.store import Store
    from legato.store.database import normalize_url

    settings = obj.override(database=database)
    url = make_url(normalize_url(settings.database))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise Failure("DATABASE_UNAVAILABLE", f"there is no database file {url.database}")
    try:
        store = Store(settings.database, run_migrations=False, audit_keys=settings.audit_keys)
        store.audit.count()  # the table exists: this is a Legato database of this version or later
    except LegatoError:
        raise
    except Exception as exc:
        raise Failure(
            "DATABASE_UNAVAILABLE", f"cannot read the audit log in {hide_password(settings.database)}: {exc}"
        ) from None
    try:
        yield store.audit
    except LegatoError as exc:
        raise Failure(exc.code, exc.message) from None
    finally:
        store.close()


def _where(params: dict[str, str]) -> Any:
    from legato.store.audit import AuditFilter

    return AuditFilter(
        actor=params.get("actor"),
        action=params.get("action"),
        target_kind=params.get("target_kind"),
        target_id=params.get("target_id"),
        outcome=params.get("outcome"),
        since=_epoch(params.get("since"), "--since"),
        until=_epoch(params.get("until"), "--until"),
        tenant=params.get("tenant"),
    )


def _tenant(value: str | None) -> str:
    """The tenant column: a tenant, `(shared)` for the shared tenant's work, blank for no tenant's."""
    if value is None:
        return ""
    return value or "(shared)"


def _epoch(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        message = f"{option} must be an ISO 8601 date or time, not {value!r}"
        raise Failure("INVALID_INPUT", message, exit_code=2) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
