"""Golden files: instances stored mid-flight in state format version 1, run to the end.

Each file in `golden/` holds what the store keeps for a running instance (`to_dict()` and
the variables). A change to the state format, or to what the engine makes of a stored
state, that would strand instances already running fails here. The files are never
regenerated: when the format changes, `InstanceState.from_dict` must upgrade them.

The models are built from `legato.model.elements` with every id spelled out, so that the
ids stored in the states (flows that joining tokens arrived by) cannot drift with a
builder's naming rules. Running this module as a script writes files that do not exist
yet, which is how the version 1 files were made.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from legato.engine import CompleteJob
from legato.engine.state import InstanceState
from legato.model.elements import (
    BoundaryEvent,
    Element,
    EndEvent,
    ExclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    ParallelGateway,
    RetryPolicy,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

GOLDEN = Path(__file__).parent / "golden"
Flow = tuple[str, str, str] | tuple[str, str, str, str]


def definition(process_id: str, elements: list[Element], flows: list[Flow]) -> ProcessDefinition:
    made = ProcessDefinition(
        id=process_id,
        elements={e.id: e for e in elements},
        flows={
            f[0]: SequenceFlow(id=f[0], source=f[1], target=f[2], condition=f[3] if len(f) == 4 else None)
            for f in flows
        },
    )
    validate(made)
    return made


def order() -> ProcessDefinition:
    """Fulfilment in a subprocess with a deadline, beside an approval and a payment, joined."""
    return definition(
        "golden_order",
        [
            StartEvent(id="start"),
            ParallelGateway(id="fork"),
            SubProcess(id="fulfil"),
            StartEvent(id="fulfil_start", parent="fulfil"),
            ServiceTask(id="pick", task_type="warehouse.pick", parent="fulfil"),
            ServiceTask(id="pack", task_type="warehouse.pack", parent="fulfil"),
            EndEvent(id="fulfil_end", parent="fulfil"),
            BoundaryEvent(id="fulfil_late", attached_to="fulfil", event=TimerDefinition(kind="duration", value="PT1H")),
            EndEvent(id="late"),
            UserTask(id="approve", assignee="ann", outputs={"approved": "decision == 'yes'"}),
            IntermediateCatchEvent(
                id="payment", event=MessageDefinition(message="payment_received", correlation_key="order_id")
            ),
            ParallelGateway(id="join"),
            ServiceTask(id="invoice", task_type="billing.invoice", inputs={"order": "order_id"}),
            EndEvent(id="end"),
        ],
        [
            ("f_start", "start", "fork"),
            ("f_fulfil", "fork", "fulfil"),
            ("f_approve", "fork", "approve"),
            ("f_payment", "fork", "payment"),
            ("f_in_start", "fulfil_start", "pick"),
            ("f_pick", "pick", "pack"),
            ("f_pack", "pack", "fulfil_end"),
            ("f_late", "fulfil_late", "late"),
            ("f_fulfil_done", "fulfil", "join"),
            ("f_approved", "approve", "join"),
            ("f_paid", "payment", "join"),
            ("f_join", "join", "invoice"),
            ("f_invoice", "invoice", "end"),
        ],
    )


def incidents() -> ProcessDefinition:
    """Three incidents of three kinds, and the job whose result lets two of them pass."""
    return definition(
        "golden_incidents",
        [
            StartEvent(id="start"),
            ParallelGateway(id="fork"),
            ExclusiveGateway(id="route"),
            EndEvent(id="routed"),
            ServiceTask(id="charge", task_type="payments.charge", retry=RetryPolicy(max_attempts=1)),
            EndEvent(id="charged"),
            ServiceTask(id="fetch", task_type="data.fetch"),
            EndEvent(id="fetched_positive"),
            EndEvent(id="fetched_negative"),
            ServiceTask(id="set_amount", task_type="data.amount"),
            EndEvent(id="amount_set"),
        ],
        [
            ("f_start", "start", "fork"),
            ("f_route", "fork", "route"),
            ("f_charge", "fork", "charge"),
            ("f_fetch", "fork", "fetch"),
            ("f_set", "fork", "set_amount"),
            ("f_routed", "route", "routed", "amount > 0"),
            ("f_charged", "charge", "charged"),
            ("f_positive", "fetch", "fetched_positive", "amount > 0"),
            ("f_negative", "fetch", "fetched_negative", "amount < 0"),
            ("f_amount_set", "set_amount", "amount_set"),
        ],
    )


def reminders() -> ProcessDefinition:
    """A watched job whose non-interrupting cycle timer has fired once already."""
    return definition(
        "golden_reminders",
        [
            StartEvent(id="start"),
            ServiceTask(id="watch", task_type="watch"),
            BoundaryEvent(
                id="remind",
                attached_to="watch",
                cancel_activity=False,
                event=TimerDefinition(kind="cycle", value="R3/PT1M"),
            ),
            ServiceTask(id="notify", task_type="notify"),
            EndEvent(id="notified"),
            EndEvent(id="end"),
        ],
        [
            ("f_start", "start", "watch"),
            ("f_watch", "watch", "end"),
            ("f_remind", "remind", "notify"),
            ("f_notify", "notify", "notified"),
        ],
    )


def _advance_order(h: EngineHarness) -> None:
    h.complete_job("pick", {"picked": 2})
    h.complete_task("approve", {"decision": "yes"}, actor="ann")


def _continue_order(h: EngineHarness) -> None:
    h.correlate("payment", {"paid": 99.5})  # by element: a stored state holds no keys
    assert h.status == "active"
    h.complete_job("pack", {"parcel": "P-1"})
    assert h.waiting_at() == ["invoice"]
    assert h.job("invoice").payload == {"order": "o-17"}
    h.complete_job("invoice")
    assert h.variables == {"order_id": "o-17", "picked": 2, "approved": True, "paid": 99.5, "parcel": "P-1"}


def _advance_incidents(h: EngineHarness) -> None:
    h.fail_job("charge", "TimeoutError", "partner down")
    h.complete_job("fetch", {"rows": 3})


def _continue_incidents(h: EngineHarness) -> None:
    assert sorted(i.element for i in h.incidents) == ["charge", "fetch", "route"]
    h.complete_job("set_amount", {"amount": 5})
    h.retry_incident("route")
    h.retry_incident("fetch")
    h.retry_incident("charge")
    h.complete_job("charge", {"charged": True})
    assert h.variables == {"rows": 3, "amount": 5, "charged": True}
    passed = [r.element for r in h.history("element_passed")]
    assert "fetched_positive" in passed and "routed" in passed


def _advance_reminders(h: EngineHarness) -> None:
    h.fire_timer("remind")


def _continue_reminders(h: EngineHarness) -> None:
    h.fire_timer("remind")
    h.fire_timer("remind")
    assert h.waits("timer") == []  # R3: the firing stored in the state counts
    assert sorted(w.element for w in h.waits("job")) == ["notify", "notify", "notify", "watch"]
    for job in h.waits("job"):
        h.send(CompleteJob(wait=job.wait))


Drive = Callable[[EngineHarness], None]
Scenario = tuple[Callable[[], ProcessDefinition], dict[str, Any], Drive, Drive]

SCENARIOS: dict[str, Scenario] = {
    "order_mid_flight": (order, {"order_id": "o-17"}, _advance_order, _continue_order),
    "incidents_mid_flight": (incidents, {}, _advance_incidents, _continue_incidents),
    "reminders_mid_flight": (reminders, {}, _advance_reminders, _continue_reminders),
}
MODELS = {build().id: build for build, _, _, _ in SCENARIOS.values()}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_stored_version_1_instance_runs_to_completion(name: str, reload: bool) -> None:
    stored = orjson.loads((GOLDEN / f"{name}.json").read_bytes())
    assert stored["state"]["v"] == 1, "golden files keep the version they were written in"
    build = MODELS[stored["process"]]
    state = InstanceState.from_dict(stored["state"], stored["variables"])
    h = EngineHarness.resume(build(), state, reload=reload)
    _, _, _, finish = SCENARIOS[name]
    finish(h)
    assert h.status == "completed"
    assert h.history()[0].seq == stored["state"]["h"] + 1


def test_every_golden_file_has_a_scenario() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(SCENARIOS)


def write_missing_golden_files() -> None:
    for name, (build, variables, advance, _) in SCENARIOS.items():
        path = GOLDEN / f"{name}.json"
        if path.exists():
            continue
        h = EngineHarness(build(), variables=variables, instance_id=f"golden-{name}")
        advance(h)
        document = {
            "description": (build.__doc__ or "").strip(),
            "process": h.state.process,
            "state": h.state.to_dict(),
            "variables": h.state.variables,
        }
        path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    write_missing_golden_files()
