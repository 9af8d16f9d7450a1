"""Plain, manual, send and receive tasks, and business rule tasks, from Camunda Modeler
files, run on the pure engine.

Written from BPMN 2.0.2, 10.3.3: an abstract task and a manual task do nothing in an
engine (a token passes through); a send task is run by a handler that sends, as Camunda
does; a receive task waits for its message; a business rule task evaluates a decision
(here the DMN table in shipping_fee.dmn, in both Camunda flavours) as a job that every
worker runs itself. Deployed with the decision, it runs in test_conformance_across_instances.py.
"""

from __future__ import annotations

from typing import Any

from conformance_helpers import FILES, Start, definition, imported, path

from legato.engine.decisions import decide
from legato.formats.dmn_xml import load_dmn
from legato.model.elements import (
    DECISION_TASK_TYPE,
    BusinessRuleTask,
    ManualTask,
    ReceiveTask,
    SendTask,
    Task,
)
from legato.testing import EngineHarness

SHIPPING_FEE = load_dmn((FILES / "shipping_fee.dmn").read_bytes())


def test_each_task_kind_is_read() -> None:
    elements = definition("tasks").elements
    assert elements["Activity_register"] == Task(
        id="Activity_register",
        name="Register customer",
        documentation="Drawn as a milestone; the account is created by the sign-up form.",
    )
    assert elements["Activity_check_id"] == ManualTask(id="Activity_check_id", name="Check ID at the counter")
    welcome = elements["Activity_welcome"]
    assert isinstance(welcome, SendTask) and welcome.task_type == "mail.welcome"
    assert welcome.inputs == {"to": "customer.email", "template": '"welcome"'}
    assert elements["Activity_confirmed"] == ReceiveTask(
        id="Activity_confirmed", name="Email address confirmed", message="email.confirmed"
    )


def test_onboarding_passes_the_plain_tasks_sends_and_waits_for_the_confirmation(start: Start) -> None:
    run = start(definition("tasks"), variables={"customer": {"email": "ada@example.org"}})
    assert run.waiting_at() == ["Activity_welcome"]  # the abstract and the manual task passed
    assert run.job("Activity_welcome").payload == {"to": "ada@example.org", "template": "welcome"}
    run.complete_job("Activity_welcome")
    assert run.subscription("Activity_confirmed").message == "email.confirmed"
    run.correlate("email.confirmed", {"confirmedAt": "2030-01-01T10:00:00Z"})
    assert run.status == "completed"
    assert path(run) == [
        "StartEvent_signed_up",
        "Activity_register",
        "Activity_check_id",
        "Activity_welcome",
        "Activity_confirmed",
        "Event_onboarded",
    ]
    assert run.variables["confirmedAt"] == "2030-01-01T10:00:00Z"


# --- business rule tasks -------------------------------------------------------------------


def decide_fee(run: EngineHarness, element: str) -> Any:
    """Do what a worker does with a `legato.decision` job, with the DMN file in memory."""
    job = run.job(element)
    assert job.task_type == DECISION_TASK_TYPE and job.payload is not None
    result = decide(job.payload, SHIPPING_FEE)
    run.complete_job(element, result)
    return result["fee"]


def test_both_flavours_read_as_the_same_business_rule_task() -> None:
    camunda8 = definition("business_rule_task").elements["Activity_fee"]
    camunda7 = definition("business_rule_task_camunda7").elements["Activity_fee"]
    assert isinstance(camunda8, BusinessRuleTask) and isinstance(camunda7, BusinessRuleTask)
    assert (camunda8.decision, camunda8.result_variable) == ("shipping_fee", "fee")
    assert (camunda7.decision, camunda7.result_variable) == ("shipping_fee", "fee")
    assert camunda8.inputs == {"country": "address.country", "weight": "parcel.weight"} and not camunda7.inputs
    # singleEntry is how Legato shapes a one-output table's result: nothing to warn about
    assert not any("mapDecisionResult" in w for w in imported("business_rule_task_camunda7").warnings)


def test_a_parcel_within_germany_under_two_kilos_ships_free(start: Start) -> None:
    variables = {"address": {"country": "DE"}, "parcel": {"weight": 1.5}}
    run = start(definition("business_rule_task"), variables=variables)
    assert run.job("Activity_fee").payload == {
        "decision": "shipping_fee",
        "result_variable": "fee",
        "variables": {"country": "DE", "weight": 1.5},
        "element": "Activity_fee",
    }
    assert decide_fee(run, "Activity_fee") == 0
    assert run.status == "completed" and run.variables["fee"] == 0
    assert "Activity_charge" not in path(run)


def test_a_parcel_abroad_is_charged_the_fee_of_its_rule(start: Start) -> None:
    run = start(definition("business_rule_task"), variables={"address": {"country": "FR"}, "parcel": {"weight": 4}})
    assert decide_fee(run, "Activity_fee") == 9.9
    run.complete_job("Activity_charge")
    assert run.status == "completed" and run.variables["fee"] == 9.9
    assert path(run) == [
        "StartEvent_ordered",
        "Activity_fee",
        "Gateway_free",
        "Activity_charge",
        "Gateway_merge",
        "Event_shipped",
    ]


def test_a_camunda7_business_rule_task_sees_all_variables(start: Start) -> None:
    run = start(definition("business_rule_task_camunda7"), variables={"country": "US", "weight": 2})
    assert decide_fee(run, "Activity_fee") == 19.9
    assert run.waiting_at() == ["Activity_quote"] and run.variables["fee"] == 19.9
