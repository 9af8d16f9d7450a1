"""Host names, origins and security headers: what a browser-facing API must refuse and send."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem

from legato.api import create_app
from legato.api.docs_pages import DOCS_CSP
from legato.runtime.app import Legato
from legato.testing.identity import admin_headers


@pytest.fixture
def guarded(legato: Legato) -> Iterator[TestClient]:
    app = create_app(legato, allowed_hosts=["testserver", "127.0.0.1"], cors_origins=["https://app.example.com"])
    with TestClient(app, headers=admin_headers(legato)) as client:
        yield client


def test_a_foreign_host_name_is_refused_before_any_route(guarded: TestClient) -> None:
    assert guarded.get(f"{API}/health").status_code == 200
    assert guarded.get(f"{API}/health", headers={"Host": "127.0.0.1:8080"}).status_code == 200
    rebound = guarded.get(f"{API}/instances", headers={"Host": "evil.example:8080"})
    assert_problem(rebound, 400, "HOST_NOT_ALLOWED")


def test_another_sites_page_cannot_post_a_deploy(guarded: TestClient) -> None:
    upload = {"file": ("order.yaml", ORDER_YAML)}
    refused = guarded.post(f"{API}/definitions", files=upload, headers={"Origin": "https://evil.example"})
    assert_problem(refused, 403, "ORIGIN_REFUSED")
    assert guarded.get(f"{API}/definitions").json()["items"] == []
    same_site = guarded.post(f"{API}/definitions", files=upload, headers={"Origin": "http://testserver"})
    assert same_site.status_code == 201, same_site.text
    listed = guarded.post(f"{API}/signals", json={"name": "x"}, headers={"Origin": "https://app.example.com"})
    assert listed.status_code == 200, listed.text


def test_cors_is_off_by_default_and_answers_only_configured_origins(legato: Legato, guarded: TestClient) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    allowed = guarded.options(f"{API}/signals", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    other = guarded.options(f"{API}/signals", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(legato), headers=admin_headers(legato)) as plain:
        answer = plain.get(f"{API}/instances", headers={"Origin": "https://app.example.com"})
        assert "access-control-allow-origin" not in answer.headers


def test_security_headers_on_api_answers_and_pages(guarded: TestClient) -> None:
    api = guarded.get(f"{API}/instances")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["x-frame-options"] == "DENY"
    assert api.headers["referrer-policy"] == "no-referrer"
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    problem = guarded.get(f"{API}/instances/nope")
    assert problem.headers["cache-control"] == "no-store"
    docs = guarded.get("/docs")
    assert docs.headers["content-security-policy"] == DOCS_CSP  # its own: scripts from this server only
    assert docs.headers["x-frame-options"] == "DENY"
