"""Legato: durable process orchestration in Python.

The public API is what this module exports; everything else lives in private modules of
the layered packages (model, formats, engine, store, runtime, api, client, cli), and
`tests/test_public_api.py` freezes this list so that a change to it is deliberate.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from legato.client import Client
    from legato.errors import BpmnError, LegatoError
    from legato.formats.builder import Process
    from legato.model.elements import RetryPolicy
    from legato.model.process import ProcessDefinition
    from legato.runtime.app import Legato
    from legato.runtime.clock import Clock, FakeClock, SystemClock
    from legato.runtime.handlers import Handlers, Job
    from legato.runtime.worker import Worker, WorkerSettings
    from legato.store import StartRequest, Store

__version__ = "0.1.0"

_HOMES = {
    "BpmnError": "legato.errors",
    "Client": "legato.client",
    "Clock": "legato.runtime.clock",
    "FakeClock": "legato.runtime.clock",
    "Handlers": "legato.runtime.handlers",
    "Job": "legato.runtime.handlers",
    "Legato": "legato.runtime.app",
    "LegatoError": "legato.errors",
    "Process": "legato.formats.builder",
    "ProcessDefinition": "legato.model.process",
    "RetryPolicy": "legato.model.elements",
    "StartRequest": "legato.store",
    "Store": "legato.store",
    "SystemClock": "legato.runtime.clock",
    "Worker": "legato.runtime.worker",
    "WorkerSettings": "legato.runtime.worker",
}


def __getattr__(name: str) -> Any:
    """Each public name is imported on first use, so a script that only drives a remote
    server (`from legato import Client`) loads no engine, store or SQLAlchemy, and an
    embedded engine loads no HTTP client (measured in tests/test_public_api.py)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'legato' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "BpmnError",
    "Client",
    "Clock",
    "FakeClock",
    "Handlers",
    "Job",
    "Legato",
    "LegatoError",
    "Process",
    "ProcessDefinition",
    "RetryPolicy",
    "StartRequest",
    "Store",
    "SystemClock",
    "Worker",
    "WorkerSettings",
    "__version__",
]
