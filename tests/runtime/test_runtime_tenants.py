"""Tenants in the Python API and the runtime, on SQLite and PostgreSQL.

Call activities and business rule tasks resolve in the caller's tenant first, then in the
shared tenant; a worker kept to some tenants claims only their jobs (and the shared ones);
messages and signals stay in the sender's tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from legato.errors import DefinitionNotFound, IdentityConflict, IdentityNotFound, InvalidInput, MessageNotCorrelated
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.runtime.handlers import Handlers
from legato.runtime.worker import Worker, WorkerSettings
from support import eventually

FAST = WorkerSettings(concurrency=4, lock_seconds=5, poll_interval=0.02, shutdown_grace=2)


def child_yaml(label: str) -> str:
    return f"""\
process: child
steps:
  - start: begin
  - service: work
    task_type: label.{label}
  - end: done
"""


PARENT_YAML = """\
process: parent
steps:
  - start: begin
  - call: run_child
    process: child
  - end: done
"""

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_rate" name="Rates"
    namespace="https://legato.dev/tests">
  <decision id="Decision_rate" name="Rate">
    <decisionTable id="Table_rate">
      <input id="Input_amount" label="Amount">
        <inputExpression id="Expression_amount" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="Output_rate" label="Rate" name="rate" typeRef="string" />
      <rule id="Rule_any">
        <inputEntry id="Entry_any"><text>-</text></inputEntry>
        <outputEntry id="Out_any"><text>"{rate}"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

RATED_YAML = """\
process: rated
steps:
  - start: begin
  - decision: rate
    decision_ref: Decision_rate
    result_variable: rate
    retry:
      max_attempts: 1
  - end: done
"""


@pytest.fixture
def app(database_url: str) -> Iterator[Legato]:
    legato = Legato(database_url, clock=FakeClock(), worker_settings=FAST)
    for tenant in ("a", "b"):
        legato.store.tenants.create(tenant, now=0)
    for label in ("shared", "a", "b"):
        legato.register(f"label.{label}", lambda job, label=label: {"ran": label, "tenant": job.tenant})
    yield legato
    legato.close()


def test_python_deploy_and_start_take_a_tenant(app: Legato) -> None:
    first = app.deploy(child_yaml("a"), tenant="a")
    assert (first.definition.tenant, first.definition.version) == ("a", 1)
    assert app.deploy(child_yaml("b"), tenant="b").definition.version == 1
    assert app.deploy(child_yaml("shared")).definition.tenant is None
    assert app.deploy(child_yaml("a") + "# changed\n", tenant="a").created is False  # same model, same version
    started = app.start("child", tenant="b")
    assert (started.tenant, started.version) == ("b", 1)
    assert app.instance(started.instance_id)["tenant"] == "b"
    with pytest.raises(IdentityNotFound) as missing:
        app.start("child", tenant="nowhere")
    assert missing.value.code == "TENANT_NOT_FOUND"
    with pytest.raises(InvalidInput):
        app.deploy(child_yaml("a"), tenant="has space")
    with pytest.raises(DefinitionNotFound):
        app.start("parent", tenant="a")  # deployed nowhere
    assert {(d.key, d.tenant) for d in app.store.definitions.list()} == {
        ("child", "a"),
        ("child", "b"),
        ("child", None),
    }
    with pytest.raises(IdentityConflict):
        app.store.tenants.delete("a")  # a's definition still belongs to it


def test_a_call_activity_calls_its_tenants_process_first_then_the_shared_one(app: Legato) -> None:
    app.deploy(PARENT_YAML)  # shared, started from each tenant
    app.deploy(child_yaml("shared"))
    app.deploy(child_yaml("a"), tenant="a")
    with app.running():
        in_a = app.start("parent", tenant="a")
        in_b = app.start("parent", tenant="b")  # b has no child of its own: the shared one
        shared = app.start("parent")
        ended = {started.instance_id: app.wait(started.instance_id) for started in (in_a, in_b, shared)}
    assert {i: e["status"] for i, e in ended.items()} == dict.fromkeys(ended, "completed")
    assert ended[in_a.instance_id]["variables"] == {"ran": "a", "tenant": "a"}
    assert ended[in_b.instance_id]["variables"] == {"ran": "shared", "tenant": "b"}
    assert ended[shared.instance_id]["variables"] == {"ran": "shared", "tenant": None}
    child = app.instance(app.instance(in_b.instance_id)["children"][0])
    assert (child["tenant"], child["process"]) == ("b", "child")
    seen_by_a = app.instances(process="child", visible=frozenset({"a"}))
    assert sorted(i["tenant"] or "" for i in seen_by_a) == ["", "a"]  # a's child and the shared one, not b's
    assert [i["tenant"] for i in app.instances(process="child", tenant="b")] == ["b"]


def test_a_business_rule_task_evaluates_its_tenants_decision_first(app: Legato) -> None:
    app.deploy(RATED_YAML)
    app.deploy(DMN.replace("{rate}", "shared"), source_format="dmn")
    deployed = app.deploy(DMN.replace("{rate}", "for a"), source_format="dmn", tenant="a")
    assert (deployed.stored.tenant, deployed.version) == ("a", 1)  # versions count per tenant
    with app.running():
        in_a, in_b = app.start("rated", {"amount": 5}, tenant="a"), app.start("rated", {"amount": 5}, tenant="b")
        assert app.wait(in_a.instance_id)["variables"]["rate"] == "for a"
        assert app.wait(in_b.instance_id)["variables"]["rate"] == "shared"
    evaluations = app.decision_evaluations(in_a.instance_id)
    assert [(e["tenant"], e["value"]) for e in evaluations] == [("a", "for a")]
    assert app.decision_evaluations(in_a.instance_id, visible=frozenset({"b"})) == []
    assert app.evaluate_decision("Decision_rate", {"amount": 1}, tenant="a")["value"] == "for a"
    assert app.evaluate_decision("Decision_rate", {"amount": 1})["value"] == "shared"
    listed = app.store.decisions.list(visible=frozenset({"b"}))
    assert [(m.key, m.tenant) for m in listed] == [("Definitions_rate", None)]


def test_a_worker_kept_to_a_tenant_claims_only_its_jobs_and_the_shared_ones(app: Legato) -> None:
    app.deploy(child_yaml("a"), tenant="a")
    app.deploy(child_yaml("b"), tenant="b")
    app.deploy(child_yaml("shared"))
    a, b, shared = app.start("child", tenant="a"), app.start("child", tenant="b"), app.start("child")
    claimed = app.store.jobs.claim(
        worker="w-a",
        task_types=["label.a", "label.b", "label.shared"],
        limit=10,
        now=app.clock.now() + timedelta(seconds=1),
        lock_seconds=30,
        tenants=frozenset({"a"}),
    )
    assert sorted((job.instance_id, job.tenant) for job in claimed) == sorted(
        [(a.instance_id, "a"), (shared.instance_id, None)]
    )
    handlers = Handlers()
    ran: list[Any] = []
    handlers.register("label.b", lambda job: ran.append(job.tenant) or {})
    only_b = Worker(
        app.store,
        handlers,
        clock=app.clock,
        settings=WorkerSettings(
            concurrency=2, lock_seconds=5, poll_interval=0.02, shutdown_grace=2, tenants=frozenset({"b"})
        ),
    )
    only_b.start()
    try:
        eventually(lambda: app.instance(b.instance_id)["status"] == "completed" or None)
    finally:
        only_b.stop()
    assert ran == ["b"]


def test_messages_stay_in_the_senders_tenant(app: Legato) -> None:
    app.deploy(
        """\
process: waiting
steps:
  - start: begin
  - catch_message: paid
    message: paid
    correlation_key: order_id
  - end: done
"""
    )
    a = app.start("waiting", {"order_id": "1"}, tenant="a")
    b = app.start("waiting", {"order_id": "1"}, tenant="b")
    with pytest.raises(MessageNotCorrelated):
        app.send_message("paid", "1", within=frozenset(), origin=None)  # the shared tenant only: nobody waits
    assert app.send_message("paid", "1", within=frozenset({"b"}))["instance_id"] == b.instance_id
    assert app.instance(a.instance_id)["status"] == "active"
    assert app.send_message("paid", "1")["instance_id"] == a.instance_id  # every tenant: the one left


SIGNALS_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:signal id="S" name="go" />
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="begin" />
    <bpmn:{kind} id="signal"><bpmn:signalEventDefinition signalRef="S" /></bpmn:{kind}>
    <bpmn:endEvent id="done" />
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="signal" />
    <bpmn:sequenceFlow id="f2" sourceRef="signal" targetRef="done" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_signal_thrown_by_an_instance_reaches_only_its_tenant_and_the_shared_one(app: Legato) -> None:
    app.deploy(SIGNALS_BPMN.format(key="waiter", kind="intermediateCatchEvent"))
    app.deploy(SIGNALS_BPMN.format(key="thrower", kind="intermediateThrowEvent"))
    waiting = {tenant: app.start("waiter", tenant=tenant).instance_id for tenant in ("a", "b", None)}
    assert app.start("thrower", tenant="a").status == "completed"
    status = {tenant: app.instance(instance)["status"] for tenant, instance in waiting.items()}
    assert status == {"a": "completed", "b": "active", None: "completed"}
    assert app.start("thrower").status == "completed"  # from the shared tenant: the shared waiters only
    assert app.instance(waiting["b"])["status"] == "active"
    assert app.broadcast_signal("go", within=frozenset({"b"}))["instances"] == 1
    assert app.instance(waiting["b"])["status"] == "completed"
