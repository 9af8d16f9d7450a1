"""Values JSON and URLs allow but the databases cannot hold get a 400 naming the field, never a 500.

Integers past 64 bits, lone surrogates and NUL characters, in every place the issue found
them: variables of each route that takes them, integer query and path parameters, business
keys, ids, names and model text. Each case runs on SQLite and PostgreSQL, and a refused
request leaves everything stored as it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem, snapshot

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import Switch, install_handlers

BIG = 2**64
PAST_SIGNED = 2**63
JSON = {"content-type": "application/json"}


@pytest.fixture
def legato(database_url: str) -> Iterator[Legato]:
    app = Legato(database_url)
    install_handlers(app, Switch())
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers, raise_server_exceptions=False) as test_client:
        response = test_client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
        assert response.status_code == 201, response.text
        yield test_client


VARIABLE_ROUTES = {
    "start": ("/definitions/order/instances", "{}"),
    "message": ("/messages", '"name": "order.delivered", "correlation_key": "k", {}'),
    "signal": ("/signals", '"name": "go", {}'),
    "conditions": ("/conditions", "{}"),
    "decision": ("/decisions/credit_risk/evaluate", "{}"),
    "task": ("/tasks/nope/complete", "{}"),
}
BAD_VARIABLES = {
    "integer 2^64": (f'{{"amount": {BIG}}}', "/amount"),
    "integer below -2^63": (f'{{"amount": {-(PAST_SIGNED + 1)}}}', "/amount"),
    "nested integer": (f'{{"order": {{"lines": [1, {BIG}]}}}}', "/order/lines/1"),
    "lone surrogate": ('{"note": "a\\ud800b"}', "/note"),
    "low surrogate in a list": ('{"notes": ["ok", "\\udfff"]}', "/notes/1"),
    "lone surrogate in a key": ('{"k\\ud800": 1}', None),
}


def _body(template: str, variables: str) -> str:
    fields = template.replace("{}", f'"variables": {variables}')
    return "{" + fields + "}"


@pytest.mark.parametrize("route", sorted(VARIABLE_ROUTES))
@pytest.mark.parametrize("case", sorted(BAD_VARIABLES))
def test_unstorable_variables_are_a_400_naming_the_field(
    client: TestClient, legato: Legato, route: str, case: str
) -> None:
    path, template = VARIABLE_ROUTES[route]
    variables, pointer = BAD_VARIABLES[case]
    before = snapshot(legato)
    response = client.post(f"{API}{path}", content=_body(template, variables), headers=JSON)
    problem = assert_problem(response, 400, "VARIABLES_INVALID")
    assert problem["errors"][0]["field"] == "body.variables"
    if pointer is not None:
        assert problem["path"] == pointer
        assert pointer in problem["detail"]
    assert snapshot(legato) == before


def test_valid_edge_values_are_kept(client: TestClient, legato: Legato) -> None:
    """The checks refuse only what cannot be stored: the 64-bit edges and NUL in variables pass."""
    variables = {"max": 2**64 - 1, "min": -(2**63), "nul": "a\x00b", "k\x00": 1, "emoji": "\U0001f600"}
    response = client.post(f"{API}/definitions/order/instances", json={"variables": variables})
    assert response.status_code == 201, response.text
    stored = client.get(f"{API}/instances/{response.json()['instance_id']}").json()["variables"]
    assert {k: stored[k] for k in variables} == variables


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/instances?process=order&version={PAST_SIGNED}", "query.version"),
        (f"/instances?limit={BIG}", "query.limit"),
        (f"/definitions/order?version={PAST_SIGNED}", "query.version"),
        (f"/definitions/order/source?version={BIG}", "query.version"),
        (f"/definitions/order/bpmn?version={PAST_SIGNED}", "query.version"),
        (f"/incidents/{PAST_SIGNED}", "path.incident_id"),
        (f"/incidents/{BIG}", "path.incident_id"),
    ],
)
def test_integers_past_64_bits_in_the_url_are_a_400(client: TestClient, path: str, field: str) -> None:
    problem = assert_problem(client.get(f"{API}{path}"), 400, "INVALID_INPUT")
    assert problem["errors"][0]["field"] == field


def test_the_largest_stored_integer_is_answered(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/incidents/{PAST_SIGNED - 1}"), 404, "INCIDENT_NOT_FOUND")
    assert_problem(client.get(f"{API}/instances?process=order&version={PAST_SIGNED - 1}"), 404, "DEFINITION_NOT_FOUND")
    assert_problem(client.post(f"{API}/incidents/{PAST_SIGNED}/retry"), 400, "INVALID_INPUT")


def test_a_start_version_past_64_bits_is_a_400(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    response = client.post(f"{API}/definitions/order/instances", content=f'{{"version": {PAST_SIGNED}}}', headers=JSON)
    problem = assert_problem(response, 400, "INVALID_INPUT")
    assert problem["errors"][0]["field"] == "body.version"
    assert snapshot(legato) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/definitions/order/instances", '{"business_key": "a\\u0000b"}', "body.business_key"),
        ("POST", "/messages", '{"name": "order.\\u0000delivered"}', "body.name"),
        ("POST", "/messages", '{"name": "order.delivered", "correlation_key": "\\u0000"}', "body.correlation_key"),
        ("POST", "/signals", '{"name": "go\\u0000"}', "body.name"),
        ("POST", "/instances/x/cancel", '{"reason": "\\u0000"}', "body.reason"),
        ("POST", "/users", '{"username": "ann\\u0000", "password": "long enough 1"}', "body.username"),
        ("POST", "/roles", '{"role": "r", "permissions": ["instances:read", "a\\u0000"]}', "body.permissions"),
        ("POST", "/groups", '{"group": "g", "name": "\\u0000"}', "body.name"),
        ("POST", "/tokens", '{"name": "t\\u0000", "expires_in_days": 1}', "body.name"),
        ("POST", "/auth/login", '{"username": "admin\\u0000", "password": "x"}', "body.username"),
        ("GET", "/instances/a%00b", None, "path.instance_id"),
        ("GET", "/definitions/or%00der", None, "path.key"),
        ("GET", "/tasks/a%00", None, "path.task_id"),
        ("GET", "/users/ann%00", None, "path.username"),
        ("GET", "/instances?business_key=a%00b", None, "query.business_key"),
        ("GET", "/instances?process=%00", None, "query.process"),
        ("GET", "/incidents?instance_id=%00", None, "query.instance_id"),
        ("GET", "/decisions/evaluations?instance_id=%00", None, "query.instance_id"),
        ("POST", "/decisions/cre%00dit/evaluate", "{}", "path.decision_id"),
    ],
)
def test_nul_characters_in_keys_ids_and_names_are_a_400(
    client: TestClient, legato: Legato, method: str, path: str, body: str | None, field: str
) -> None:
    before = snapshot(legato)
    response = client.request(method, f"{API}{path}", content=body, headers=JSON if body else None)
    problem = assert_problem(response, 400, "INVALID_INPUT")
    assert field in [error["field"] for error in problem["errors"]], problem
    assert "NUL" in problem["detail"]
    assert snapshot(legato) == before


@pytest.mark.parametrize(
    ("media", "model", "element"),
    [
        ("application/yaml", ORDER_YAML.replace("name: Order\n", 'name: "Or\\0der"\n'), "order"),
        ("application/yaml", ORDER_YAML.replace("name: Approve order", 'name: "Approve\\0"'), "approve"),
        ("application/yaml", ORDER_YAML.replace("message: order.delivered", 'message: "order.\\0delivered"'), None),
        ("application/yaml", ORDER_YAML.replace("name: Approve order", 'name: "Approve \\ud800"'), "approve"),
    ],
)
def test_nul_characters_in_model_text_are_refused_at_deploy(
    client: TestClient, legato: Legato, media: str, model: str, element: str | None
) -> None:
    before = snapshot(legato)
    response = client.post(
        f"{API}/definitions", content=model.encode("utf-8", "surrogatepass"), headers={"content-type": media}
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] in ("MODEL_INVALID", "MODEL_PARSE_ERROR"), problem
    if problem["code"] == "MODEL_INVALID" and element is not None:
        assert element in [p["element"] for p in problem["problems"]], problem
    assert snapshot(legato) == before


def test_nul_in_a_json_model_names_the_element(client: TestClient, legato: Legato) -> None:
    model = client.get(f"{API}/definitions/order").json()["model"]
    for element in model["elements"]:
        if element["id"] == "approve":
            element["name"] = "Approve\x00"
    before = snapshot(legato)
    problem = assert_problem(client.post(f"{API}/definitions", json=model), 400, "MODEL_INVALID")
    assert problem["problems"][0]["element"] == "approve"
    assert "NUL" in problem["problems"][0]["message"]
    assert snapshot(legato) == before


def test_405_lists_every_method_the_path_serves(client: TestClient) -> None:
    response = client.put(f"{API}/definitions")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert [m.strip() for m in response.headers["allow"].split(",")] == ["GET", "POST"]
    response = client.delete(f"{API}/instances")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


# -- the store's own defence, for values that do not come through the API ---------------------


def test_python_api_variables_name_the_path(client: TestClient, legato: Legato) -> None:
    from legato.errors import VariablesInvalid

    with pytest.raises(VariablesInvalid, match="/lines/0") as caught:
        legato.start("order", {"lines": [BIG]})
    assert caught.value.details["path"] == "/lines/0"
    with pytest.raises(VariablesInvalid, match="surrogate"):
        legato.start("order", {"note": "\ud800"})


def test_store_refuses_what_the_database_cannot_hold(client: TestClient, legato: Legato) -> None:
    from legato.errors import IncidentNotFound, InstanceNotFound, ValueNotStorable

    # SQLite cannot bind an integer past 64 bits; PostgreSQL compares it as a numeric.
    refused = ValueNotStorable if legato.store.database.is_sqlite else IncidentNotFound
    with pytest.raises(refused) as caught:
        legato.store.queries.incident(PAST_SIGNED)
    assert caught.value.status in (400, 404)
    if legato.store.database.is_sqlite:  # SQLite keeps NUL in text; PostgreSQL refuses it
        with pytest.raises(InstanceNotFound):
            legato.instance("a\x00b")
    else:
        with pytest.raises(ValueNotStorable, match="NUL"):
            legato.instance("a\x00b")
        before = legato.store.queries.count_instances()
        with pytest.raises(ValueNotStorable, match="NUL"):
            legato.start("order", {}, business_key="a\x00b")
        assert legato.store.queries.count_instances() == before
