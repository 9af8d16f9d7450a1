"""Deploying models over HTTP: uploads and raw bodies, versions, and every refusal."""

from __future__ import annotations

import dataclasses
from typing import Any

from api_helpers import API, ORDER_YAML, TestClient, assert_problem, order_definition, order_json, snapshot

from legato.runtime.app import Legato, serialize_source


def test_a_multipart_upload_deploys_and_an_unchanged_redeploy_is_a_no_op(client: TestClient) -> None:
    first = client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
    assert first.status_code == 201
    body = first.json()
    assert body["key"] == "order" and body["version"] == 1 and body["created"] is True
    assert body["source_format"] == "yaml"
    assert first.headers["location"] == f"{API}/definitions/order?version=1"

    again = client.post(f"{API}/definitions", files={"file": ("order.yml", ORDER_YAML)})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["id"] == body["id"]


def test_raw_bodies_deploy_by_content_type(client: TestClient) -> None:
    as_yaml = client.post(f"{API}/definitions", content=ORDER_YAML, headers={"content-type": "application/yaml"})
    assert as_yaml.status_code == 201, as_yaml.text
    changed = client.post(
        f"{API}/definitions",
        content=order_json(name="Order, renamed"),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert changed.status_code == 201, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["source_format"] == "json"


def test_listing_reading_and_source(client: TestClient) -> None:
    client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
    client.post(f"{API}/definitions", files={"file": ("order.json", order_json(name="Order v2"))})

    latest = client.get(f"{API}/definitions").json()["items"]
    assert [(d["key"], d["version"]) for d in latest] == [("order", 2)]
    every = client.get(f"{API}/definitions", params={"all_versions": "true"}).json()["items"]
    assert [(d["key"], d["version"]) for d in every] == [("order", 1), ("order", 2)]

    detail = client.get(f"{API}/definitions/order").json()
    assert detail["version"] == 2 and detail["name"] == "Order v2"
    assert {e["id"] for e in detail["model"]["elements"]} >= {"received", "check", "approve"}
    first = client.get(f"{API}/definitions/order", params={"version": 1}).json()
    assert first["version"] == 1 and first["name"] == "Order"

    source = client.get(f"{API}/definitions/order/source", params={"version": 1})
    assert source.status_code == 200
    assert source.headers["content-type"].startswith("application/yaml")
    assert source.text == ORDER_YAML  # as uploaded, comments and all


def test_unknown_definitions_are_404(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/definitions/nope"), 404, "DEFINITION_NOT_FOUND")
    assert_problem(client.get(f"{API}/definitions/nope/source"), 404, "DEFINITION_NOT_FOUND")
    client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
    missing = client.get(f"{API}/definitions/order", params={"version": 7})
    assert assert_problem(missing, 404, "DEFINITION_NOT_FOUND")["version"] == 7


def test_malformed_yaml_is_refused_with_its_line(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    broken = "process: x\nsteps:\n  - start: a\n  - service: b\n    task_type: [\n"
    response = client.post(f"{API}/definitions", files={"file": ("x.yaml", broken)})
    problem = assert_problem(response, 400, "MODEL_PARSE_ERROR")
    assert problem["line"] == 6
    assert "line 6" in problem["detail"]
    assert snapshot(legato) == before


def test_an_invalid_model_is_refused_listing_every_problem(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    invalid = (
        "process: x\nsteps:\n  - start: a\n  - user: b\n    next: nowhere\n"
        "  - user: c\n    next: elsewhere\n  - end: d\n"
    )
    response = client.post(f"{API}/definitions", content=invalid, headers={"content-type": "application/yaml"})
    problem = assert_problem(response, 400, "MODEL_INVALID")
    problems = {(p["element"], p["line"]) for p in problem["problems"]}
    assert problems == {("b", 5), ("c", 7)}
    assert snapshot(legato) == before


def test_an_invalid_json_model_is_refused(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    no_start = '{"id": "x", "elements": [{"kind": "endEvent", "id": "e"}]}'
    response = client.post(f"{API}/definitions", content=no_start, headers={"content-type": "application/json"})
    problem = assert_problem(response, 400, "MODEL_INVALID")
    assert "no start event" in problem["problems"][0]["message"]
    garbled = client.post(f"{API}/definitions", content='{"id": ', headers={"content-type": "application/json"})
    assert_problem(garbled, 400, "MODEL_PARSE_ERROR")
    assert snapshot(legato) == before


def test_uploads_the_server_cannot_read_are_refused(client: TestClient, legato: Legato) -> None:
    before = snapshot(legato)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"files": {"file": ("order.txt", ORDER_YAML)}}, "cannot tell the format"),
        ({"files": {"model": ("order.yaml", ORDER_YAML)}}, "field named 'file'"),
        ({"content": ORDER_YAML, "headers": {"content-type": "text/plain"}}, "text/plain"),
        ({"content": ORDER_YAML}, "cannot deploy a body"),
        ({"content": b"\xff\xfe\x00", "headers": {"content-type": "application/yaml"}}, "UTF-8"),
        ({"content": "  \n", "headers": {"content-type": "application/yaml"}}, "empty"),
    ]
    for request, detail in cases:
        problem = assert_problem(client.post(f"{API}/definitions", **request), 400, "INVALID_INPUT")
        assert detail in problem["detail"], (request, problem)
    assert snapshot(legato) == before


def test_a_path_in_the_body_is_text_never_a_file_on_the_server(client: TestClient, tmp_path: Any) -> None:
    """`Legato.deploy("x.yaml")` reads a file; the API must not let a caller name one."""
    secret = tmp_path / "secret.yaml"
    secret.write_text(ORDER_YAML)
    response = client.post(f"{API}/definitions", content=str(secret), headers={"content-type": "application/yaml"})
    assert response.status_code == 400
    assert "order" not in response.text.replace("secret", "")


def test_model_uploads_may_be_larger_than_commands_but_not_unlimited(client: TestClient, legato: Legato) -> None:
    # 2 MB: over the limit for commands, under the one for models. (JSON: the YAML reader
    # has a 1 MiB limit of its own.)
    large = order_definition()
    large = dataclasses.replace(large, documentation="x" * 2_000_000)
    fits = client.post(f"{API}/definitions", files={"file": ("order.json", serialize_source(large))})
    assert fits.status_code == 201, fits.text
    before = snapshot(legato)
    huge = "#" + "x" * (5 * 1024 * 1024) + "\n" + ORDER_YAML
    response = client.post(f"{API}/definitions", files={"file": ("order.yaml", huge)})
    problem = assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert problem["limit"] == 5 * 1024 * 1024
    assert snapshot(legato) == before
