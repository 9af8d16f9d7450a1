"""What several test packages share: polling for the worker, and handlers a test can break.

`tests/` is on the path (pyproject's `pythonpath`), so test modules import this as
`from support import ...`; the test folders have no `__init__.py` and cannot import each
other's helpers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from legato.errors import BpmnError
from legato.runtime.app import Legato

# The small order model of the API and CLI tests: every kind of wait in a few steps.
ORDER_YAML = """\
process: order
name: Order
steps:
  - start: received
  - service: check
    task_type: credit.check
    on_error:
      id: denied
      code: CREDIT_DENIED
      steps:
        - end: rejected
  - user: approve
    name: Approve order
    candidate_groups: [sales]
  - catch_message: delivered
    message: order.delivered
    correlation_key: order_id
  - service: ship
    task_type: ship
    retry:
      max_attempts: 1
  - end: done
"""


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `check` until it returns something truthy: the worker runs in its own thread."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


class Switch:
    """A handler's behaviour that a test flips: `ship` fails while `failing` is set."""

    def __init__(self) -> None:
        self.failing = False


def install_handlers(legato: Legato, switch: Switch) -> None:
    """Handlers for the small order model of the API and CLI tests."""

    def check_credit(job: Any) -> dict[str, Any]:
        if job.variables.get("amount", 0) > 1000:
            raise BpmnError("CREDIT_DENIED")
        return {"credit_ok": True}

    def ship(job: Any) -> dict[str, Any]:
        if switch.failing:
            raise RuntimeError("the carrier is down")
        return {"shipped": True}

    legato.register("credit.check", check_credit)
    legato.register("ship", ship)


def services_required() -> bool:
    return os.environ.get("LEGATO_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip for a missing service or tool, but fail in CI (LEGATO_REQUIRE_SERVICES=1)."""
    if services_required():
        pytest.fail(f"{reason} (LEGATO_REQUIRE_SERVICES=1, so this is a failure, not a skip)")
    pytest.skip(reason)


@contextmanager
def quickly(seconds: float = 30.0) -> Iterator[None]:
    """A guard must refuse before doing the expensive work, which would take minutes or gigabytes.

    This is a hang guard, not a speed assertion: the bound is generous so that a loaded CI
    machine cannot fail it, while an unguarded evaluation would still blow through it.
    """
    started = time.perf_counter()
    yield
    assert time.perf_counter() - started < seconds
