"""What the CLI tests share: the model (from `support`), a runner, a broken model.

Commands run through click's `CliRunner` against the real API in the same process: the
`CliContext` gets a `TestClient` (an httpx client bound to the app) instead of a URL.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from click.testing import Result

from support import ORDER_YAML

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Run = Callable[..., Result]  # the `run` fixture: run("start", "order", "--var", "amount=5")


INVALID_YAML = """\
process: broken
steps:
  - start: a
  - user: b
    next: nowhere
  - end: c
"""


__all__ = ["INVALID_YAML", "ORDER_YAML", "Run", "TestClient"]
