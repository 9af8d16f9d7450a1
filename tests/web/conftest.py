"""The browser app under test: built from web/, served by a real server on a loopback port.

`live_server` runs what `legato server` runs (the app with its in-process worker, the demo
deployed, sessions on) under uvicorn in a thread, with three users: `admin`, `olga` (the
operator role) and `vera` (viewer). `page` is a page of Debian's chromium, driven by
Playwright, at a desktop size; `phone` one at a phone's.

Without Node (to build the app) or chromium the tests skip, unless LEGATO_REQUIRE_SERVICES=1
(CI), where a missing tool is a failure.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORDS,
    PAYMENT_YAML,
    LiveServer,
    Problems,
    charge_card,
    missing,
    web_build,
)

from legato.access.authenticator import Authenticator
from legato.runtime.app import Legato


@pytest.fixture(scope="session")
def built_app() -> Path:
    build = web_build()
    try:
        return Path(build.ensure_built())
    except build.BuildError as exc:
        missing(str(exc))
        raise


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path, built_app: Path) -> Iterator[LiveServer]:
    import uvicorn

    from legato.api import create_app
    from legato.api.hardening import LOOPBACK_HOSTS
    from legato.cli import demo

    legato = Legato(str(tmp_path / "web.db"))
    demo.set_up(legato)
    legato.register("test.charge", charge_card)
    legato.deploy(PAYMENT_YAML, source_format="yaml")
    authenticator = Authenticator(legato.store, clock=legato.clock)
    for name, role in (("admin", "admin"), ("olga", "operator"), ("vera", "viewer")):
        user = authenticator.create_user(name, PASSWORDS[name], display_name=name.capitalize())
        authenticator.directory.grant(role, "user", user.id, now=authenticator.now())
    app = create_app(legato, worker=True, allowed_hosts=LOOPBACK_HOSTS, web_directory=built_app)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{port}", legato=legato)
    live.wait_for(lambda: server.started, timeout=30)
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        legato.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _page(browser: Any, live_server: LiveServer, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = Problems(page)
    yield page
    context.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    yield from _page(browser, live_server, {"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    yield from _page(browser, live_server, {"width": 390, "height": 844})
