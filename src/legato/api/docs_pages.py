"""The API documentation pages, served from the package: Swagger UI at /docs, ReDoc at /redoc.

FastAPI's defaults load both from a CDN, so on a machine without internet (an operations
network, a laptop on a plane) /docs rendered blank. The assets come from the
`fastapi-offline` distribution on the package index, which ships Swagger UI's and ReDoc's
release bundles as plain files; we mount its static folder and render FastAPI's own page
templates against it, so no third-party asset lives in our tree and no page names a host
other than our own.

Both pages run one inline start-up script and ReDoc starts a web worker from a blob, so
they carry their own Content-Security-Policy (the hardening middleware keeps a policy a
response already has): scripts, styles and images from this server only.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH: Final = "/docs/assets"
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)


def install(app: FastAPI, *, openapi_url: str, title: str) -> None:
    """Mount the assets and add the two pages (Starlette routes: public, outside the API's permission table)."""
    folder = resources.files("fastapi_offline") / "static"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(folder)), name="docs-assets")

    def swagger() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        )
        page.headers["content-security-policy"] = DOCS_CSP
        return page

    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — API reference",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["content-security-policy"] = DOCS_CSP
        return page

    app.add_route("/docs", lambda _request: swagger(), include_in_schema=False)
    app.add_route("/redoc", lambda _request: redoc(), include_in_schema=False)
