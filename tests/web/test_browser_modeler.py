"""The modeler in a real chromium: draw a process (start event, service task, end event,
connected), set its job type in the properties panel, validate on the server, deploy it as
a version, start it through the API and see it run; a broken model refused with the
problem shown on the element at fault; a deployed version opened, edited and deployed as
the next one; a viewer offered no edit or deploy and refused by the API anyway."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_helpers import LiveServer, log_in, screenshot

from legato.errors import ModelInvalid
from legato.runtime.app import Legato, parse_model_with_warnings

# Drawing through bpmn-js's own API (the modeler keeps itself on its canvas element):
# what a palette drag does, without pixel positions that a layout change would break.
DRAW = """
({ key, name, taskName, taskType }) => {
  const modeler = document.querySelector('[data-testid="modeler"]').bpmnModeler;
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  const canvas = modeler.get('canvas');
  modeling.updateProperties(canvas.getRootElement(), { id: key, name });
  const start = registry.get('StartEvent_1');
  const task = modeling.appendShape(start, { type: taskType || 'bpmn:ServiceTask' }, { x: 320, y: 120 });
  modeling.updateLabel(task, taskName);
  const end = modeling.appendShape(task, { type: 'bpmn:EndEvent' }, { x: 480, y: 120 });
  modeling.updateLabel(end, 'Done');
  modeler.get('selection').select(task);
  return task.id;
}
"""


def open_modeler(page: Any) -> None:
    page.get_by_role("link", name="Modeler").click()
    expect(page.get_by_test_id("modeler")).to_have_attribute("data-imported", "yes")


def test_draw_validate_deploy_start_and_see_it_run(page: Any, live_server: LiveServer) -> None:
    legato: Legato = live_server.legato
    log_in(page, "admin")
    open_modeler(page)
    expect(page.get_by_label("Execution attributes")).to_have_value("camunda8")
    task = page.evaluate(DRAW, {"key": "drawn_flow", "name": "Drawn flow", "taskName": "Do the work"})
    expect(page.locator(f'.djs-element[data-element-id="{task}"]')).to_be_visible()
    expect(page.get_by_test_id("lint")).to_contain_text(f"{task}: no task type: the process cannot run until")

    # without a job type it deploys, but as a process that cannot run: said on the element
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("It could not run yet: 1 element(s) need more")
    expect(page.locator(f'.legato-problem-warning[data-element="{task}"]')).to_contain_text("task type")

    # the job type, in the Camunda 8 properties panel: the attribute Legato reads
    panel = page.get_by_role("complementary", name="Properties of the selected element")
    panel.get_by_text("Task definition", exact=True).click()
    panel.get_by_label("Job type").fill("test.charge")  # the server's handler (conftest): charges a valid card
    panel.get_by_label("Retries").fill("2")
    panel.get_by_text("Legato", exact=True).click()  # what only Legato's namespace says
    panel.get_by_label("Timeout (seconds)").fill("30")
    expect(page.get_by_test_id("lint-summary")).to_have_text("0 error(s), 0 warning(s)")

    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_test_id("verdict")).to_have_text(re.compile(r"Valid: a deploy would create drawn_flow v1\."))
    screenshot(page, "modeler")
    page.get_by_role("button", name="Deploy").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("Deployed drawn_flow v1.")
    stored = legato.store.definitions.get("drawn_flow")
    assert stored.version == 1
    task_element = stored.model.elements[task]
    assert task_element.task_type == "test.charge"
    assert task_element.retry.max_attempts == 2
    assert task_element.timeout == 30

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "legato_csrf")
    started = page.request.post(
        "/api/v1/definitions/drawn_flow/instances",
        headers={"X-CSRF-Token": csrf},
        data={"variables": {"card": "valid"}},
    )
    assert started.status == 201, started.text()
    instance_id = started.json()["instance_id"]
    live_server.wait_for(lambda: legato.instance(instance_id)["status"] == "completed")
    assert legato.instance(instance_id)["variables"]["charged"] is True

    page.get_by_role("link", name="Open drawn_flow v1").click()
    expect(page.get_by_test_id("diagram")).to_have_attribute("data-imported", "yes")
    expect(page.get_by_test_id("process-summary")).to_contain_text("1 completed")
    assert page.problems.unexpected() == []


def test_a_broken_model_is_refused_with_the_problem_on_the_element(page: Any, live_server: LiveServer) -> None:
    log_in(page, "admin")
    open_modeler(page)
    # a Camunda 7 script task in Groovy, written in the Camunda 7 properties panel
    page.get_by_label("Execution attributes").select_option("camunda7")
    expect(page.get_by_test_id("modeler")).to_have_attribute("data-imported", "yes")
    task = page.evaluate(
        DRAW, {"key": "broken_flow", "name": "Broken", "taskName": "Groovy", "taskType": "bpmn:ScriptTask"}
    )
    panel = page.get_by_role("complementary", name="Properties of the selected element")
    panel.get_by_text("Script", exact=True).first.click()
    panel.get_by_label("Format").fill("groovy")
    panel.get_by_label("Type", exact=True).select_option("script")  # an inline script
    panel.get_by_label("Script", exact=True).fill("execution.setVariable('total', 1)")
    expect(page.get_by_test_id("lint")).to_contain_text(f"{task}: groovy cannot run in Legato")

    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("A deploy would refuse this: 1 problem(s).")
    badge = page.locator(f'.legato-problem[data-element="{task}"]')
    expect(badge).to_contain_text("groovy")
    expect(page.locator(f'.djs-element.legato-invalid[data-element-id="{task}"]')).to_be_visible()
    expect(page.get_by_test_id("problems")).to_contain_text(task)
    screenshot(page, "modeler-refused")

    page.get_by_role("button", name="Deploy").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("Not deployed")
    expect(badge).to_be_visible()
    assert page.request.get("/api/v1/definitions/broken_flow").status == 404  # nothing was stored
    assert page.problems.unexpected() == []


def test_a_deployed_version_is_edited_and_deployed_as_the_next_version(page: Any, live_server: LiveServer) -> None:
    log_in(page, "admin")
    page.goto("/processes/payment")
    page.get_by_role("link", name="Edit in the modeler").click()
    expect(page).to_have_url(re.compile(r"/processes/payment/edit\?version=1"))
    expect(page.get_by_test_id("modeler")).to_have_attribute("data-imported", "yes")
    expect(page.get_by_test_id("opened-from")).to_have_text("from payment v1")
    page.evaluate(
        """() => {
          const modeler = document.querySelector('[data-testid="modeler"]').bpmnModeler;
          const task = modeler.get('elementRegistry').get('charge_card');
          modeler.get('modeling').updateLabel(task, 'Charge the card');
        }"""
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "payment.bpmn"
    page.get_by_role("button", name="Deploy").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("Deployed payment v2.")
    charge = live_server.legato.store.definitions.get("payment").model.elements["charge_card"]
    assert charge.name == "Charge the card"
    assert (charge.task_type, charge.retry.max_attempts) == ("test.charge", 1)  # kept through the editor
    assert page.problems.unexpected() == []


def test_a_viewer_sees_no_edit_or_deploy_and_the_api_refuses_it(page: Any, live_server: LiveServer) -> None:
    log_in(page, "vera")
    expect(page.get_by_role("link", name="Modeler")).to_have_count(0)
    expect(page.get_by_role("link", name="New process")).to_have_count(0)
    page.goto("/processes/payment")
    expect(page.get_by_test_id("diagram")).to_have_attribute("data-imported", "yes")
    expect(page.get_by_role("link", name="Edit in the modeler")).to_have_count(0)

    page.goto("/modeler")
    expect(page.get_by_test_id("modeler")).to_have_attribute("data-imported", "yes")
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
    expect(page.get_by_role("button", name="Validate")).to_have_count(0)

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "legato_csrf")
    xml = page.evaluate(
        """async () => (await document.querySelector('[data-testid="modeler"]').bpmnModeler.saveXML()).xml"""
    )
    for path in ("/api/v1/definitions/validate", "/api/v1/definitions"):
        answer = page.request.post(
            path,
            headers={"X-CSRF-Token": csrf},
            multipart={"file": {"name": "new.bpmn", "mimeType": "application/xml", "buffer": xml.encode()}},
        )
        assert answer.status == 403, (path, answer.text())
        assert answer.json()["code"] == "PERMISSION_DENIED"


TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "web" / "src" / "modeler" / "templates").glob("*.bpmn"))


@pytest.mark.parametrize("path", [p for p in TEMPLATES if p.stem != "empty"], ids=lambda p: p.stem)
def test_every_template_but_the_empty_one_deploys_as_it_is_without_warnings(path: Path) -> None:
    definition, warnings = parse_model_with_warnings(path.read_text(), "bpmn")
    assert definition.id and warnings == []


def test_the_empty_template_is_refused_until_something_is_drawn() -> None:
    empty = next(p for p in TEMPLATES if p.stem == "empty")
    with pytest.raises(ModelInvalid, match="needs an outgoing flow"):
        parse_model_with_warnings(empty.read_text(), "bpmn")
