"""The demo `legato server` sets up on a fresh database, and the banner it prints.

The demo is on by default while the database is a demo database: empty, or holding
nothing but the demo's processes. So the first `legato server` shows a working process
at once, a restart keeps the demo's handlers running for the instances already started,
and a database with processes of your own never gets the demo unasked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import PackageNotFoundError, version

from rich.console import Group
from rich.text import Text

from legato.api import web
from legato.errors import LegatoError
from legato.examples import handlers as demo_handlers
from legato.runtime.app import Legato
from legato.settings import Settings

DEMO_PROCESS = "order_to_cash"
DEMO_FILE = "order_to_cash.yaml"
NOT_BUILT = "the app is not built: run `python web/build.py` (needs Node.js and npm)"


@dataclass(frozen=True, kw_only=True, slots=True)
class Demo:
    deployed: str | None  # "order_to_cash v1", or None when the model could not deploy
    problem: str | None = None


def is_demo_database(legato: Legato) -> bool:
    keys = {definition.key for definition in legato.store.definitions.list()}
    return keys <= {DEMO_PROCESS}


def set_up(legato: Legato) -> Demo:
    """Register the demo handlers and deploy the demo model (a no-op when unchanged)."""
    demo_handlers.register(legato)
    try:
        source = resources.files("legato.examples").joinpath(DEMO_FILE).read_text(encoding="utf-8")
        deployment = legato.deploy(source, source_format="yaml")
    except (LegatoError, ImportError, OSError) as exc:
        return Demo(deployed=None, problem=f"{type(exc).__name__}: {exc}")
    stored = deployment.definition
    return Demo(deployed=f"{stored.key} v{stored.version}")


def keep_handlers(legato: Legato) -> Demo | None:
    """Register the demo's handlers when the demo process is deployed, whatever else is:
    its instances need them, also after your own models joined it (without them a restart
    left every demo order waiting at its first service task, with "handlers: none")."""
    stored = [d for d in legato.store.definitions.list() if d.key == DEMO_PROCESS]
    if not stored:
        return None
    demo_handlers.register(legato)
    latest = max(stored, key=lambda d: d.version)
    return Demo(deployed=f"{latest.key} v{latest.version}")


def banner(settings: Settings, demo: Demo | None, handler_types: list[str]) -> Group:
    url = public_url(settings.host, settings.port)
    lines = [
        Text(f"Legato {_version()} is serving {url}", style="bold"),
        Text(f"  browser    {url}/" if web.is_built() else f"  browser    {NOT_BUILT}"),
        Text(f"  API docs   {url}/docs"),
        Text(f"  database   {hide_password(settings.database)}"),
        Text(f"  worker     in-process; handlers: {', '.join(handler_types) or 'none (timers only)'}"),
    ]
    if demo is not None:
        note = f"{demo.deployed} deployed, demo handlers registered" if demo.deployed else "not deployed"
        lines.append(Text(f"  demo       {note}"))
    lines.append(Text(""))
    lines.append(Text("Try:", style="bold"))
    if url != settings.url:
        lines.append(Text(f"  export LEGATO_URL={url}     # for the legato client commands"))
    if demo is not None and demo.deployed:
        body = '{"variables": {"order_id": "A-1", "amount": 120}}'
        lines += [
            Text(f"  legato start {DEMO_PROCESS} --var order_id=A-1 --var amount=120      # waits for the carrier"),
            Text("  legato send order.delivered --key A-1                               # the parcel arrived"),
            Text(f"  legato start {DEMO_PROCESS} --var order_id=A-2 --var amount=12000    # over 10,000: approval"),
            Text("  legato tasks                                                        # then: legato complete"),
            Text(f"  legato start {DEMO_PROCESS} --var order_id=A-3 --var amount='\"lots\"'  # not a number"),
            Text("  legato incidents                                                    # after 5 failed tries"),
            Text("  legato retry INCIDENT_ID --var amount=300                           # fix the data, run again"),
            Text("  legato instances"),
            Text("  legato show INSTANCE_ID"),
            Text(f"  curl -X POST {url}/api/v1/definitions/{DEMO_PROCESS}/instances \\"),
            Text(f"       -H 'Content-Type: application/json' -d '{body}'"),
        ]
    else:
        lines += [
            Text("  legato deploy my_process.yaml"),
            Text("  legato start my_process --var amount=120"),
            Text(f"  curl {url}/api/v1/definitions"),
        ]
    lines.append(Text(""))
    lines.append(Text("Stop with Ctrl+C or SIGTERM: running jobs finish first."))
    return Group(*lines)


def public_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def hide_password(database: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", database)


def _version() -> str:
    try:
        return version("legato")
    except PackageNotFoundError:
        return "0.0.0"
