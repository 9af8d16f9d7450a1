"""A person's first minutes with the app, in a real chromium: log in, see the processes and
where the demo's instances wait, click an element to list its instances, log out."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_helpers import LiveServer, log_in, screenshot


def start_orders(live: LiveServer, count: int) -> list[str]:
    ids = [live.legato.start("order_to_cash", {"amount": 120, "order_id": f"A-{n}"}).instance_id for n in range(count)]
    live.wait_for(lambda: all("delivered" in live.legato.instance(i)["waiting_at"] for i in ids))
    return ids


def test_log_in_see_the_demo_process_with_token_counts_and_its_waiting_instances(
    page: Any, live_server: LiveServer
) -> None:
    ids = start_orders(live_server, 2)
    page.goto("/processes")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fprocesses"))
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    screenshot(page, "login")

    log_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/processes$"))
    row = page.get_by_role("row", name=re.compile("Order to cash"))
    expect(row.get_by_role("cell").nth(3)).to_have_text("2")
    screenshot(page, "processes")

    row.get_by_role("link", name="Order to cash").click()
    diagram = page.get_by_test_id("diagram")
    expect(diagram).to_have_attribute("data-imported", "yes")
    badge = page.locator('.legato-tokens[data-element="delivered"]')
    expect(badge).to_have_text("2")
    expect(page.get_by_test_id("process-summary")).to_contain_text("2 active")
    screenshot(page, "process-diagram")

    page.locator('[data-element-id="delivered"]').first.click()
    expect(page).to_have_url(re.compile(r"/instances\?.*element=delivered"))
    table = page.get_by_test_id("instances")
    for instance_id in ids:
        expect(table.get_by_role("link", name=instance_id)).to_be_visible()
    assert page.problems.unexpected() == []

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile("/login"))
    page.goto("/processes")
    expect(page).to_have_url(re.compile("/login"))


def test_a_client_route_loaded_directly_is_the_app_and_an_unknown_one_says_not_found(
    page: Any, live_server: LiveServer
) -> None:
    log_in(page, "vera")
    page.goto("/no/such/screen")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert page.problems.unexpected() == []
