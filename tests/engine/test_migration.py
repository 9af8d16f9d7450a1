"""Migrating an instance to another version of its process (Camunda 7's migration plans)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from legato.engine import effects as fx
from legato.engine.migrate import generated_mapping, plan_migration
from legato.errors import MigrationInvalid
from legato.formats.builder import Process, RetryPolicy
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def order_v1() -> ProcessDefinition:
    """check -> approve (a reminder timer on it) -> charge -> end."""
    p = Process("order")
    approve = p.start("received").then(p.service("check", "credit.check")).then(p.user("approve"))
    approve.on_timer(duration="P1D", id="remind").then(p.end("expired"))
    approve.then(p.service("charge", "card.charge", retry=RetryPolicy(max_attempts=1))).then(p.end("done"))
    return p.build()


def order_v2() -> ProcessDefinition:
    """The fix: approve can be withdrawn by message (no reminder any more), the charge is a
    new task with another handler, and a notification follows."""
    p = Process("order")
    approve = p.start("received").then(p.service("check", "credit.check")).then(p.user("approve"))
    approve.on_message("order.withdrawn", id="withdrawn", correlation_key="order_id").then(p.end("withdrawn_end"))
    approve.then(p.service("charge_card", "payments.charge")).then(p.service("notify", "mail.send")).then(p.end("done"))
    return p.build()


def nested(pack_id: str) -> ProcessDefinition:
    p = Process("nested")
    sub = p.start("start").then(p.subprocess("fulfil"))
    sub.start("fulfil_start").then(sub.service("pick", "pick")).then(sub.service(pack_id, "pack")).then(
        sub.end("fulfil_end")
    )
    sub.then(p.service("invoice", "invoice")).then(p.end("end"))
    return p.build()


def flat_pick() -> ProcessDefinition:
    p = Process("nested")
    p.start("start").then(p.service("pick_all", "pick")).then(p.end("end"))
    return p.build()


def branches(second: str) -> ProcessDefinition:
    p = Process("branches")
    fork = p.start("start").then(p.parallel("fork"))
    join = p.parallel("join")
    fork.then(p.service("a", "a")).then(join)
    fork.then(p.service(second, "b")).then(join)
    join.then(p.end("end"))
    return p.build()


def test_a_waiting_user_task_moves_with_its_row_and_the_boundary_events_follow_the_new_version(start: Start) -> None:
    h = start(order_v1(), variables={"order_id": "O-1"})
    h.complete_job("check")
    task = h.task("approve")
    timer = h.timer("remind")
    h.migrate(order_v2(), actor="ann")
    assert h.task("approve").wait == task.wait  # the same task: its row, assignee and comments stay
    assert fx.CancelJob(wait=timer.wait) in h.effects  # the reminder the new version dropped
    withdrawn = h.subscription("withdrawn")
    assert withdrawn.message == "order.withdrawn" and withdrawn.correlation_key == "O-1"
    [migrated] = h.history("instance_migrated")
    assert migrated.actor == "ann"
    assert migrated.data is not None
    assert migrated.data["from_version"] == 1 and migrated.data["to_version"] == 2
    assert migrated.data["mapping"] == {"approve": "approve"}
    assert migrated.data["removed"] == ["remind"] and migrated.data["added"] == ["withdrawn"]
    h.complete_task("approve")
    assert h.job("charge_card").task_type == "payments.charge"
    h.complete_job("charge_card")
    h.complete_job("notify")
    assert h.status == "completed"


def test_a_job_mapped_to_a_renamed_task_keeps_its_id_and_takes_the_new_task_type(start: Start) -> None:
    h = start(order_v1(), variables={"order_id": "O-1"})
    h.complete_job("check")
    h.complete_task("approve")
    job = h.job("charge")
    h.migrate(order_v2(), {"charge": "charge_card"})
    assert fx.MoveWait(wait=job.wait, element="charge_card", task_type="payments.charge") in h.effects
    assert h.job("charge_card").wait == job.wait
    h.complete_job("charge_card")
    assert h.waiting_at() == ["notify"]


def test_an_incident_moves_with_its_job_and_its_retry_runs_the_new_element(start: Start) -> None:
    h = start(order_v1(), variables={"order_id": "O-1"})
    h.complete_job("check")
    h.complete_task("approve")
    h.fail_job("charge", error_type="GatewayDown", message="gateway down")
    h.migrate(order_v2(), {"charge": "charge_card"})
    assert h.incident("charge_card").error_type == "GatewayDown"
    h.retry_incident("charge_card")
    h.complete_job("charge_card")
    assert h.waiting_at() == ["notify"]


def test_a_token_at_an_element_the_plan_does_not_map_fails_the_migration_naming_it(start: Start) -> None:
    h = start(order_v1(), variables={"order_id": "O-1"})
    h.complete_job("check")
    h.complete_task("approve")
    before = h.state.to_dict()
    with pytest.raises(MigrationInvalid) as refused:
        h.migrate(order_v2())  # charge is gone in version 2 and nothing maps it
    assert refused.value.code == "MIGRATION_INVALID" and refused.value.status == 422
    assert refused.value.problems == [
        {"element": "charge", "reason": "a token is at this element, which the plan does not map"}
    ]
    assert h.state.to_dict() == before and h.waiting_at() == ["charge"]


def test_the_generated_mapping_takes_the_ids_both_versions_share_with_the_same_kind() -> None:
    mapping = generated_mapping(order_v1(), order_v2())
    assert mapping == {"received": "received", "check": "check", "approve": "approve", "done": "done"}


def test_a_plan_that_maps_an_element_to_another_kind_is_refused_before_any_instance() -> None:
    with pytest.raises(MigrationInvalid) as refused:
        plan_migration(order_v1(), order_v2(), {"approve": "charge_card", "charge": "nowhere"})
    problems = refused.value.problems
    assert problems[0]["element"] == "approve"
    assert problems[0]["reason"] == "is a UserTask but is mapped to 'charge_card', a ServiceTask"
    assert problems[1] == {
        "element": "charge",
        "reason": "is mapped to 'nowhere', which the target version does not have",
    }


def test_an_unknown_source_element_is_named() -> None:
    with pytest.raises(MigrationInvalid) as refused:
        plan_migration(order_v1(), order_v2(), {"chrage": "charge_card"})
    assert refused.value.problems == [{"element": "chrage", "reason": "the source version has no element 'chrage'"}]


def test_an_element_moved_out_of_its_subprocess_is_a_scope_mismatch() -> None:
    with pytest.raises(MigrationInvalid) as refused:
        plan_migration(nested("pack"), flat_pick(), {"pick": "pick_all"})
    [problem] = refused.value.problems
    assert problem["element"] == "pick"
    assert "inside subprocess 'fulfil', which the plan does not map" in problem["reason"]


def test_a_token_inside_a_running_subprocess_moves_with_its_scope(start: Start) -> None:
    h = start(nested("pack"))
    h.complete_job("pick")
    h.migrate(nested("pack_box"), {"pack": "pack_box"})
    h.complete_job("pack_box")
    h.complete_job("invoice")
    assert h.status == "completed"


def test_a_token_waiting_at_a_join_keeps_its_flow_and_the_join_completes(start: Start) -> None:
    h = start(branches("b"))
    h.complete_job("a")
    h.migrate(branches("b2"), {"b": "b2"})
    h.complete_job("b2")
    assert h.status == "completed"


def test_a_join_whose_incoming_flow_is_gone_cannot_be_migrated(start: Start) -> None:
    v2 = Process("branches")
    fork = v2.start("start").then(v2.parallel("fork"))
    join = v2.parallel("join")
    fork.then(v2.service("a_new", "a")).then(join)
    fork.then(v2.service("b", "b")).then(join)
    join.then(v2.end("end"))
    h = start(branches("b"))
    h.complete_job("a")
    with pytest.raises(MigrationInvalid) as refused:
        h.migrate(v2.build())
    [problem] = refused.value.problems
    assert problem["element"] == "join" and "arrived by flow" in problem["reason"]
