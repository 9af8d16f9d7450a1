"""A Legato server in a subprocess for the agent tests; stopped (SIGTERM) afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_helpers import Site, start_site, stop


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    started = start_site(tmp_path)
    try:
        yield started
    finally:
        stop(started.server)
