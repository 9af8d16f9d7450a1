"""`legato kpis KEY --since 7d`: the figures as a table, JSON, and a window refused naming it."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import Run

from legato.runtime.app import Legato


def test_kpis_print_the_figures_of_completed_and_cancelled_instances(run: Run, deployed: Path, legato: Legato) -> None:
    started = legato.start("order", {"amount": 5, "order_id": "A-1"})
    legato.cancel(started.instance_id)
    result = run("kpis", "order", "--since", "24h")
    assert result.exit_code == 0, result.output
    assert "order version 1, the last 24h" in result.output
    assert "ended otherwise" in result.output and "error rate" in result.output
    assert "100.0 %" in result.output  # the one instance that ended did not complete
    figures = json.loads(run("kpis", "order", "--json").output)
    assert (figures["started"], figures["completed"], figures["ended_otherwise"]) == (1, 0, 1)


def test_a_window_that_does_not_parse_is_refused(run: Run, deployed: Path) -> None:
    result = run("kpis", "order", "--since", "a week")
    assert result.exit_code == 1
    assert "INVALID_FILTER" in result.output and "since" in result.output
