"""DMN decisions over HTTP: deployed through /definitions, listed, evaluated, audited."""

from __future__ import annotations

from typing import Any

from api_helpers import API, TestClient, assert_problem, snapshot

from legato.runtime.app import Legato
from support import eventually

FEES_DMN = """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_fees" name="Fees"
    namespace="http://camunda.org/schema/1.0/dmn" exporter="Camunda Modeler" exporterVersion="5.19.0">
  <decision id="Decision_fee" name="Fee">
    <decisionTable id="DecisionTable_fee">
      <input id="Input_total" label="Order total">
        <inputExpression id="InputExpression_total" typeRef="number">
          <text>total</text>
        </inputExpression>
      </input>
      <output id="Output_fee" name="fee" typeRef="number" />
      <rule id="Rule_small">
        <inputEntry id="UnaryTests_small"><text>&lt; 100</text></inputEntry>
        <outputEntry id="LiteralExpression_small"><text>5</text></outputEntry>
      </rule>
      <rule id="Rule_large">
        <inputEntry id="UnaryTests_large"><text>&gt;= LIMIT</text></inputEntry>
        <outputEntry id="LiteralExpression_large"><text>0</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

CHECKOUT_YAML = """\
process: checkout
steps:
  - start: ordered
  - decision: price
    decision_ref: Decision_fee
    result_variable: fee
  - end: priced
"""


def fees(limit: int = 100) -> str:
    return FEES_DMN.replace("LIMIT", str(limit))


def deploy_fees(client: TestClient, limit: int = 100) -> dict[str, Any]:
    response = client.post(f"{API}/definitions", files={"file": ("fees.dmn", fees(limit))})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def test_a_dmn_upload_deploys_decisions_and_an_unchanged_one_is_a_no_op(client: TestClient) -> None:
    first = client.post(f"{API}/definitions", files={"file": ("fees.dmn", fees())})
    assert first.status_code == 201
    body = first.json()
    assert body == {
        "kind": "decisions",
        "id": body["id"],
        "key": "Definitions_fees",
        "tenant": None,
        "version": 1,
        "name": "Fees",
        "checksum": body["checksum"],
        "deployed_at": body["deployed_at"],
        "decisions": [{"id": "Decision_fee", "name": "Fee"}],
        "created": True,
        "warnings": [],
    }
    again = client.post(f"{API}/definitions", files={"file": ("fees.dmn", fees())})
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["id"]) == (False, body["id"])


def test_an_xml_body_in_a_dmn_namespace_deploys_decisions(client: TestClient) -> None:
    response = client.post(f"{API}/definitions", content=fees(200), headers={"content-type": "application/xml"})
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "decisions"
    named_xml = client.post(f"{API}/definitions", files={"file": ("fees.xml", fees(300))})
    assert (named_xml.status_code, named_xml.json()["version"]) == (201, 2)


def test_listing_gives_the_latest_models_and_their_decisions(client: TestClient) -> None:
    assert client.get(f"{API}/decisions").json() == {"items": []}
    deploy_fees(client)
    deploy_fees(client, limit=500)
    latest = client.get(f"{API}/decisions").json()["items"]
    assert [(m["key"], m["version"], m["decisions"]) for m in latest] == [
        ("Definitions_fees", 2, [{"id": "Decision_fee", "name": "Fee"}])
    ]
    every = client.get(f"{API}/decisions", params={"all_versions": "true"}).json()["items"]
    assert [m["version"] for m in every] == [1, 2]


def test_evaluate_gives_the_value_the_matched_rules_and_the_version(client: TestClient) -> None:
    deploy_fees(client)
    response = client.post(f"{API}/decisions/Decision_fee/evaluate", json={"variables": {"total": 40}})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "decision": "Decision_fee",
        "name": "Fee",
        "key": "Definitions_fees",
        "tenant": None,
        "version": 1,
        "value": 5,
        "matched_rules": ["Rule_small"],
        "required": [],
        "masked": [],
    }
    no_match = client.post(f"{API}/decisions/Decision_fee/evaluate", json={})
    assert (no_match.json()["value"], no_match.json()["matched_rules"]) == (None, [])


def test_an_unknown_decision_is_a_404_problem(client: TestClient) -> None:
    problem = assert_problem(
        client.post(f"{API}/decisions/Decision_tax/evaluate", json={"variables": {}}), 404, "DECISION_NOT_FOUND"
    )
    assert problem["decision"] == "Decision_tax"
    assert "'Decision_tax'" in problem["detail"]


def test_overlapping_rules_are_a_422_problem_naming_them(client: TestClient) -> None:
    deploy_fees(client, limit=50)  # 50..99 matches both rules of a UNIQUE table
    problem = assert_problem(
        client.post(f"{API}/decisions/Decision_fee/evaluate", json={"variables": {"total": 60}}),
        422,
        "EVALUATION_ERROR",
    )
    assert problem["rules"] == ["Rule_small", "Rule_large"]
    assert (problem["decision"], problem["key"], problem["version"]) == ("Decision_fee", "Definitions_fees", 1)
    assert "'Rule_small', 'Rule_large'" in problem["detail"]


def test_bad_requests_are_problems(client: TestClient) -> None:
    deploy_fees(client)
    url = f"{API}/decisions/Decision_fee/evaluate"
    assert_problem(client.post(url, json={"variables": [1]}), 400, "VARIABLES_INVALID")
    problem = assert_problem(client.post(url, json={"variable": {}}), 400, "INVALID_INPUT")
    assert problem["errors"][0]["field"] == "body.variable"


def test_a_broken_dmn_file_is_refused_with_the_line_and_nothing_is_stored(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    broken = fees().replace("<text>&lt; 100</text>", "<text>&lt; </text>")
    problem = assert_problem(
        client.post(f"{API}/definitions", files={"file": ("fees.dmn", broken)}), 400, "MODEL_INVALID"
    )
    assert [(p["element"], p["line"]) for p in problem["problems"]] == [("Rule_small", 12)]  # the rule's line
    unclosed = assert_problem(
        client.post(f"{API}/definitions", files={"file": ("fees.dmn", fees()[:400])}), 400, "MODEL_PARSE_ERROR"
    )
    assert unclosed["line"] is not None
    assert snapshot(legato) == before
    assert legato.store.decisions.list() == []


def test_a_business_rule_task_runs_and_its_evaluation_is_listed(client: TestClient) -> None:
    deploy_fees(client)
    response = client.post(f"{API}/definitions", files={"file": ("checkout.yaml", CHECKOUT_YAML)})
    assert response.status_code == 201, response.text
    started = client.post(f"{API}/definitions/checkout/instances", json={"variables": {"total": 20}}).json()
    instance_id = started["instance_id"]
    done = eventually(lambda: (i := client.get(f"{API}/instances/{instance_id}").json())["status"] == "completed" and i)
    assert done["variables"] == {"total": 20, "fee": 5}
    items = client.get(f"{API}/decisions/evaluations", params={"instance_id": instance_id}).json()["items"]
    assert [(e["element"], e["decision"], e["value"], e["matched_rules"], e["attempt"]) for e in items] == [
        ("price", "Decision_fee", 5, ["Rule_small"], 1)
    ]
    assert client.get(f"{API}/decisions/evaluations").json()["items"] == items
