"""Every conformance scenario on the pure engine runs twice: straight through, and saving
and reloading the state at each wait state (STYLE.md, habit 6), as tests/engine does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conformance_helpers import Start

from legato import Legato, Store
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness


@pytest.fixture(params=[False, True], ids=["straight", "reload"])
def reload(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def start(reload: bool) -> Start:
    """Start an instance of a definition in the harness, in this run's mode."""

    def _start(definition: ProcessDefinition, **options: Any) -> EngineHarness:
        return EngineHarness(definition, reload=reload, **options)

    return _start


@pytest.fixture
def app() -> Iterator[Legato]:
    legato = Legato(Store.memory())
    yield legato
    legato.close()
