"""Messages between pools, along the file's message flows (BPMN 2.0.2, 9.4), with no handler.

The bank's send task and the bureau's message end event have no implementation: in a
collaboration their message flows say where the message goes, so Legato sends it. The
target's message decides what is correlated: the bureau's end event throws
`bureau.scored`, but its message flow ends at the bank's catch of `score.delivered`,
which is what the bank's instance receives, by its correlation key `applicationId`
evaluated over the bureau's variables.
"""

from __future__ import annotations

from typing import Any

from conformance_helpers import FILES, imported

from legato import Legato
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.builder import Process
from legato.model.elements import MESSAGE_TASK_TYPE, EndEvent, MessageRoute, SendTask
from legato.runtime.handlers import Job


def test_the_senders_get_their_routes() -> None:
    found = imported("message_flows_camunda7")
    ask = found.definition.elements["Activity_request_score"]
    answer = found.others[0].definition.elements["Event_score_sent"]
    assert isinstance(ask, SendTask) and isinstance(answer, EndEvent)
    assert ask.task_type == answer.task_type == MESSAGE_TASK_TYPE
    assert ask.routes == (
        MessageRoute(process="credit_bureau", element="StartEvent_score_requested", message="score.requested"),
    )
    assert answer.routes == (
        MessageRoute(
            process="loan_application",
            element="Event_score_received",
            message="score.delivered",
            correlation_key="applicationId",
        ),
    )
    assert not any("message flows are drawn only" in w for w in found.warnings)
    again = load_bpmn(dump_bpmn(found.definition)).definition  # the export keeps them (legato:messageRoute)
    assert again.elements["Activity_request_score"] == ask


def test_each_application_gets_its_own_score_from_the_bureau(app: Legato) -> None:
    app.deploy(FILES / "message_flows_camunda7.bpmn")

    @app.handler("score.compute")
    def compute(job: Job) -> dict[str, Any]:
        return {"score": 700 if job.variables["applicationId"] == "A-1" else 450}

    with app.running():
        first = app.start("loan_application", {"applicationId": "A-1"}).instance_id
        second = app.start("loan_application", {"applicationId": "A-2"}).instance_id
        ended = {instance: app.wait(instance) for instance in (first, second)}
    assert ended[first]["status"] == ended[second]["status"] == "completed"
    assert ended[first]["variables"]["score"] == 700
    assert ended[second]["variables"]["score"] == 450
    bureau = app.instances(process="credit_bureau")
    assert len(bureau) == 2 and all(instance["status"] == "completed" for instance in bureau)


def test_the_flow_decides_where_another_process_waits_for_the_same_name(app: Legato) -> None:
    """An audit process that also starts on `score.requested`, and a listener of
    `score.delivered` with the same key: names alone would pick them (the audit process
    comes first by key, the listener waits longest); the message flows pick the bureau and
    the bank's instance."""
    audit = Process("audit_trail")
    audit.start("requested", message="score.requested").then(audit.user("file_it")).then(audit.end("filed"))
    listener = Process("another_listener")
    delivered = listener.catch_message("delivered", message="score.delivered", correlation_key="applicationId")
    listener.start("begin").then(delivered).then(listener.end("done"))
    app.deploy(audit.build())
    app.deploy(listener.build())
    app.deploy(FILES / "message_flows_camunda7.bpmn")
    app.register("score.compute", lambda job: {"score": 610})
    with app.running():
        waiting = app.start("another_listener", {"applicationId": "A-9"}).instance_id
        loan = app.start("loan_application", {"applicationId": "A-9"}).instance_id
        ended = app.wait(loan)
    assert ended["status"] == "completed" and ended["variables"]["score"] == 610
    assert app.instances(process="audit_trail") == []
    assert app.instance(waiting)["waiting_at"] == ["delivered"]
