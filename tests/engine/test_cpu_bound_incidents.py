"""An expression past its CPU-time limit is an incident at its element, not a stalled transaction (#6 item 18)."""

from __future__ import annotations

from collections.abc import Callable

from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]

TEN = "(" + "+".join(["x"] * 10) + ")"
THOUSAND_TERM_SUM = "+".join(["(" + "+".join([TEN] * 10) + ")"] * 10)
ISSUE_CONDITION = f"= count(for x in 1..rounds return {THOUSAND_TERM_SUM}) > 0"
"""The issue's condition: with 15,000 rounds it ran for 8 s inside the write transaction."""


def routing() -> ProcessDefinition:
    p = Process("heavy_routing")
    gateway = p.start("start").then(p.exclusive("route"))
    gateway.then(p.service("heavy", "route.heavy"), when=ISSUE_CONDITION).then(p.end("end_heavy"))
    gateway.otherwise(p.service("light", "route.light")).then(p.end("end_light"))
    return p.build()


def test_a_condition_past_the_cpu_limit_raises_an_incident_at_its_gateway(start: Start) -> None:
    h = start(routing(), variables={"rounds": 15_000})
    incident = h.incident("route")
    assert incident.error_type == "ExpressionError"
    assert "ms of CPU time" in incident.message and "LEGATO_EXPRESSION_CPU_LIMIT" in incident.message
    assert h.status == "active"


def test_after_a_fix_of_the_data_the_retry_goes_through(start: Start) -> None:
    h = start(routing(), variables={"rounds": 15_000})
    h.incident("route")
    h.set_variables({"rounds": 2})
    h.retry_incident("route")
    assert h.incidents == []
    assert h.waiting_at() == ["heavy"]
