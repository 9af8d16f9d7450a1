"""An operator's bad day, in a real chromium: an instance on its diagram with its timeline;
an incident repaired by editing a variable (a typo refused at the field first) and retried
until the instance completes; a retry with changed variables; a viewer who is offered no
change and whom the API refuses anyway; the instance screen on a phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_helpers import LiveServer, log_in, screenshot


def with_incident(live: LiveServer, card: str = "expired") -> str:
    instance_id = live.legato.start("payment", {"card": card, "amount": 42}).instance_id
    live.wait_for(lambda: live.legato.instance(instance_id)["incidents"])
    return str(instance_id)


def order_waiting_for_delivery(live: LiveServer) -> str:
    instance_id = live.legato.start("order_to_cash", {"amount": 120, "order_id": "B-7"}).instance_id
    live.wait_for(lambda: "delivered" in live.legato.instance(instance_id)["waiting_at"])
    return str(instance_id)


def test_an_instance_shows_where_it_waits_the_path_it_took_and_its_timeline(page: Any, live_server: LiveServer) -> None:
    instance_id = order_waiting_for_delivery(live_server)
    log_in(page, "admin")
    page.get_by_role("link", name="Instances").click()
    page.get_by_role("link", name=instance_id).click()
    expect(page.get_by_test_id("diagram")).to_have_attribute("data-imported", "yes")
    expect(page.locator('g.djs-element.legato-active[data-element-id="delivered"]')).to_have_count(1)
    expect(page.locator('g.djs-element.legato-taken[data-element-id="check_credit"]')).to_have_count(1)
    expect(page.locator("g.djs-connection.legato-taken").first).to_be_attached()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Completed check_credit")
    expect(timeline).to_contain_text('"credit_approved":true')
    expect(page.get_by_test_id("waiting-at")).to_contain_text("delivered")
    screenshot(page, "instance")
    assert page.problems.unexpected() == []


def test_an_operator_repairs_an_incident_by_editing_a_variable_and_retrying(page: Any, live_server: LiveServer) -> None:
    instance_id = with_incident(live_server)
    log_in(page, "olga")
    page.get_by_role("link", name="Incidents").click()
    row = page.get_by_test_id("incidents").get_by_role("row", name=re.compile(instance_id))
    expect(row).to_contain_text("card 'expired' was declined")
    screenshot(page, "incidents")
    row.get_by_role("link", name=instance_id).click()

    expect(page.locator('g.djs-element.legato-incident[data-element-id="charge_card"]')).to_have_count(1)
    page.get_by_role("button", name="Edit card").click()
    editor = page.get_by_label("New value of card (JSON)")
    editor.fill("valid")  # a typo: a string without its quotes
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Not valid JSON")
    assert live_server.legato.instance(instance_id)["variables"]["card"] == "expired"  # nothing was sent

    editor.fill('"valid"')
    page.get_by_role("button", name="Save").click()
    card_row = page.locator('tr[data-variable="card"]')
    expect(card_row).to_contain_text('"valid"')
    screenshot(page, "instance-incident")

    page.get_by_role("button", name="Retry charge_card").click()
    expect(page.locator(".badge").first).to_have_text("completed", timeout=20_000)
    expect(page.get_by_test_id("timeline")).to_contain_text("Variables changed")
    assert live_server.legato.instance(instance_id)["status"] == "completed"
    history = live_server.legato.instance(instance_id)["history"]
    changed = next(e for e in history if e["type"] == "variables_changed")
    assert changed["actor"] == "olga"
    assert page.problems.unexpected() == []


def test_retry_with_changed_variables_sets_them_in_the_same_step(page: Any, live_server: LiveServer) -> None:
    instance_id = with_incident(live_server)
    log_in(page, "olga")
    page.goto("/incidents")
    row = page.get_by_test_id("incidents").get_by_role("row", name=re.compile(instance_id))
    row.get_by_role("button", name="Retry with changed variables…").click()
    fix = row.get_by_label("Variables to set before the retry (a JSON object)")
    fix.fill('["valid"]')
    row.get_by_role("button", name="Set and retry").click()
    expect(row.get_by_role("alert")).to_contain_text("JSON object")
    fix.fill('{"card": "valid"}')
    row.get_by_role("button", name="Set and retry").click()
    live_server.wait_for(lambda: live_server.legato.instance(instance_id)["status"] == "completed")
    assert live_server.legato.instance(instance_id)["variables"]["card"] == "valid"


def test_a_viewer_is_offered_no_change_and_the_api_refuses_one(page: Any, live_server: LiveServer) -> None:
    instance_id = with_incident(live_server)
    log_in(page, "vera")
    page.goto(f"/instances/{instance_id}")
    expect(page.get_by_test_id("variables")).to_contain_text("card")
    expect(page.get_by_test_id("incident")).to_contain_text("declined")
    for name in ("Edit card", "Delete card", "Retry charge_card", "Add", "Cancel instance"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    screenshot(page, "instance-viewer")

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "legato_csrf")
    incident = live_server.legato.instance(instance_id)["incidents"][0]["id"]
    refused = page.request.post(f"/api/v1/incidents/{incident}/retry", headers={"X-CSRF-Token": csrf})
    assert refused.status == 403 and refused.json()["code"] == "PERMISSION_DENIED"
    refused = page.request.patch(
        f"/api/v1/instances/{instance_id}/variables", headers={"X-CSRF-Token": csrf}, data={"set": {"card": "valid"}}
    )
    assert refused.status == 403
    assert live_server.legato.instance(instance_id)["variables"]["card"] == "expired"


def test_the_instance_screen_fits_a_phone_and_the_login_works_by_keyboard(phone: Any, live_server: LiveServer) -> None:
    instance_id = with_incident(live_server)
    phone.goto(f"/instances/{instance_id}")
    phone.get_by_label("User name").wait_for()
    phone.keyboard.type("olga")
    phone.keyboard.press("Tab")
    phone.keyboard.type("operator-password-1")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name=instance_id)).to_be_visible()
    expect(phone.get_by_test_id("diagram")).to_have_attribute("data-imported", "yes")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    screenshot(phone, "instance-phone")
