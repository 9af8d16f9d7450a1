"""Screens follow what happens on the server without a reload (GET /api/v1/events)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_helpers import LiveServer, log_in, screenshot


def start_order(live: LiveServer, n: int) -> str:
    instance_id = live.legato.start("order_to_cash", {"amount": 120, "order_id": f"L-{n}"}).instance_id
    live.wait_for(lambda: "delivered" in live.legato.instance(instance_id)["waiting_at"])
    return instance_id


def test_the_diagram_counts_the_lists_follow_new_instances_live(page: Any, live_server: LiveServer) -> None:
    first = start_order(live_server, 1)
    log_in(page, "admin")
    expect(page.get_by_test_id("live")).to_have_text("Live", timeout=10_000)
    page.get_by_role("row", name=re.compile("Order to cash")).get_by_role("link", name="Order to cash").click()
    diagram = page.get_by_test_id("diagram")
    expect(diagram).to_have_attribute("data-imported", "yes")
    badge = page.locator('.legato-tokens[data-element="delivered"]')
    expect(badge).to_have_text("1")

    second = start_order(live_server, 2)  # started elsewhere: this page is not reloaded
    expect(badge).to_have_text("2", timeout=10_000)
    expect(page.get_by_test_id("process-summary")).to_contain_text("2 active")
    screenshot(page, "live-diagram")

    page.goto("/instances")
    table = page.get_by_test_id("instances")
    expect(table.get_by_role("link", name=first)).to_be_visible()
    third = start_order(live_server, 3)
    expect(table.get_by_role("link", name=third)).to_be_visible(timeout=10_000)
    expect(table.get_by_role("link", name=second)).to_be_visible()
    assert page.problems.unexpected() == []


def test_a_viewer_follows_too(page: Any, live_server: LiveServer) -> None:
    """Following the feed needs only `instances:read`, which the viewer role holds."""
    log_in(page, "vera")
    expect(page.get_by_test_id("live")).to_have_text("Live", timeout=10_000)
    assert page.problems.unexpected() == []
