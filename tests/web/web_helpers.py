"""What the browser tests share: the app's build, the users, logging in, screenshots."""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from legato.runtime.app import Legato

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = Path(os.environ.get("LEGATO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORDS = {"admin": "admin-password-1", "olga": "operator-password-1", "vera": "viewer-password-1"}


# A process of the tests' own whose one step fails into an incident (no retries) until the
# variable `card` is "valid": the incident a person repairs in the browser.
PAYMENT_YAML = """
process: payment
name: Payment
steps:
  - start: payment_received
  - service: charge_card
    name: Charge card
    task_type: test.charge
    retry: {max_attempts: 1}
  - end: paid
"""


def charge_card(job: Any) -> dict[str, Any]:
    card = job.variables.get("card")
    if card != "valid":
        raise ValueError(f"card {card!r} was declined")
    return {"charged": True}


def missing(reason: str) -> None:
    """Skip for a missing tool, or fail where CI says every tool must be there."""
    if os.environ.get("LEGATO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (LEGATO_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def web_build() -> Any:
    """web/build.py, the build that setup.py's hook runs."""
    spec = importlib.util.spec_from_file_location("legato_web_build", WEB / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class LiveServer:
    url: str
    legato: Legato

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"not within {timeout}s: {predicate}")


class Problems:
    """What the page said went wrong: console errors (CSP violations among them) and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.messages.append(m.text))
        page.on("pageerror", lambda e: self.messages.append(str(e)))

    def unexpected(self) -> list[str]:
        # a refused action or an expired session logs the failed request: that is expected
        return [m for m in self.messages if "Failed to load resource" not in m]


def log_in(page: Any, username: str) -> None:
    page.goto("/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("whoami").wait_for()


def screenshot(page: Any, name: str) -> None:
    """Keep a picture of the screen for the docs.

    It is written into docs/screenshots/ when missing or with LEGATO_UPDATE_SCREENSHOTS=1;
    otherwise beside the test run only, so that running the suite leaves the checkout clean
    (every run's timestamps would change every picture).
    """
    target = SCREENSHOTS / f"{name}.png"
    if target.exists() and os.environ.get("LEGATO_UPDATE_SCREENSHOTS") != "1":
        target = Path(tempfile.gettempdir()) / "legato-screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
