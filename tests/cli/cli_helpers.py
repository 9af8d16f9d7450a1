"""What the CLI tests share: a model with every kind of wait, its handlers, a runner.

Commands run through click's `CliRunner` against the real API in the same process: the
`CliContext` gets a `TestClient` (an httpx client bound to the app) instead of a URL.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from click.testing import Result

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


__all__ = ["INVALID_YAML", "ORDER_YAML", "Run", "TestClient"]
