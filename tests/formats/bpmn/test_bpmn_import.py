"""Importing what modelers write: Camunda 7 and 8 flavours, bpmn.io and Signavio files."""

from __future__ import annotations

import itertools

from bpmn_helpers import document, sample

from legato.formats.bpmn import load_bpmn
from legato.model.diagram import Bounds
from legato.model.elements import (
    BoundaryEvent,
    EndEvent,
    ErrorDefinition,
    ExclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    ParallelGateway,
    RetryPolicy,
    ScriptTask,
    ServiceTask,
    StartEvent,
    SubProcess,
    TerminateDefinition,
    TimerDefinition,
    UserTask,
)

# --- Camunda 8 (zeebe:) ------------------------------------------------------------------


def test_camunda8_elements_and_their_zeebe_extensions() -> None:
    imported = sample("camunda8_payment")
    definition = imported.definition
    elements = definition.elements
    assert definition.id == "payment_collection" and definition.name == "Payment collection"
    assert definition.documentation == "Collects the payment for an order, with a review of large amounts."

    charge = elements["Activity_charge"]
    assert isinstance(charge, ServiceTask)
    assert charge.task_type == "payment.charge"
    assert charge.retry == RetryPolicy(max_attempts=5)
    # `=path` loses its FEEL marker (FEEL and Legato read a path alike); static text is quoted
    assert charge.inputs == {"amount": "order.total", "orderId": "orderId", "currency": '"EUR"'}
    assert charge.outputs == {"paymentReference": "transactionId"}
    assert charge.documentation == "Charges the customer's card for the order total."
    notify = elements["Activity_notify"]
    assert isinstance(notify, ServiceTask) and notify.retry == RetryPolicy()

    assert elements["Event_card_declined"] == BoundaryEvent(
        id="Event_card_declined",
        name="Card declined",
        attached_to="Activity_charge",
        event=ErrorDefinition(code="CARD_DECLINED"),
    )
    assert elements["End_declined"] == EndEvent(id="End_declined", name="Payment failed", event=TerminateDefinition())

    review = elements["Activity_review"]
    assert isinstance(review, UserTask)
    assert review.assignee == "finance.lead"
    assert review.candidate_groups == ("finance", "audit")
    assert review.form == {"id": "payment-review"}
    reminder = elements["Event_review_reminder"]
    assert isinstance(reminder, BoundaryEvent) and not reminder.cancel_activity
    assert reminder.event == TimerDefinition(kind="duration", value="PT4H")

    receipt = elements["Activity_receipt"]
    # A FEEL script keeps its dialect: it runs as an input mapping, the script assigns it.
    assert receipt == ScriptTask(
        id="Activity_receipt",
        name="Write receipt",
        script="receiptText = receiptText",
        inputs={"receiptText": '="Receipt for " + orderId'},
    )
    assert isinstance(elements["Gateway_fork"], ParallelGateway)
    assert isinstance(elements["Gateway_merge"], ExclusiveGateway)

    settled = elements["Event_settled"]
    assert isinstance(settled, IntermediateCatchEvent)
    assert settled.event == MessageDefinition(message="payment.settled", correlation_key="orderId")
    retry_start = elements["StartEvent_retry"]
    assert isinstance(retry_start, StartEvent)
    assert retry_start.event == MessageDefinition(message="payment.retry")

    assert isinstance(elements["Activity_archive"], SubProcess)
    wait = elements["Event_wait"]
    assert isinstance(wait, IntermediateCatchEvent) and wait.parent == "Activity_archive"
    assert wait.event == TimerDefinition(kind="duration", value="=archiveDelay")


def test_camunda8_flows_conditions_and_default_last() -> None:
    definition = sample("camunda8_payment").definition
    gateway = definition.elements["Gateway_amount"]
    assert isinstance(gateway, ExclusiveGateway) and gateway.default == "Flow_small"
    large, small = definition.outgoing("Gateway_amount")  # the file lists the default first
    assert (large.id, large.condition, large.name) == ("Flow_large", "=amount > 1000", "over 1000")
    assert (small.id, small.condition, small.name) == ("Flow_small", None, "up to 1000")
    assert len(definition.flows) == 21
    inner = [f for f in definition.flows.values() if definition.elements[f.source].parent == "Activity_archive"]
    assert [f.id for f in inner] == ["Flow_archive_start", "Flow_waited", "Flow_stored"]


def test_camunda8_extensions_left_out_are_warnings() -> None:
    found = sample("camunda8_payment")
    warnings = found.warnings
    assert len(warnings) == 1
    assert "'Activity_charge' (line 12): zeebe:taskHeaders is ignored" in warnings[0]
    # zeebe:taskSchedule is read: Camunda 8's "now() + duration" is the duration from creation
    review = found.definition.elements["Activity_review"]
    assert isinstance(review, UserTask) and review.due_date == "PT8H"


def test_camunda8_diagram() -> None:
    definition = sample("camunda8_payment").definition
    diagram = definition.diagram
    assert diagram is not None and diagram.id == "BPMNDiagram_1"
    shapes = {shape.element: shape for shape in diagram.shapes}
    edges = {edge.element: edge for edge in diagram.edges}
    assert set(shapes) == set(definition.elements)
    assert set(edges) == set(definition.flows)
    archive = shapes["Activity_archive"]
    assert archive.expanded is True and archive.bounds == Bounds(x=1430, y=37, width=430, height=160)
    assert shapes["Gateway_amount"].label == Bounds(x=414, y=62, width=72, height=14)
    assert shapes["Activity_charge"].label is None and shapes["Activity_charge"].expanded is None
    small = edges["Flow_small"]
    assert small.waypoints == ((450, 142), (450, 350), (910, 350), (910, 142))
    assert small.label == Bounds(x=654, y=332, width=53, height=14)


# --- Camunda 7 (camunda:) ----------------------------------------------------------------


def test_camunda7_external_tasks_io_and_retry_cycle() -> None:
    elements = sample("camunda7_invoice").definition.elements
    prepare = elements["Activity_prepare"]
    assert isinstance(prepare, ServiceTask)
    assert prepare.task_type == "invoice.prepare"
    # R3/PT10M: three attempts, ten minutes apart (the cap is raised to the interval)
    assert prepare.retry == RetryPolicy(max_attempts=3, initial_backoff=600.0, multiplier=1.0, max_backoff=600.0)
    assert prepare.retry.backoff(1, 0.5) == prepare.retry.backoff(2, 0.5) == 600.0
    assert prepare.inputs == {"invoiceId": "invoice.id", "currency": '"EUR"'}
    assert prepare.outputs == {"bookingId": "result.id"}
    assert prepare.documentation == "Looks up the supplier and the cost centre."
    post = elements["Activity_post"]
    assert isinstance(post, ServiceTask) and post.parent == "Activity_book" and post.task_type == "invoice.post"


def test_camunda7_scripts_user_tasks_and_events() -> None:
    definition = sample("camunda7_invoice").definition
    elements = definition.elements
    assign = elements["Activity_assign"]
    assert isinstance(assign, ScriptTask) and assign.script == "approver = invoice.department" and not assign.inputs
    gross = elements["Activity_gross"]
    assert isinstance(gross, ScriptTask)
    assert gross.inputs == {"gross": "${invoice.amount * 1.19}"} and gross.script == "gross = gross"

    approve = elements["Activity_approve"]
    assert isinstance(approve, UserTask)
    assert approve.assignee == "${approver}"  # JUEL, evaluated when the task opens
    assert approve.candidate_groups == ("accounting", "management")
    assert approve.form == {"key": "embedded:app:forms/approve-invoice.html"}
    overdue = elements["Event_overdue"]
    assert isinstance(overdue, BoundaryEvent) and not overdue.cancel_activity
    assert overdue.event == TimerDefinition(kind="duration", value="P3D")

    failed = elements["Event_booking_failed"]
    assert isinstance(failed, BoundaryEvent) and failed.attached_to == "Activity_book"
    assert failed.event == ErrorDefinition(code="BOOKING_FAILED", message="The ledger refused the booking")
    rejected = elements["End_rejected"]
    assert isinstance(rejected, EndEvent) and rejected.event == ErrorDefinition(code="INVOICE_REJECTED")
    paid = elements["Event_paid"]
    assert isinstance(paid, IntermediateCatchEvent) and paid.event == MessageDefinition(message="invoice.paid")
    assert definition.flows["Flow_approved"].condition == "${approved}"


def test_camunda7_pool_and_lanes() -> None:
    definition = sample("camunda7_invoice").definition
    assert definition.participant is not None
    assert (definition.participant.id, definition.participant.name) == ("Participant_invoice", "Invoice approval")
    accounting, approver = definition.lanes
    assert (accounting.id, accounting.name, approver.name) == ("Lane_accounting", "Accounting", "Approver")
    assert approver.elements == ("Activity_approve", "Event_overdue", "Activity_escalate", "End_escalated")
    assert "StartEvent_received" in accounting.elements and not accounting.lanes
    assert definition.diagram is not None
    shapes = {shape.element: shape for shape in definition.diagram.shapes}
    assert shapes["Participant_invoice"].horizontal is True
    assert shapes["Lane_approver"].bounds == Bounds(x=159, y=382, width=1570, height=200)
    assert shapes["Lane_approver"].label is None  # an empty BPMNLabel


def test_camunda7_warnings() -> None:
    warnings = sample("camunda7_invoice").warnings
    assert len(warnings) == 2
    text = "\n".join(warnings)
    assert "camunda:historyTimeToLive is ignored" in text
    assert "'Activity_prepare' (line 41): camunda:asyncBefore is ignored: Legato commits at every wait state" in text
    assert "approver" not in text  # an assignee expression is kept, not warned about
    assert "camunda:dueDate" not in text  # read into the task: an expression evaluated when it opens


# --- bpmn.io and Signavio ----------------------------------------------------------------


def test_a_plain_bpmn_io_file() -> None:
    imported = sample("bpmnio_leave")
    definition = imported.definition
    assert definition.id == "Process_leave"
    assert definition.flows["Flow_enough"].condition == "daysLeft >= requestedDays"
    wait = definition.elements["Event_wait"]
    assert isinstance(wait, IntermediateCatchEvent)
    assert wait.event == TimerDefinition(kind="date", value="2030-06-30T09:00:00Z")
    assert all(isinstance(definition.elements[e], UserTask) for e in ("Activity_check", "Activity_block"))
    assert definition.elements["Activity_block"].parent == "Activity_calendar"
    text = "\n".join(imported.warnings)
    # demo.bpmn.io marks its processes isExecutable="false": kept for viewing and export, refused at start
    assert definition.not_executable == (
        "'Process_leave': the process is not marked isExecutable=\"true\": it is kept for viewing and export; "
        "mark it executable to run it",
    )
    assert "'TextAnnotation_policy' (line 76): textAnnotation elements carry no behaviour" in text
    assert "association elements" in text
    assert "not the one of 'Activity_calendar'" in text  # the drill-down of a collapsed subprocess
    assert "bioc" not in text and "color" not in text  # colours are presentation, left out quietly
    assert definition.diagram is not None
    drawn = {shape.element for shape in definition.diagram.shapes}
    assert "Activity_calendar" in drawn and "Activity_block" not in drawn
    assert "TextAnnotation_policy" not in drawn
    assert {edge.element for edge in definition.diagram.edges} == set(definition.flows) - {"Flow_c1", "Flow_c2"}


def test_a_signavio_file_with_nested_lanes_and_its_own_extensions() -> None:
    imported = sample("signavio_claims")
    definition = imported.definition
    assert definition.name == "Claims handling"
    assert definition.documentation == "Insurance claims from registration to payout."
    department, service = definition.lanes
    assert department.name == "Claims department" and service.name == "Customer service"
    clerk, manager = department.lanes
    assert (clerk.name, manager.name) == ("Clerk", "Manager")
    assert len(clerk.elements) == 6 and len(department.elements) == 9
    assert definition.participant is not None and definition.participant.name == "Claims handling"
    merge = next(e for e in definition.elements.values() if isinstance(e, ExclusiveGateway) and not e.default)
    assert merge.name is None  # Signavio writes name=""
    conditions = [flow.condition for flow in definition.flows.values() if flow.condition]
    assert conditions == ["payout > 5000"]
    assert all(flow.name in ("yes", "no", None) for flow in definition.flows.values())
    metadata = [w for w in imported.warnings if "signavio:signavioMetaData" in w]
    assert len(metadata) == 1 and "and 2 more" in metadata[0]  # five elements carry it
    assert definition.diagram is not None
    assert len(definition.diagram.shapes) == 16 and len(definition.diagram.edges) == 10
    pool = next(s for s in definition.diagram.shapes if s.element == definition.participant.id)
    assert pool.label == Bounds(x=65.0, y=257.42857360839844, width=12.000000000000014, height=95.14285278320312)


def test_timers_keep_their_text_and_expressions_their_dialect() -> None:
    timers = {
        "iso": ("timeCycle", " R3/PT10M "),
        "feel": ("timeDuration", '=duration("PT" + string(minutes) + "M")'),
        "juel": ("timeDate", "${reminderDate}"),
        "template": ("timeDuration", "PT${minutes}M"),
    }
    chain = ["start", *timers, "end"]
    body = '    <bpmn:startEvent id="start" />\n    <bpmn:endEvent id="end" />\n' + "".join(
        f'    <bpmn:intermediateCatchEvent id="{event_id}"><bpmn:timerEventDefinition>'
        f'<bpmn:{tag} xsi:type="bpmn:tFormalExpression">{text}</bpmn:{tag}>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n"
        for event_id, (tag, text) in timers.items()
    )
    body += "".join(
        f'    <bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />\n'
        for n, (a, b) in enumerate(itertools.pairwise(chain))
    )
    elements = load_bpmn(document(body)).definition.elements
    events = {event_id: getattr(elements[event_id], "event", None) for event_id in timers}
    assert events == {
        "iso": TimerDefinition(kind="cycle", value="R3/PT10M"),
        "feel": TimerDefinition(kind="duration", value='=duration("PT" + string(minutes) + "M")'),
        "juel": TimerDefinition(kind="date", value="${reminderDate}"),
        "template": TimerDefinition(kind="duration", value="PT${minutes}M"),
    }
