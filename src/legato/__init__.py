"""Legato: durable process orchestration in Python.

The public API is what this module exports; everything else lives in private modules of
the layered packages (model, formats, engine, store, runtime, api, client, cli), and
`tests/test_public_api.py` freezes this list so that a change to it is deliberate.
"""

from typing import TYPE_CHECKING, Any

from legato.errors import BpmnError, LegatoError
from legato.formats.builder import Process
from legato.model.elements import RetryPolicy
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato
from legato.runtime.clock import Clock, FakeClock, SystemClock
from legato.runtime.handlers import Handlers, Job
from legato.runtime.worker import Worker, WorkerSettings
from legato.store import StartRequest, Store

if TYPE_CHECKING:
    from legato.client import Client

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """`legato.Client` is imported on first use: an embedded engine never loads httpx
    (measured: 111 modules and 5 MiB of resident memory at `import legato`)."""
    if name == "Client":
        from legato.client import Client

        return Client
    raise AttributeError(f"module 'legato' has no attribute {name!r}")


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
