"""Deploying a model that calls into a fixed tenant, over the API, on SQLite and PostgreSQL.

A call activity with `camunda:calledElementTenantId` (or a business rule task with
`camunda:decisionRefTenantId`) runs another tenant's process with this model's data, so
only someone who belongs to that tenant may deploy it: 403 TENANT_DENIED naming the
element, and nothing stored. A tenant that does not exist is 404 TENANT_NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import API, assert_problem
from tenant_helpers import Tenanted, tenanted

from legato.runtime.app import Legato

ONBOARDING = (Path(__file__).parents[1] / "runtime" / "files" / "onboarding_fixed_tenant_camunda7.bpmn").read_text(
    encoding="utf-8"
)
BPMN = {"Content-Type": "application/bpmn+xml"}


@pytest.fixture
def t(database_url: str) -> Iterator[Tenanted]:
    legato = Legato(database_url)
    try:
        yield from tenanted(legato)
    finally:
        legato.close()


def calling_into(call: str, decision: str) -> str:
    return ONBOARDING.replace(
        'camunda:calledElementTenantId="compliance"', f'camunda:calledElementTenantId="{call}"'
    ).replace('camunda:decisionRefTenantId="compliance"', f'camunda:decisionRefTenantId="{decision}"')


def definitions(t: Tenanted) -> list[tuple[str, str | None]]:
    items = t.admin.get(f"{API}/definitions", params={"all_versions": "true"}).json()["items"]
    return [(d["key"], d["tenant"]) for d in items]


def test_a_call_into_a_tenant_the_deployer_lacks_is_refused_naming_the_element(t: Tenanted) -> None:
    refused = t.alice.post(f"{API}/definitions", content=calling_into("b", "a"), headers=BPMN)
    problem = assert_problem(refused, 403, "TENANT_DENIED")
    assert problem["tenant"] == "b" and problem["element"] == "Activity_kyc"
    decision = t.alice.post(f"{API}/definitions", content=calling_into("a", "b"), headers=BPMN)
    assert assert_problem(decision, 403, "TENANT_DENIED")["element"] == "Activity_risk"
    unknown = t.alice.post(f"{API}/definitions", content=calling_into("nowhere", "a"), headers=BPMN)
    assert_problem(unknown, 403, "TENANT_DENIED")  # whether it exists or not: nothing told about other tenants
    assert definitions(t) == []

    own = t.alice.post(f"{API}/definitions", content=calling_into("a", "a"), headers=BPMN)
    assert own.status_code == 201, own.text
    assert own.json()["tenant"] == "a"
    detail = t.alice.get(f"{API}/definitions/customer_onboarding").json()
    by_id = {e["id"]: e for e in detail["model"]["elements"]}
    assert (by_id["Activity_kyc"]["tenant"], by_id["Activity_risk"]["tenant"]) == ("a", "a")


def test_an_admin_may_call_into_any_existing_tenant_but_not_a_missing_one(t: Tenanted) -> None:
    missing = t.admin.post(f"{API}/definitions", content=calling_into("nowhere", "a"), headers=BPMN)
    assert_problem(missing, 404, "TENANT_NOT_FOUND")
    assert definitions(t) == []
    shared = t.admin.post(f"{API}/definitions", content=calling_into("a", "b"), headers=BPMN)
    assert shared.status_code == 201, shared.text
    assert definitions(t) == [("customer_onboarding", None)]
