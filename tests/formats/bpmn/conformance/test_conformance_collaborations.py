"""Several pools in one file (BPMN 2.0.2, 9: collaborations), as Camunda Modeler draws them.

A shop and a warehouse run (isExecutable="true"), the customer's pool is drawn to explain
(isExecutable="false"). Deploying the file deploys every process of it: the two that run,
and the customer's journey as a model kept for viewing and export, which is refused only
when someone starts it, with the reason.
"""

from __future__ import annotations

import pytest
from conformance_helpers import FILES, imported

from legato import Legato
from legato.errors import DefinitionNotExecutable
from legato.runtime.handlers import Job


def test_every_pool_with_a_process_is_imported_the_executable_ones_first() -> None:
    found = imported("collaboration_camunda7")
    ids = [found.definition.id, *(other.definition.id for other in found.others)]
    assert ids == ["shop_order", "warehouse_dispatch", "customer_journey"]
    pools = {each.definition.id: each.definition.participant for each in (found, *found.others)}
    assert {key: pool.name for key, pool in pools.items() if pool is not None} == {
        "shop_order": "Shop",
        "warehouse_dispatch": "Warehouse",
        "customer_journey": "Customer",
    }
    journey = found.others[1].definition
    assert journey.not_executable and 'not marked isExecutable="true"' in journey.not_executable[0]
    assert not found.definition.not_executable and not found.others[0].definition.not_executable
    # each keeps its own part of the drawing
    assert found.definition.diagram is not None
    drawn = {shape.element for shape in found.definition.diagram.shapes}
    assert "Activity_notify_warehouse" in drawn and "Activity_pick" not in drawn


def test_deploying_the_file_deploys_each_process_and_they_run_together(app: Legato) -> None:
    deployment = app.deploy(FILES / "collaboration_camunda7.bpmn")
    assert [d.definition.key for d in (deployment, *deployment.others)] == [
        "shop_order",
        "warehouse_dispatch",
        "customer_journey",
    ]
    assert any(w.startswith("cannot run: 'customer_journey'") for w in deployment.others[1].warnings)

    @app.handler("warehouse.notify")
    def notify(job: Job) -> dict[str, object]:
        app.send_message("dispatch.requested", variables={"order": job.variables["order"]})
        return {}

    with app.running():
        order = app.send_message("order.placed", variables={"order": "O-1"})
        app.wait(order["instance_id"])
        dispatches = app.instances(process="warehouse_dispatch")
    assert len(dispatches) == 1 and dispatches[0]["waiting_at"] == ["Activity_pick"]


def test_the_documentation_pool_is_stored_and_refused_only_at_start(app: Legato) -> None:
    app.deploy(FILES / "collaboration_camunda7.bpmn")
    exported = app.export_bpmn("customer_journey")
    assert 'id="Activity_place"' in exported and 'isExecutable="false"' in exported
    with pytest.raises(DefinitionNotExecutable) as refused:
        app.start("customer_journey")
    assert refused.value.code == "DEFINITION_NOT_EXECUTABLE"
    assert "cannot run: 'customer_journey': the process is not marked isExecutable=\"true\"" in refused.value.message
    assert refused.value.details["reasons"] == list(app.store.definitions.get("customer_journey").model.not_executable)
