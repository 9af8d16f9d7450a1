"""The CLI says when jobs wait on a task type no live worker serves: start, show, incidents, workers;
and the demo's handlers stay registered while the demo is deployed."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import Run

from legato.cli import demo
from legato.examples import handlers as demo_handlers
from legato.runtime.app import Legato
from support import ORDER_YAML

FAX_YAML = """\
process: fax
steps:
  - start: received
  - service: send_fax
    task_type: fax.send
  - end: sent
"""
WARNING = "warning: no live worker serves task type 'fax.send': the job at 'send_fax' waits until a worker"


def test_start_show_incidents_and_workers_warn_about_a_task_type_nobody_serves(
    run: Run, legato: Legato, tmp_path: Path
) -> None:
    model = tmp_path / "fax.yaml"
    model.write_text(FAX_YAML)
    assert run("deploy", str(model)).exit_code == 0
    started = run("start", "fax")
    assert started.exit_code == 0, started.stderr
    assert started.stdout.startswith("started fax v1: instance ")
    assert started.stderr.startswith(WARNING)
    instance_id = started.stdout.split("instance ")[1].split(" ")[0]
    shown = run("show", instance_id)
    assert shown.exit_code == 0 and WARNING in shown.stderr
    incidents = run("incidents")
    assert incidents.stdout == "no open incidents\n" and incidents.stderr.startswith(WARNING)
    workers = run("workers")
    assert workers.exit_code == 0
    [line] = workers.stdout.splitlines()
    assert "[in-process]: credit.check, legato.decision, legato.message, ship; last seen " in line
    assert workers.stderr.startswith(WARNING)
    as_json = json.loads(run("workers", "--json").stdout)
    assert [w["task_type"] for w in as_json["unserved"]] == ["fax.send"]


def test_the_demo_handlers_are_registered_while_the_demo_is_deployed_beside_your_models(tmp_path: Path) -> None:
    legato = Legato(str(tmp_path / "mixed.db"))
    try:
        assert demo.keep_handlers(legato) is None  # no demo deployed: nothing registered
        assert legato.handlers.types() == []
        demo.set_up(legato)
        legato.deploy(ORDER_YAML, source_format="yaml")
        assert not demo.is_demo_database(legato)  # the default then is --no-demo ...
    finally:
        legato.close()
    restarted = Legato(str(tmp_path / "mixed.db"))
    try:
        kept = demo.keep_handlers(restarted)  # ... and yet the demo's instances keep their handlers
        assert kept == demo.Demo(deployed="order_to_cash v1")
        assert restarted.handlers.types() == demo_handlers.handlers.types()
    finally:
        restarted.close()
