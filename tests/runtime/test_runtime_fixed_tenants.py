"""Camunda 7's fixed tenant ids, honoured, on SQLite and PostgreSQL.

`camunda:calledElementTenantId` on a call activity and `camunda:decisionRefTenantId` on a
business rule task name the tenant the called process or decision is looked up in: that
tenant's only, never the shared one or the caller's, and the child instance belongs to it.
A process or decision missing there is an incident naming the tenant. The models are
written as Camunda Modeler 5 writes them for Camunda Platform 7 (files/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from legato import Legato, WorkerSettings
from legato.model.elements import BusinessRuleTask, CallActivity
from legato.runtime.clock import FakeClock
from support import eventually

FILES = Path(__file__).parent / "files"
ONBOARDING = (FILES / "onboarding_fixed_tenant_camunda7.bpmn").read_text(encoding="utf-8")
KYC = (FILES / "kyc_check_camunda7.bpmn").read_text(encoding="utf-8")
RISK = (FILES / "risk_class_camunda7.dmn").read_text(encoding="utf-8")


@pytest.fixture
def app(database_url: str) -> Iterator[Legato]:
    legato = Legato(
        database_url,
        clock=FakeClock(),
        worker_settings=WorkerSettings(concurrency=2, lock_seconds=5, poll_interval=0.05, shutdown_grace=2),
    )
    for tenant in ("compliance", "acme", "empty"):
        legato.store.tenants.create(tenant, now=0.0)
    yield legato
    legato.close()


def kyc(checker: str) -> str:
    return KYC.replace('"CHECKER"', f'"{checker}"')


def risk(answer: str) -> str:
    return RISK.replace('"RISK"', f'"{answer}"')


def deploy_decoys(app: Legato) -> None:
    """The same keys in the shared tenant and in acme: a fixed tenant must not fall back to them."""
    app.deploy(kyc("shared"), source_format="bpmn")
    app.deploy(kyc("acme"), source_format="bpmn", tenant="acme")
    app.deploy(risk("shared-low"), source_format="dmn")
    app.deploy(risk("acme-low"), source_format="dmn", tenant="acme")


def incident_at(app: Legato, instance_id: str, element: str) -> dict[str, Any]:
    return eventually(
        lambda: next((i for i in app.incidents(instance_id=instance_id) if i["element"] == element), None)
    )


def test_the_fixed_tenants_are_read_from_the_camunda_attributes(app: Legato) -> None:
    deployed = app.deploy(ONBOARDING, source_format="bpmn")
    model = app.store.definitions.get("customer_onboarding").model
    call, decision = model.elements["Activity_kyc"], model.elements["Activity_risk"]
    assert isinstance(call, CallActivity) and isinstance(decision, BusinessRuleTask)
    assert (call.process, call.tenant) == ("kyc_check", "compliance")
    assert (decision.decision, decision.tenant) == ("risk_class", "compliance")
    assert not [w for w in deployed.warnings if "TenantId" in w]  # honoured, not ignored


def test_the_called_process_and_decision_come_from_the_fixed_tenant_and_the_child_belongs_to_it(
    app: Legato,
) -> None:
    deploy_decoys(app)
    app.deploy(kyc("compliance"), source_format="bpmn", tenant="compliance")
    app.deploy(risk("compliance-medium"), source_format="dmn", tenant="compliance")
    app.deploy(ONBOARDING, source_format="bpmn", tenant="acme")
    with app.running():
        started = app.start("customer_onboarding", {"country": "DE"}, tenant="acme")
        task = eventually(lambda: app.tasks(instance_id=started.instance_id))[0]
    assert task["element"] == "Activity_welcome"
    parent = app.instance(started.instance_id)
    assert parent["tenant"] == "acme"
    assert parent["variables"]["checked_by"] == "compliance"  # not acme's own kyc_check, not the shared one
    assert parent["variables"]["risk"] == "compliance-medium"
    children = [app.instance(child) for child in parent["children"]]
    assert [(c["process"], c["tenant"]) for c in children] == [("kyc_check", "compliance")]
    evaluations = app.decision_evaluations(started.instance_id)
    assert [(e["decision"], e["value"], e["tenant"]) for e in evaluations] == [
        ("risk_class", "compliance-medium", "acme")  # kept in the instance's (acme's) trail
    ]


def test_a_process_missing_in_the_fixed_tenant_is_an_incident_naming_the_tenant(app: Legato) -> None:
    deploy_decoys(app)  # kyc_check exists in the shared tenant and in acme, but not in compliance
    app.deploy(ONBOARDING, source_format="bpmn", tenant="acme")
    with app.running():
        started = app.start("customer_onboarding", {"country": "DE"}, tenant="acme")
        incident = incident_at(app, started.instance_id, "Activity_kyc")
        assert incident["error_type"] == "DefinitionNotFound"
        assert incident["message"] == "no process 'kyc_check' is deployed in tenant 'compliance'"
        assert app.instance(started.instance_id)["children"] == []  # no child started anywhere

        app.deploy(kyc("compliance"), source_format="bpmn", tenant="compliance")
        app.deploy(risk("compliance-medium"), source_format="dmn", tenant="compliance")
        app.retry_incident(incident["id"])
        eventually(lambda: app.tasks(instance_id=started.instance_id))
    assert app.instance(started.instance_id)["variables"]["checked_by"] == "compliance"


def test_a_decision_missing_in_the_fixed_tenant_is_an_incident_naming_the_tenant(app: Legato) -> None:
    deploy_decoys(app)
    app.deploy(kyc("compliance"), source_format="bpmn", tenant="compliance")
    onboarding = ONBOARDING.replace('camunda:decisionRefTenantId="compliance">', 'camunda:decisionRefTenantId="empty">')
    onboarding = onboarding.replace(  # one attempt (Camunda's "R1"), so the incident comes at once
        "<bpmn:incoming>Flow_1kyc9rs</bpmn:incoming>",
        "<bpmn:extensionElements>\n        <camunda:failedJobRetryTimeCycle>R1/PT1S</camunda:failedJobRetryTimeCycle>\n"
        "      </bpmn:extensionElements>\n      <bpmn:incoming>Flow_1kyc9rs</bpmn:incoming>",
    )
    app.deploy(onboarding, source_format="bpmn", tenant="acme")
    with app.running():
        started = app.start("customer_onboarding", {"country": "DE"}, tenant="acme")
        incident = incident_at(app, started.instance_id, "Activity_risk")
    assert incident["error_type"] == "DecisionNotFound"
    assert incident["message"] == "no decision 'risk_class' is deployed in tenant 'empty'"
    assert "risk" not in app.instance(started.instance_id)["variables"]  # not the shared or acme decoy's


def test_without_a_fixed_tenant_the_callers_tenant_comes_first_then_the_shared_one(app: Legato) -> None:
    deploy_decoys(app)
    plain = ONBOARDING.replace(' camunda:calledElementTenantId="compliance"', "").replace(
        ' camunda:decisionRefTenantId="compliance"', ""
    )
    app.deploy(plain, source_format="bpmn")  # shared
    with app.running():
        in_acme = app.start("customer_onboarding", {"country": "DE"}, tenant="acme")
        in_empty = app.start("customer_onboarding", {"country": "DE"}, tenant="empty")
        for started in (in_acme, in_empty):
            eventually(lambda started=started: app.tasks(instance_id=started.instance_id))
    acme, empty = app.instance(in_acme.instance_id)["variables"], app.instance(in_empty.instance_id)["variables"]
    assert (acme["checked_by"], acme["risk"]) == ("acme", "acme-low")
    assert (empty["checked_by"], empty["risk"]) == ("shared", "shared-low")
    assert [app.instance(c)["tenant"] for c in app.instance(in_acme.instance_id)["children"]] == ["acme"]
