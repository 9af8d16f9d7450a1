"""`--handlers SPEC`: where a server or worker finds the task handlers to run.

SPEC is `module` or `module:attribute`, imported from the current directory or the
Python path (as uvicorn and gunicorn import apps). The attribute may be:

- a function taking the `Legato` app, called once: `def register(legato): ...`;
- a `Handlers` registry (`handlers = Handlers()` with `@handlers("credit.check")`);
- a `Legato` app whose handlers were registered with `@app.handler(...)`.

Without `:attribute`, the module's `register`, `handlers`, `legato` or `app` is used,
the first that exists. So `legato worker --handlers legato.examples.handlers` runs the
demo's handlers, and `--handlers myapp.tasks:register` runs yours.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Protocol

import click

from legato.runtime.app import Legato
from legato.runtime.handlers import Handlers

DEFAULT_ATTRIBUTES = ("register", "handlers", "legato", "app")


class HandlerHost(Protocol):
    """What a `register(legato)` function uses of a `Legato`: a server's or an agent's handlers."""

    handlers: Handlers

    def register(self, task_type: str, function: Any, *, timeout: float | None = None) -> None: ...

    def handler(self, task_type: str, *, timeout: float | None = None) -> Any: ...


class AgentHandlers:
    """The `HandlerHost` of `legato agent`, which has handlers but no `Legato` (no database)."""

    def __init__(self) -> None:
        self.handlers = Handlers()

    def register(self, task_type: str, function: Any, *, timeout: float | None = None) -> None:
        self.handlers.register(task_type, function, timeout=timeout)

    def handler(self, task_type: str, *, timeout: float | None = None) -> Any:
        return self.handlers(task_type, timeout=timeout)


def load_handlers(spec: str, legato: HandlerHost) -> list[str]:
    """Add the handlers SPEC names to `legato` (or an agent's host); return the task types they cover."""
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise _bad(spec, "expected module or module:attribute")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _bad(spec, f"cannot import {module_name!r}: {exc}") from None
    if attribute:
        if not hasattr(module, attribute):
            raise _bad(spec, f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(module, attribute)
    else:
        found = next((name for name in DEFAULT_ATTRIBUTES if hasattr(module, name)), None)
        if found is None:
            raise _bad(spec, f"module {module_name!r} has none of {', '.join(DEFAULT_ATTRIBUTES)}")
        target = getattr(module, found)
    before = set(legato.handlers.types())
    if isinstance(target, Legato):
        _copy(target.handlers, legato)
    elif isinstance(target, Handlers):
        _copy(target, legato)
    elif callable(target):
        target(legato)
    else:
        raise _bad(spec, f"{type(target).__name__} is not a register function, Handlers or Legato")
    return sorted(set(legato.handlers.types()) - before) or legato.handlers.types()


def _copy(source: Handlers, legato: HandlerHost) -> None:
    for task_type in source.types():
        handler = source.get(task_type)
        assert handler is not None
        legato.register(task_type, handler.function, timeout=handler.timeout)


def _bad(spec: str, reason: str) -> click.BadParameter:
    return click.BadParameter(f"{spec!r}: {reason}", param_hint="--handlers")
