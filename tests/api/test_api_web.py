"""The browser app's files at `/`: the SPA fallback, caching, the CSP, and the API never shadowed.

These use a small app folder of their own, so they need no Node; tests/web builds and
drives the real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem

from legato.api import create_app
from legato.runtime.app import Legato

INDEX = (
    '<!doctype html><html><body><div id="root"></div>'
    '<script type="module" src="/assets/app-1a2b3c.js"></script></body></html>'
)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "web_static"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "app-1a2b3c.js").write_text("console.log('app')")
    return folder


@pytest.fixture
def anonymous(legato: Legato, app_dir: Path) -> Any:
    with TestClient(create_app(legato, web_directory=app_dir)) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/processes", "/instances/01abc", "/login?next=%2Fincidents"])
def test_every_client_route_is_the_app_without_credentials(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_good_and_a_missing_one_is_a_404_not_the_page(anonymous: TestClient) -> None:
    asset = anonymous.get("/assets/app-1a2b3c.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_problem(anonymous.get("/assets/app-999999.js"), 404, "NOT_FOUND")
    assert_problem(anonymous.get("/favicon.ico"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path", ["/api", "/api/", f"{API}/nothing-here", f"{API}/instances/x/nothing", "/api/v2/instances"]
)
def test_the_app_never_answers_for_the_api(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code in (401, 404), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_api_routes_still_need_credentials(anonymous: TestClient) -> None:
    assert_problem(anonymous.get(f"{API}/instances"), 401, "AUTHENTICATION_REQUIRED")


def test_changes_to_app_paths_are_refused(anonymous: TestClient) -> None:
    assert_problem(anonymous.post("/processes"), 405, "METHOD_NOT_ALLOWED")
    # and a wrong method on an API path names only the API's methods, not the app's GET
    wrong = anonymous.delete(f"{API}/tasks")
    assert_problem(wrong, 405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "GET"


def test_the_app_gets_a_csp_that_allows_only_its_own_files(anonymous: TestClient) -> None:
    csp = anonymous.get("/").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in csp
    api_csp = anonymous.get(f"{API}/health").headers["content-security-policy"]
    assert api_csp == "default-src 'none'; frame-ancestors 'none'"
    assert anonymous.get("/docs").headers["content-security-policy"] != csp  # Swagger UI keeps a policy of its own


def test_the_app_is_not_in_the_openapi_document(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    assert all(path.startswith(API) for path in paths)


def test_without_a_built_app_the_root_says_how_to_build_it(legato: Legato, tmp_path: Path) -> None:
    with TestClient(create_app(legato, web_directory=tmp_path / "not-built")) as client:
        response = client.get("/")
        assert response.status_code == 503
        assert "python web/build.py" in response.text
        assert client.get(f"{API}/health").status_code == 200
