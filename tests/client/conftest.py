"""The client under test against the real API in-process: a `TestClient` is an httpx client.

`legato.Client(http=...)` takes any `httpx.Client`; here it is Starlette's, bound to the app,
so every verb runs through the real routes, permissions and store without a socket.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from legato import Client
from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import Switch, install_handlers

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def legato(tmp_path: Path, switch: Switch) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "client.db"))
    install_handlers(app, switch)
    yield app
    app.close()


@pytest.fixture
def http(legato: Legato) -> Iterator[TestClient]:
    """The app with its lifespan (the in-process worker runs), no credentials of its own."""
    with TestClient(create_app(legato, worker=True)) as test_client:
        yield test_client


@pytest.fixture
def client(http: TestClient, legato: Legato) -> Client:
    """An admin's client, authenticated by an API token as a script would be."""
    return Client(http=http, token=admin_token(legato))
