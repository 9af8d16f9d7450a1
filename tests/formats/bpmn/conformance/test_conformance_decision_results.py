"""Camunda 7's `camunda:mapDecisionResult` on business rule tasks, as Camunda 7 maps results.

Camunda 7's DMN engine gives a decision's result as one entry per matched rule (output name
to value), and the business rule task's mapper shapes it before `camunda:resultVariable`
stores it: `singleEntry` the one value, `singleResult` the one rule's outputs,
`collectEntries` the one output's values, `resultList` (the default) every rule's outputs.
A result the mapper cannot take, such as two matched rules under `singleEntry`, fails the
task naming the decision. The decisions are in customer_checks.dmn.
"""

from __future__ import annotations

from typing import Any

import pytest
from conformance_helpers import FILES, Start, definition, imported

from legato import Legato, Store
from legato.engine.decisions import decide
from legato.errors import EvaluationError, ModelInvalid
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.dmn_xml import load_dmn
from legato.model.elements import BusinessRuleTask
from legato.model.serialize import checksum
from legato.runtime.clock import FakeClock
from legato.testing import EngineHarness
from support import eventually

CUSTOMER_CHECKS = load_dmn((FILES / "customer_checks.dmn").read_bytes())
TASKS = ("Activity_discount", "Activity_routing", "Activity_documents", "Activity_flags")


def decide_all(run: EngineHarness) -> None:
    """Do what a worker does with each `legato.decision` job, the DMN file in memory."""
    for element in TASKS:
        job = run.job(element)
        assert job.payload is not None
        run.complete_job(element, decide(job.payload, CUSTOMER_CHECKS))


def test_each_mapping_is_read_and_camunda7s_default_is_the_result_list() -> None:
    elements = definition("decision_results_camunda7").elements
    mappings = {}
    for element in TASKS:
        task = elements[element]
        assert isinstance(task, BusinessRuleTask)
        mappings[element] = task.result_mapping
    assert mappings == {
        "Activity_discount": "singleEntry",
        "Activity_routing": "singleResult",
        "Activity_documents": "collectEntries",
        "Activity_flags": "resultList",  # no camunda:mapDecisionResult: Camunda 7's default
    }
    assert not any("mapDecisionResult" in warning for warning in imported("decision_results_camunda7").warnings)


def test_a_business_customer_abroad_gets_each_result_in_camunda7s_shape(start: Start) -> None:
    variables = {"years": 0, "segment": "business", "country": "AT"}
    run = start(definition("decision_results_camunda7"), variables=variables)
    assert run.job("Activity_discount").payload == {
        "decision": "loyalty_discount",
        "result_variable": "discount",
        "variables": variables,
        "element": "Activity_discount",
        "mapping": "singleEntry",
    }
    decide_all(run)
    assert run.variables["discount"] == 0  # the value, not {"discount": 0}
    assert run.variables["route"] == {"team": "key-accounts", "priority": 1}
    assert run.variables["documents"] == ["passport", "trade register extract", "proof of address"]
    # every rule's outputs; a blank output entry is left out, as Camunda 7 leaves it out
    assert run.variables["flags"] == [{"flag": "foreign", "severity": "low"}, {"flag": "new customer"}]
    assert run.task("Activity_review").candidate_groups == ("key-accounts",)


def test_a_loyal_private_customer_at_home_matches_fewer_rules(start: Start) -> None:
    run = start(definition("decision_results_camunda7"), variables={"years": 7, "segment": "private", "country": "DE"})
    decide_all(run)
    assert run.variables["discount"] == 5
    assert run.variables["route"] == {"team": "service-desk", "priority": 3}
    assert run.variables["documents"] == ["passport"]  # a list even for one rule
    assert run.variables["flags"] == []  # no rule: an empty list, not null
    run.complete_task("Activity_review")
    assert run.status == "completed"


def test_single_entry_over_several_matched_rules_fails_naming_the_decision(start: Start) -> None:
    run = start(definition("decision_single_entry_camunda7"), variables={"segment": "business", "country": "DE"})
    payload = run.job("Activity_document").payload
    assert payload is not None
    with pytest.raises(EvaluationError) as raised:
        decide(payload, CUSTOMER_CHECKS)
    assert str(raised.value.message).startswith(
        "decision 'required_documents' matched 2 rules, but mapDecisionResult=singleEntry "
        "(business rule task 'Activity_document') takes one result"
    )
    assert "document" not in run.variables


def test_single_entry_over_one_matched_rule_is_its_value(start: Start) -> None:
    run = start(definition("decision_single_entry_camunda7"), variables={"segment": "private", "country": "DE"})
    payload = run.job("Activity_document").payload
    assert payload is not None
    run.complete_job("Activity_document", decide(payload, CUSTOMER_CHECKS))
    assert run.status == "completed" and run.variables["document"] == "passport"


@pytest.mark.parametrize(
    ("mapping", "outputs", "message"),
    [
        ("singleResult", {"segment": "private"}, None),
        ("collectEntries", {"segment": "private"}, "gave the outputs 'team', 'priority', but mapDecisionResult="),
        ("singleEntry", {"segment": "private"}, "gave the outputs 'team', 'priority', but mapDecisionResult="),
    ],
)
def test_several_outputs_need_a_mapping_that_keeps_names(
    mapping: str, outputs: dict[str, Any], message: str | None
) -> None:
    payload = {"decision": "case_routing", "result_variable": "r", "variables": outputs, "mapping": mapping}
    if message is None:
        assert decide(payload, CUSTOMER_CHECKS) == {"r": {"team": "service-desk", "priority": 3}}
        return
    with pytest.raises(EvaluationError, match=message):
        decide(payload, CUSTOMER_CHECKS)


def test_without_a_result_variable_camunda7_stores_nothing() -> None:
    payload = {"decision": "case_routing", "variables": {"segment": "business"}, "mapping": "singleResult"}
    assert decide(payload, CUSTOMER_CHECKS) == {}


def test_the_mapping_survives_export_and_import() -> None:
    original = definition("decision_results_camunda7")
    again = load_bpmn(dump_bpmn(original)).definition
    assert checksum(again) == checksum(original)
    task = again.elements["Activity_discount"]
    assert isinstance(task, BusinessRuleTask) and task.result_mapping == "singleEntry"


def test_an_unknown_mapping_is_refused_naming_the_mappers() -> None:
    source = (FILES / "decision_single_entry_camunda7.bpmn").read_text()
    with pytest.raises(ModelInvalid) as refused:
        load_bpmn(source.replace('mapDecisionResult="singleEntry"', 'mapDecisionResult="firstEntry"'))
    assert "camunda:mapDecisionResult='firstEntry' is no result mapping: use one of singleEntry" in str(refused.value)


def test_deployed_the_multi_hit_becomes_an_incident_naming_the_decision() -> None:
    clock = FakeClock()
    app = Legato(Store.memory(), clock=clock)
    try:
        app.deploy(FILES / "customer_checks.dmn")
        app.deploy(FILES / "decision_single_entry_camunda7.bpmn")
        app.deploy(FILES / "decision_results_camunda7.bpmn")
        with app.running():
            review = app.start("customer_review", {"years": 1, "segment": "business", "country": "FR"}).instance_id
            failing = app.start("document_request", {"segment": "business", "country": "DE"}).instance_id

            def incident() -> dict[str, Any] | None:
                clock.advance(60)  # past each retry's backoff
                return next(iter(app.incidents(instance_id=failing)), None)

            found = eventually(incident)
            task = eventually(lambda: next(iter(app.tasks(instance_id=review)), None))
        assert "decision 'required_documents' matched 2 rules, but mapDecisionResult=singleEntry" in found["message"]
        assert found["element"] == "Activity_document"
        variables = app.instance(review)["variables"]
        assert variables["discount"] == 0 and variables["route"] == {"team": "key-accounts", "priority": 1}
        assert variables["documents"] == ["passport", "trade register extract", "proof of address"]
        assert variables["flags"] == [{"flag": "foreign", "severity": "low"}]
        assert task["element"] == "Activity_review"
    finally:
        app.close()
