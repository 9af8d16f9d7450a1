"""Embedded subprocesses (BPMN 2.0, 10.3.5): a scope that completes when its last token ends."""

from __future__ import annotations

from collections.abc import Callable

from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def shipping() -> ProcessDefinition:
    p = Process("shipping")
    sub = p.start("start").then(p.subprocess("ship", outputs={"shipped": "parcel != None"}))
    sub.start("ship_start").then(sub.service("pack", "pack")).then(sub.service("send", "send")).then(
        sub.end("ship_end")
    )
    sub.then(p.service("invoice", "invoice")).then(p.end("end"))
    return p.build()


def test_subprocess_completion_continues_the_parent(start: Start) -> None:
    h = start(shipping())
    assert h.waiting_at() == ["pack"]
    assert len(h.state.scopes) == 1
    h.complete_job("pack", {"parcel": "p-1"})
    assert h.waiting_at() == ["send"]
    h.complete_job("send")
    assert h.waiting_at() == ["invoice"]
    assert h.state.scopes == {}
    assert h.variables == {"parcel": "p-1", "shipped": True}
    trail = h.trail()
    assert trail.index(("element_passed", "ship_end")) < trail.index(("element_completed", "ship"))
    h.complete_job("invoice")
    assert h.status == "completed"


def nested() -> ProcessDefinition:
    p = Process("nested")
    outer = p.start("start").then(p.subprocess("outer"))
    inner = outer.start("outer_start").then(outer.subprocess("inner"))
    inner.start("inner_start").then(inner.service("deep", "deep")).then(inner.end("inner_end"))
    inner.then(outer.service("middle", "middle")).then(outer.end("outer_end"))
    outer.then(p.service("top", "top")).then(p.end("end"))
    return p.build()


def test_nested_subprocesses_complete_inside_out(start: Start) -> None:
    h = start(nested())
    assert h.waiting_at() == ["deep"]
    assert len(h.state.scopes) == 2
    h.complete_job("deep")
    assert h.waiting_at() == ["middle"]
    assert len(h.state.scopes) == 1
    h.complete_job("middle")
    assert h.waiting_at() == ["top"]
    assert h.state.scopes == {}
    completed = [r.element for r in h.history("element_completed")]
    assert completed == ["deep", "inner", "middle", "outer"]
    h.complete_job("top")
    assert h.status == "completed"


def test_subprocess_waits_for_every_inner_branch(start: Start) -> None:
    p = Process("parallel_inside")
    sub = p.start("start").then(p.subprocess("work"))
    fork = sub.start("work_start").then(sub.parallel("fork"))
    fork.then(sub.service("left", "left")).then(sub.end("left_end"))
    fork.then(sub.service("right", "right")).then(sub.end("right_end"))
    sub.then(p.end("end"))
    h = start(p.build())
    h.complete_job("left")
    assert h.status == "active"
    assert h.waiting_at() == ["right"]
    h.complete_job("right")
    assert h.status == "completed"


def test_subprocess_entered_twice_in_a_loop_gets_a_fresh_scope(start: Start) -> None:
    p = Process("loop_sub")
    sub = p.start("start").then(p.subprocess("round"))
    sub.start("round_start").then(sub.service("step", "step")).then(sub.end("round_end"))
    again = sub.then(p.exclusive("again"))
    again.then(sub, when="n < 2")
    again.otherwise(p.end("end"))
    h = start(p.build())
    first_scope = set(h.state.scopes)
    h.complete_job("step", {"n": 1})
    assert h.waiting_at() == ["step"]
    assert set(h.state.scopes).isdisjoint(first_scope)
    h.complete_job("step", {"n": 2})
    assert h.status == "completed"
