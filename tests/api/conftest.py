"""The API under test: a real `Legato` on a temporary SQLite file, its app in-process.

`client` runs the app's lifespan, so the in-process worker runs as it does under
`legato server`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, ORDER_YAML, TestClient

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import Switch, install_handlers


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def legato(tmp_path: Any, switch: Switch) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "api.db"))
    install_handlers(app, switch)
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as test_client:
        yield test_client


@pytest.fixture
def deployed(client: TestClient) -> dict[str, Any]:
    response = client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
    assert response.status_code == 201, response.text
    return dict(response.json())
