"""Parallel gateways: fork onto every flow, join one token from each incoming flow."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from legato.engine.state import JOINING
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def fork_join(branches: int) -> ProcessDefinition:
    p = Process(f"fork_join_{branches}")
    fork = p.start("start").then(p.parallel("fork"))
    join = p.parallel("join")
    for index in range(branches):
        fork.then(p.service(f"branch_{index}", f"do.{index}")).then(join)
    join.then(p.service("after", "after")).then(p.end("end"))
    return p.build()


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_join_waits_for_both_branches(start: Start, order: tuple[int, int]) -> None:
    h = start(fork_join(2))
    assert h.waiting_at() == ["branch_0", "branch_1"]
    first, second = order
    h.complete_job(f"branch_{first}", {f"r{first}": first})
    assert h.waiting_at() == [f"branch_{second}"]
    joining = [t for t in h.state.tokens.values() if t.state == JOINING]
    assert [t.element for t in joining] == ["join"]
    assert all(r.element != "join" for r in h.history("element_passed"))
    h.complete_job(f"branch_{second}", {f"r{second}": second})
    assert h.waiting_at() == ["after"]
    assert len(h.state.tokens) == 1
    assert [r.element for r in h.history("element_passed")].count("join") == 1
    assert h.job("after").payload == {"r0": 0, "r1": 1}
    h.complete_job("after")
    assert h.status == "completed"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_join_of_three_branches_waits_for_all_three(start: Start, order: tuple[int, int, int]) -> None:
    h = start(fork_join(3))
    assert h.waiting_at() == ["branch_0", "branch_1", "branch_2"]
    for done, index in enumerate(order, start=1):
        assert "after" not in h.waiting_at()
        h.complete_job(f"branch_{index}")
        joining = [t for t in h.state.tokens.values() if t.state == JOINING]
        assert len(joining) == (done if done < 3 else 0)
    assert h.waiting_at() == ["after"]
    h.complete_job("after")
    assert h.status == "completed"
    assert h.state.tokens == {}


def test_fork_without_join_completes_when_the_last_branch_ends(start: Start) -> None:
    p = Process("fork_only")
    fork = p.start("start").then(p.parallel("fork"))
    fork.then(p.service("a", "a")).then(p.end("end_a"))
    fork.then(p.service("b", "b")).then(p.end("end_b"))
    fork.then(p.end("end_now"))
    h = start(p.build())
    assert h.waiting_at() == ["a", "b"]
    h.complete_job("b")
    assert h.status == "active"
    h.complete_job("a")
    assert h.status == "completed"


def test_branches_that_need_no_wait_pass_the_join_in_the_same_step(start: Start) -> None:
    p = Process("instant_branches")
    fork = p.start("start").then(p.parallel("fork"))
    join = p.parallel("join")
    fork.then(p.script("left", "l = 1")).then(join)
    fork.then(p.script("right", "r = 2")).then(join)
    join.then(p.service("after", "after")).then(p.end("end"))
    h = start(p.build())
    assert h.waiting_at() == ["after"]
    assert h.variables == {"l": 1, "r": 2}
    assert len(h.state.tokens) == 1


def test_a_second_token_on_the_same_flow_waits_for_the_next_join(start: Start) -> None:
    """A join takes one token per incoming flow (BPMN 2.0, 10.6.4); extras wait."""
    p = Process("double_arrival")
    fork = p.start("start").then(p.parallel("fork"))
    join = p.parallel("join")
    a = fork.then(p.service("a", "a"))
    a.then(join)
    a.then(join)  # a second flow from `a` into the join
    fork.then(p.service("b", "b")).then(join)
    join.then(p.service("after", "after")).then(p.end("end"))
    h = start(p.build())
    h.complete_job("a")  # one token on each of a's two flows
    assert h.waiting_at() == ["b"]
    h.complete_job("b")
    assert h.waiting_at() == ["after"]
    h.complete_job("after")
    assert h.status == "completed"
