"""A Legato on a temporary SQLite file, its API in-process, and `run` to invoke the CLI."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ORDER_YAML, Run, TestClient
from click.testing import CliRunner, Result

from legato.api import create_app
from legato.cli import CliContext, cli
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import Switch, install_handlers


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def legato(tmp_path: Path, switch: Switch) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "cli.db"))
    install_handlers(app, switch)
    yield app
    app.close()


@pytest.fixture
def server(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as client:
        yield client


@pytest.fixture
def run(server: TestClient) -> Run:
    """`run("start", "order", "--var", "amount=5")`: the CLI against the in-process server."""

    def invoke(*args: str, env: Mapping[str, str] | None = None, http: Any = server) -> Result:
        context = CliContext(env=dict(env or {}), http=http, width=200)
        return CliRunner().invoke(cli, list(args), obj=context, catch_exceptions=False)

    return invoke


@pytest.fixture
def order_file(tmp_path: Path) -> Path:
    path = tmp_path / "order.yaml"
    path.write_text(ORDER_YAML)
    return path


@pytest.fixture
def deployed(run: Run, order_file: Path) -> Path:
    result = run("deploy", str(order_file))
    assert result.exit_code == 0, result.output
    return order_file
