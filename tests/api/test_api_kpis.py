"""GET /api/v1/definitions/{key}/kpis against a history written by hand with the fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem

from legato.api import create_app
from legato.formats.builder import Process
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.testing.identity import admin_token


def claim_process() -> Any:
    """A claim is paid automatically, unless it is manual: then a person reviews it first."""
    p = Process("claim")
    done = p.end("done")
    route = p.start("received").then(p.exclusive("route"))
    route.then(p.user("review"), when="manual").then(done)
    route.otherwise(p.catch_message("paid", "claim.paid", correlation_key="key")).then(done)
    return p.build()


@pytest.fixture
def world(tmp_path: Any) -> Iterator[tuple[Legato, FakeClock, TestClient]]:
    clock = FakeClock()
    legato = Legato(str(tmp_path / "kpis.db"), clock=clock)
    legato.deploy(claim_process())
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers) as client:
        yield legato, clock, client
    legato.close()


def test_the_key_figures_are_those_of_the_history(world: tuple[Legato, FakeClock, TestClient]) -> None:
    legato, clock, client = world
    a = legato.start("claim", {"manual": False, "key": "a"})  # t = 0: two automatic claims, one manual
    legato.start("claim", {"manual": False, "key": "b"})
    c = legato.start("claim", {"manual": True, "key": "c"})
    clock.advance(60)
    legato.send_message("claim.paid", correlation_key="a")  # a: 60 s, no person
    clock.advance(120)
    legato.complete_task(legato.task_for(c.instance_id)["id"], {})  # c: 180 s, a person
    clock.advance(120)
    legato.send_message("claim.paid", correlation_key="b")  # b: 300 s, no person
    d = legato.start("claim", {"manual": False, "key": "d"})  # t = 300
    clock.advance(100)
    legato.cancel(d.instance_id)  # d: cancelled at t = 400
    assert legato.instance(a.instance_id)["status"] == "completed"

    response = client.get(f"{API}/definitions/claim/kpis", params={"since": "7d"})
    assert response.status_code == 200, response.text
    kpis = response.json()
    assert (kpis["process"], kpis["version"]) == ("claim", 1)
    assert (kpis["started"], kpis["completed"], kpis["ended_otherwise"]) == (4, 3, 1)
    assert kpis["cycle_time_seconds"] == {"p50": 180.0, "p90": 300.0, "p99": 300.0}  # nearest rank of 60, 180, 300
    assert kpis["throughput_per_day"] == round(3 / 7, 3)
    assert kpis["error_rate"] == 0.25  # d of the four that ended
    assert kpis["automation_rate"] == round(2 / 3, 4)  # a and b of the three completed
    review = next(e for e in kpis["per_element"] if e["element"] == "review")
    assert (review["passes"], review["p50_seconds"]) == (1, 180.0)

    # the last minute: only d's cancellation ended in it
    recent = client.get(f"{API}/definitions/claim/kpis", params={"since": "1m"}).json()
    assert (recent["completed"], recent["ended_otherwise"], recent["error_rate"]) == (0, 1, 1.0)
    assert recent["cycle_time_seconds"] == {"p50": None, "p90": None, "p99": None}
    assert recent["automation_rate"] is None


@pytest.mark.parametrize("since", ["7x", "seven days", "0d", "-1d", "99999w"])
def test_a_window_that_does_not_parse_is_refused_naming_it(
    world: tuple[Legato, FakeClock, TestClient], since: str
) -> None:
    _legato, _clock, client = world
    problem = assert_problem(
        client.get(f"{API}/definitions/claim/kpis", params={"since": since}), 400, "INVALID_FILTER"
    )
    assert problem["field"] == "since"


def test_an_unknown_process_is_404(world: tuple[Legato, FakeClock, TestClient]) -> None:
    _legato, _clock, client = world
    assert_problem(client.get(f"{API}/definitions/nope/kpis"), 404, "DEFINITION_NOT_FOUND")
