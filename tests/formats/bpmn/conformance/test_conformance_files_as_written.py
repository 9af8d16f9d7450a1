"""BPMN files as other tools and people write them, run straight and with save-and-reload.

Each file leaves out or spells differently what Legato's own exports always write:
sequence flows without ids and references with a namespace prefix (Camunda 7 engine test
resources, interchange exports), no start or end events (BPMN 2.0.2, 10.5.2/10.5.3),
error events without an error code (catch-alls, 10.5.5), and the Activiti namespace with
Java delegates (older Camunda 7 files).
"""

from __future__ import annotations

from conformance_helpers import Start, definition, imported, path

from legato.engine.commands import CompleteUserTask, ThrowError
from legato.model.elements import ErrorDefinition, ServiceTask, UserTask

# --- 1 and 4: sequence flows without ids, references with a prefix ------------------------


def test_flows_without_ids_get_stable_ids_from_source_target_and_place() -> None:
    flows = definition("flows_without_ids").flows
    assert list(flows) == [
        "Flow_theStart_checkAmount",
        "Flow_checkAmount_amountGateway",
        "Flow_amountGateway_waitForApproval",
        "Flow_amountGateway_payRefund",
        "Flow_waitForApproval_payRefund",
        "Flow_payRefund_theEnd",
        "Flow_payRefund_theEnd_2",  # the second flow between the same two elements
    ]
    assert flows["Flow_amountGateway_payRefund"].condition == "${amount <= 500}"
    assert imported("flows_without_ids").warnings == []


def test_a_large_refund_waits_for_the_prefixed_message(start: Start) -> None:
    run = start(definition("flows_without_ids"))
    run.complete_job("checkAmount", {"amount": 900})
    assert run.waiting_at() == ["waitForApproval"]
    run.correlate("refund.approved", {"approvedBy": "kim"})
    run.complete_job("payRefund")
    assert run.status == "completed" and run.variables["approvedBy"] == "kim"
    assert path(run)[-3:] == ["waitForApproval", "payRefund", "theEnd"]


def test_a_small_refund_is_paid_at_once(start: Start) -> None:
    run = start(definition("flows_without_ids"))
    run.complete_job("checkAmount", {"amount": 40})
    assert run.waiting_at() == ["payRefund"]
    run.complete_job("payRefund")
    assert run.status == "completed"


def test_every_kind_of_prefixed_reference_resolves() -> None:
    elements = definition("qname_references").elements
    assert elements["documents"].event.message == "claim.documents"  # type: ignore[union-attr]
    assert elements["escalate"].event.code == "LARGE_CLAIM"  # type: ignore[union-attr]
    assert elements["fraud_check"].process == "fraud_screening"  # type: ignore[union-attr]
    assert elements["on_fraud"].attached_to == "assess"  # type: ignore[union-attr]
    assert elements["on_fraud"].event.code == "FRAUD"  # type: ignore[union-attr]
    assert elements["on_storm"].event.signal == "storm.warning"  # type: ignore[union-attr]
    assert definition("qname_references").participant is not None


def test_a_large_claim_escalates_and_fraud_ends_the_assessment(start: Start) -> None:
    run = start(definition("qname_references"), variables={"claimId": "C-17"})
    assert run.waiting_at() == ["documents", "on_storm"]
    run.correlate("claim.documents", {"amount": 25_000}, correlation_key="C-17")
    assert ("boundary_triggered", "on_large") in run.trail()  # non-interrupting: assessment goes on
    run.fail_call("fraud_check", "FRAUD")
    assert run.status == "completed"
    assert path(run)[-1] == "rejected" and "told_manager" in path(run)


# --- 2: implicit start and end ------------------------------------------------------------


def test_a_process_and_a_subprocess_without_start_or_end_events_run(start: Start) -> None:
    run = start(definition("implicit_start_end"))
    # both elements without incoming flows started; inside the subprocess, both of its own
    assert run.waiting_at() == ["Task_backup", "Task_book_movers"]
    assert ("element_passed", "Task_unplug") in run.trail()
    run.complete_task("Task_book_movers")
    run.complete_task("Task_backup", {"backupOk": True})
    assert "Gateway_backup_done" in path(run)  # a gateway without outgoing flows ends the path
    assert run.waiting_at() == ["Task_move"]
    run.complete_task("Task_move")
    assert run.status == "completed"  # the last task had no outgoing flow: an implicit end


def test_a_failed_backup_is_repeated_and_that_task_ends_its_path(start: Start) -> None:
    run = start(definition("implicit_start_end"))
    run.complete_task("Task_backup", {"backupOk": False})
    assert run.waiting_at() == ["Task_book_movers", "Task_redo_backup"]
    run.complete_task("Task_redo_backup")
    assert run.waiting_at() == ["Task_book_movers"]  # the subprocess completed
    run.complete_task("Task_book_movers")
    run.complete_task("Task_move")
    assert run.status == "completed"


# --- 3: error events without an error code ------------------------------------------------


def test_error_events_without_a_reference_read_as_catch_alls() -> None:
    elements = definition("error_catch_all").elements
    for element_id in ("Event_out_of_stock", "Event_reserve_failed", "Event_any_error"):
        assert elements[element_id].event == ErrorDefinition()  # type: ignore[union-attr]


def test_an_error_end_event_without_a_code_is_caught_by_a_catch_all_boundary(start: Start) -> None:
    run = start(definition("error_catch_all"))
    run.complete_job("Activity_check_stock", {"available": False})
    assert ("boundary_triggered", "Event_reserve_failed") in run.trail()
    assert run.waiting_at() == ["Activity_tell_customer"]
    run.complete_task("Activity_tell_customer")
    assert run.status == "completed" and path(run)[-1] == "Event_told"


def test_a_handler_error_is_caught_by_the_catch_all_event_subprocess(start: Start) -> None:
    run = start(definition("error_catch_all"))
    run.complete_job("Activity_check_stock", {"available": True})
    run.send(ThrowError(wait=run.job("Activity_ship").wait, code="CARRIER_DOWN"))
    assert run.waiting_at() == ["Activity_handle_error"]
    assert ("element_terminated", "Activity_ship") in run.trail()
    (task,) = run.waits("task")
    run.send(CompleteUserTask(wait=task.wait))
    assert run.status == "completed"


# --- 11: the Activiti namespace and Java delegates ----------------------------------------


def test_activiti_extensions_read_as_camunda_and_delegates_become_task_types() -> None:
    elements = definition("activiti_delegates").elements
    assert [e.task_type for e in elements.values() if isinstance(e, ServiceTask)] == [
        "com.acme.payments.AuthorizeCard",
        "captureDelegate",
        "mailer",
    ]
    review = elements["review"]
    assert isinstance(review, UserTask)
    assert review.assignee == "${clerk}" and review.candidate_groups == ("accounting",)
    warnings = imported("activiti_delegates").warnings
    assert any("'authorize'" in w and "register a handler under that name" in w for w in warnings)
    assert any("'mailer'" in w and "its jobs wait" in w for w in warnings)


def test_delegates_run_as_handler_jobs(start: Start) -> None:
    run = start(definition("activiti_delegates"), variables={"clerk": "ana"})
    assert [job.task_type for job in run.waits("job")] == ["com.acme.payments.AuthorizeCard"]
    run.complete_job("authorize", {"authorized": True})
    run.complete_job("capture")
    run.complete_job("receipt")
    assert run.task("review").assignee == "ana"
    run.complete_task("review")
    assert run.status == "completed"
