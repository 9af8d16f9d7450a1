"""The history an instance leaves: gap-free, complete about variables, who and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def order() -> ProcessDefinition:
    p = Process("order")
    fork = p.start("start").then(p.service("reserve", "reserve")).then(p.parallel("fork"))
    join = p.parallel("join")
    fork.then(p.user("approve")).then(join)
    fork.then(p.catch_timer("cool_off", duration="PT1H")).then(join)
    join.then(p.script("total", "total = price * 2")).then(p.end("end"))
    return p.build()


def test_history_seq_has_no_gaps_across_a_whole_instance(start: Start) -> None:
    h = start(order(), variables={"price": 5})
    h.complete_job("reserve", {"reservation": "r-1"})
    h.advance(timedelta(hours=2))
    h.complete_task("approve", {"ok": True}, actor="bob")
    assert h.status == "completed"
    seqs = [r.seq for r in h.history()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert h.state.history == len(seqs)
    assert h.trail() == [
        ("instance_started", None),
        ("element_passed", "start"),
        ("element_entered", "reserve"),
        ("element_completed", "reserve"),
        ("element_passed", "fork"),
        ("element_entered", "approve"),
        ("element_entered", "cool_off"),
        ("element_completed", "cool_off"),
        ("element_completed", "approve"),
        ("element_passed", "join"),
        ("element_passed", "total"),
        ("element_passed", "end"),
        ("instance_completed", None),
    ]


def test_history_records_the_variables_each_step_changed(start: Start) -> None:
    h = start(order(), variables={"price": 5})
    [started] = h.history("instance_started")
    assert started.data == {"variables": {"price": 5}, "start_event": "start"}
    h.complete_job("reserve", {"price": 5, "reservation": "r-1"})  # price is unchanged
    assert h.history("element_completed")[-1].data == {"variables": {"reservation": "r-1"}}
    h.fire_timer("cool_off")
    h.complete_task("approve", {"reservation": "r-1"})  # nothing changes
    assert h.history("element_completed")[-1].data is None
    assert h.history("element_passed")[-2].data == {"variables": {"total": 10}}


def test_history_entries_carry_the_time_and_the_actor_of_their_step(start: Start) -> None:
    h = start(order(), variables={"price": 5}, actor="api")
    started_at = h.now
    assert {r.actor for r in h.history()} == {"api"}
    assert {r.at for r in h.history()} == {started_at}
    h.advance(timedelta(minutes=5))
    h.complete_job("reserve", actor="worker-1")
    step = [r for r in h.history() if r.actor == "worker-1"]
    assert [r.type for r in step] == [
        "element_completed",
        "element_passed",
        "element_entered",
        "element_entered",
    ]
    assert {r.at for r in step} == {started_at + timedelta(minutes=5)}
