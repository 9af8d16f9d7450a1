"""What the CLI tests share: a model with every kind of wait, its handlers, a runner.

Commands run through click's `CliRunner` against the real API in the same process: the
`CliContext` gets a `TestClient` (an httpx client bound to the app) instead of a URL.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from click.testing import Result

from legato.errors import BpmnError
from legato.runtime.app import Legato

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Run = Callable[..., Result]  # the `run` fixture: run("start", "order", "--var", "amount=5")

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

INVALID_YAML = """\
process: broken
steps:
  - start: a
  - user: b
    next: nowhere
  - end: c
"""


class Switch:
    """`ship` fails while `failing` is set."""

    def __init__(self) -> None:
        self.failing = False


def install_handlers(legato: Legato, switch: Switch) -> None:
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


__all__ = ["INVALID_YAML", "ORDER_YAML", "Run", "Switch", "TestClient", "eventually", "install_handlers"]
