"""Legato: durable process orchestration in Python.

The public API is what this module exports; everything else lives in private modules of
the layered packages (model, formats, engine, store, runtime, api, client, cli), and
`tests/test_public_api.py` freezes this list so that a change to it is deliberate.
"""

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
