"""A validate-only deploy (`POST /definitions/validate`): the deploy's checks, nothing stored.

The modeler's Validate button sends the drawing here and marks each problem on the element
it names, so every refusal a deploy would answer must come back as a problem, with its
element where it has one, and the database must be left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem, snapshot
from tenant_helpers import Tenanted, tenanted

from legato.runtime.app import Legato

FILES = Path(__file__).parent / "files"
SHIPPING = (FILES / "shipping_camunda8.bpmn").read_text(encoding="utf-8")  # Camunda Modeler 5, Camunda 8
BPMN = {"Content-Type": "application/bpmn+xml"}
DMN = (Path(__file__).parents[1] / "runtime" / "files" / "credit_risk.dmn").read_text(encoding="utf-8")


def broken_shipping() -> str:
    """What a person mid-way through drawing leaves: no job type (a warning: it cannot run), a message
    event without its message (refused)."""
    return SHIPPING.replace('<zeebe:taskDefinition type="parcel.pack" retries="3" />', "").replace(
        ' messageRef="Message_3ab"', ""
    )


def with_late_timer(text: str, duration: str) -> str:
    """A timer boundary event on the packing, as Camunda Modeler writes it."""
    return (
        text.replace(
            '<bpmn:endEvent id="Event_shipped" name="Shipped">',
            '<bpmn:boundaryEvent id="Event_late" attachedToRef="Activity_pack">'
            '<bpmn:outgoing>Flow_late</bpmn:outgoing><bpmn:timerEventDefinition id="TimerEventDefinition_1">'
            f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            '<bpmn:endEvent id="Event_late_end"><bpmn:incoming>Flow_late</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:endEvent id="Event_shipped" name="Shipped">',
        )
        .replace(
            '<bpmn:sequenceFlow id="Flow_0a1b2c3" sourceRef="StartEvent_1" targetRef="Activity_pack" />',
            '<bpmn:sequenceFlow id="Flow_0a1b2c3" sourceRef="StartEvent_1" targetRef="Activity_pack" />'
            '<bpmn:sequenceFlow id="Flow_late" sourceRef="Event_late" targetRef="Event_late_end" />',
        )
        .replace(
            'xmlns:modeler="http://camunda.org/schema/modeler/1.0"',
            'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        )
    )


def validate(client: TestClient, text: str, headers: dict[str, str] | None = None, **params: str) -> dict[str, Any]:
    response = client.post(f"{API}/definitions/validate", content=text, headers=headers or BPMN, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_valid_model_is_checked_and_nothing_is_stored(client: TestClient, legato: Legato) -> None:
    before, audited = snapshot(legato), legato.store.audit.count()
    answer = validate(client, SHIPPING)
    assert answer == {
        "valid": True,
        "kind": "process",
        "key": "shipping",
        "name": "Shipping",
        "version": 1,
        "unchanged": False,
        "problems": [],
        "warnings": [],
    }
    assert snapshot(legato) == before
    assert client.get(f"{API}/definitions").json()["items"] == []
    assert legato.store.audit.count() == audited  # a check is no operator action


def test_a_service_task_without_a_task_type_validates_as_a_model_that_cannot_run(client: TestClient) -> None:
    """Stored and shown, refused only at start (docs/bpmn.md): the check says so as a warning."""
    text = SHIPPING.replace('<zeebe:taskDefinition type="parcel.pack" retries="3" />', "")
    answer = validate(client, text)
    assert answer["valid"] is True and answer["problems"] == []
    [warning] = answer["warnings"]
    assert warning.startswith("cannot run: 'Activity_pack'") and "task type" in warning


def test_the_version_a_deploy_would_answer_follows_what_is_deployed(client: TestClient) -> None:
    assert client.post(f"{API}/definitions", content=SHIPPING, headers=BPMN).status_code == 201
    same = validate(client, SHIPPING)
    assert (same["valid"], same["version"], same["unchanged"]) == (True, 1, True)
    renamed = validate(client, SHIPPING.replace('name="Pack parcel"', 'name="Pack the parcel"'))
    assert (renamed["valid"], renamed["version"], renamed["unchanged"]) == (True, 2, False)
    as_upload = client.post(f"{API}/definitions/validate", files={"file": ("shipping.bpmn", SHIPPING)})
    assert as_upload.status_code == 200 and as_upload.json()["unchanged"] is True


def test_every_problem_a_deploy_refuses_comes_back_naming_its_element(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    answer = validate(client, broken_shipping())
    assert answer["valid"] is False and answer["key"] is None and answer["version"] is None
    by_element = {p["element"]: p for p in answer["problems"]}
    assert set(by_element) == {"Event_picked_up"}, answer["problems"]
    assert "messageRef" in by_element["Event_picked_up"]["message"]
    assert all(p["code"] == "MODEL_INVALID" and p["line"] for p in answer["problems"])

    # the deploy refuses the same model for the same reasons, and nothing was stored by either
    refused = assert_problem(
        client.post(f"{API}/definitions", content=broken_shipping(), headers=BPMN), 400, "MODEL_INVALID"
    )
    assert {p["element"] for p in refused["problems"]} == set(by_element)
    assert snapshot(legato) == before


def test_problems_found_after_reading_name_their_element_too(client: TestClient) -> None:
    # read fine, refused by the model's validation: a condition on a flow that does not parse
    gateway = SHIPPING.replace(
        '<bpmn:sequenceFlow id="Flow_2g7h8i9" sourceRef="Event_picked_up" targetRef="Event_shipped" />',
        '<bpmn:sequenceFlow id="Flow_2g7h8i9" sourceRef="Event_picked_up" targetRef="Event_shipped">'
        '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=amount &gt;</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>",
    ).replace(
        'xmlns:modeler="http://camunda.org/schema/modeler/1.0"',
        'xmlns:modeler="http://camunda.org/schema/modeler/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
    )
    answer = validate(client, gateway)
    assert answer["valid"] is False
    assert [p["element"] for p in answer["problems"]] == ["Flow_2g7h8i9"], answer["problems"]

    late = validate(client, with_late_timer(SHIPPING, "two days"))
    assert [p["element"] for p in late["problems"]] == ["Event_late"], late["problems"]
    assert "two days" in late["problems"][0]["message"] and late["problems"][0]["line"]
    assert validate(client, with_late_timer(SHIPPING, "P2D"))["valid"] is True

    yaml = validate(
        client, ORDER_YAML.replace("task_type: credit.check", "task_type: ''"), {"Content-Type": "application/yaml"}
    )
    assert yaml["valid"] is False
    assert [p["element"] for p in yaml["problems"]] == ["check"], yaml["problems"]


def test_text_that_does_not_parse_is_a_problem_with_its_line(client: TestClient) -> None:
    answer = validate(client, SHIPPING.replace("</bpmn:process>", "</bpmn:proces>"))
    assert answer["valid"] is False
    [problem] = answer["problems"]
    assert problem["code"] == "MODEL_PARSE_ERROR" and problem["element"] is None and problem["line"] == 25
    not_bpmn = validate(client, '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')
    assert not_bpmn["problems"][0]["code"] == "MODEL_PARSE_ERROR"


def test_a_request_without_a_readable_model_is_refused_as_a_deploy_would_be(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    assert_problem(
        client.post(f"{API}/definitions/validate", content=SHIPPING, headers={"Content-Type": "text/html"}),
        400,
        "INVALID_INPUT",
    )
    assert_problem(
        client.post(f"{API}/definitions/validate", files={"file": ("shipping.exe", SHIPPING)}), 400, "INVALID_INPUT"
    )
    assert_problem(
        client.post(f"{API}/definitions/validate", content=b"\xff\xfe<x/>", headers=BPMN), 400, "XML_ENCODING_INVALID"
    )
    assert_problem(client.post(f"{API}/definitions/validate", content="  ", headers=BPMN), 400, "INVALID_INPUT")
    huge = SHIPPING.replace("<bpmn:process ", "<!--" + "x" * (6 * 1024 * 1024) + "--><bpmn:process ")
    assert_problem(client.post(f"{API}/definitions/validate", content=huge, headers=BPMN), 413, "PAYLOAD_TOO_LARGE")
    assert_problem(
        client.post(f"{API}/definitions/validate", content=SHIPPING, headers=BPMN, params={"tenant": "nowhere"}),
        404,
        "TENANT_NOT_FOUND",
    )
    assert snapshot(legato) == before


def test_decisions_are_validated_too(client: TestClient) -> None:
    answer = validate(client, DMN, {"Content-Type": "application/xml"})
    assert (answer["valid"], answer["kind"]) == (True, "decisions")
    assert answer["key"]
    broken = validate(client, DMN.replace("</definitions>", "</definition>"), {"Content-Type": "application/xml"})
    assert broken["valid"] is False and broken["problems"][0]["code"] == "MODEL_PARSE_ERROR"
    assert client.get(f"{API}/decisions").json()["items"] == []


def test_a_viewer_may_not_validate(legato: Legato) -> None:
    from legato.access.authenticator import Authenticator
    from legato.api import create_app

    authenticator = Authenticator(legato.store, clock=legato.clock)
    viewer = authenticator.create_user("vera", "viewer-password-1")
    authenticator.directory.grant("viewer", "user", viewer.id, now=authenticator.now())
    with TestClient(create_app(legato)) as anonymous:
        login = anonymous.post(f"{API}/auth/login", json={"username": "vera", "password": "viewer-password-1"})
        csrf = login.json()["csrf_token"]
        refused = anonymous.post(
            f"{API}/definitions/validate", content=SHIPPING, headers={**BPMN, "X-CSRF-Token": csrf}
        )
        assert assert_problem(refused, 403, "PERMISSION_DENIED")["permission"] == "definitions:deploy"


ONBOARDING = (Path(__file__).parents[1] / "runtime" / "files" / "onboarding_fixed_tenant_camunda7.bpmn").read_text(
    encoding="utf-8"
)


@pytest.fixture
def t(tmp_path: Path) -> Iterator[Tenanted]:
    legato = Legato(str(tmp_path / "tenants.db"))
    try:
        yield from tenanted(legato)
    finally:
        legato.close()


def test_calls_into_tenants_are_checked_per_element(t: Tenanted) -> None:
    foreign = ONBOARDING.replace('camunda:calledElementTenantId="compliance"', 'camunda:calledElementTenantId="b"')
    answer = validate(
        t.alice, foreign.replace('camunda:decisionRefTenantId="compliance"', 'camunda:decisionRefTenantId="a"')
    )
    assert answer["valid"] is False
    assert [(p["element"], p["code"]) for p in answer["problems"]] == [("Activity_kyc", "TENANT_DENIED")]
    missing = validate(t.admin, ONBOARDING)  # "compliance" does not exist
    assert {(p["element"], p["code"]) for p in missing["problems"]} == {
        ("Activity_kyc", "TENANT_NOT_FOUND"),
        ("Activity_risk", "TENANT_NOT_FOUND"),
    }
    fine = ONBOARDING.replace('"compliance"', '"a"')
    assert validate(t.alice, fine)["valid"] is True
