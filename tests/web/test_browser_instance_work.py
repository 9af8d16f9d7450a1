"""An instance's screen says what it waits for: the timers with their due times and the
message with its correlation key, so an operator sees why it is not moving."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from web_helpers import LiveServer, log_in, screenshot


def test_an_instance_lists_its_timer_and_the_message_it_waits_for(page: Any, live_server: LiveServer) -> None:
    live = live_server
    instance_id = live.legato.start("order_to_cash", {"amount": 120, "order_id": "W-1"}).instance_id
    live.wait_for(lambda: "delivered" in live.legato.instance(instance_id)["waiting_at"])
    log_in(page, "olga")
    page.goto(f"/instances/{instance_id}")
    work = page.get_by_test_id("work")
    expect(work.get_by_role("heading", name="Waiting for")).to_be_visible()
    timer = work.get_by_test_id("job").filter(has_text="delivery_overdue")
    expect(timer).to_contain_text("Timer")
    message = work.get_by_test_id("subscription")
    expect(message).to_contain_text("order.delivered")
    expect(message).to_contain_text("W-1")
    expect(page.get_by_test_id("diagram")).to_have_attribute("data-imported", "yes")
    screenshot(page, "instance-waiting-for")
    assert page.problems.unexpected() == []
