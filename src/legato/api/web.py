"""The browser app's files at `/`, beside the API under /api.

The app is a single-page app built from web/ into `legato/web_static` (setup.py's hook,
web/build.py). This module serves that folder last, after every API route and /docs:

- a file that exists is served; files under /assets/ carry a content hash in their names,
  so they are cached for a year (`immutable`); index.html is revalidated every time, so a
  new deployment is seen at the next page load;
- any other path that is not under /api is a client route (/instances/..., /login):
  index.html answers it and the app's router draws the screen;
- a path under /api that no route took stays a 404 problem document: the app never
  shadows the API, and an unknown asset is a 404, not a page of HTML.

The route is public like /docs: it is a plain Starlette route, outside the API routes that
`legato.api.security.authorize` guards, and it serves nothing but the app's own files.
Without a built app, `/` answers 503 with how to build it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parents[1] / "web_static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Legato: the browser app is not built</title></head>
<body><h1>The browser app is not built</h1>
<p>This server answers the API under <a href="/api/v1/health">/api/v1</a> (documented at
<a href="/docs">/docs</a>), but its package has no browser app. Build it from a checkout
with Node.js 20+ and npm: <code>python web/build.py</code> (or <code>pip install -e .</code>,
which does it), then restart <code>legato server</code>.</p></body></html>
"""


class AppFiles(StaticFiles):
    """StaticFiles with the single-page fallback and the caching rules above."""

    def __init__(self, directory: Path, api_prefix: str) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.api_root = api_prefix.strip("/").split("/", 1)[0]  # "api"

    async def check_config(self) -> None:
        """A missing folder is the "not built" page (get_response), not a crash of every request."""
        if Path(str(self.directory)).is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path in ("", "."):
            path = "index.html"
        first = path.split("/", 1)[0]
        if first == self.api_root:
            raise HTTPException(status_code=404)
        if not (Path(str(self.directory)) / "index.html").is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or first == "assets" or _looks_like_a_file(path):
                raise
            response = await super().get_response("index.html", scope)
        if first == "assets" and response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = REVALIDATE
        return response


class AppRoute(Route):
    """The catch-all, blind to the API's paths: `/api/...` never matches it, whatever the method,
    so an unknown API path is the router's 404 and a 405's Allow names only the API's methods."""

    def __init__(self, app: AppFiles, api_prefix: str) -> None:
        super().__init__("/{path:path}", app, methods=["GET", "HEAD"], name="web")
        self.api_root = "/" + api_prefix.strip("/").split("/", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = str(scope.get("path", ""))
        if path == self.api_root or path.startswith(self.api_root + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def _looks_like_a_file(path: str) -> bool:
    """`favicon.ico` or `robots.txt`: a miss is a 404, not the app (client routes have no dots)."""
    last = path.rsplit("/", 1)[-1]
    return "." in last


def install(app: FastAPI, *, api_prefix: str, directory: Path = STATIC_DIR) -> None:
    """Add the catch-all route; call it after every other route, since it takes what is left.

    A GET/HEAD route rather than a mount at `/`: a mount matches every method, so it would
    answer `DELETE /api/v1/tasks` with its 404 where the API's route says 405 and Allow.
    """
    app.router.routes.append(AppRoute(AppFiles(directory, api_prefix), api_prefix))


def is_built(directory: Path = STATIC_DIR) -> bool:
    return (directory / "index.html").is_file()
