"""GET /api/v1/metrics: exact counts after known work, and who may scrape them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem
from prometheus_client.parser import text_string_to_metric_families
from tenant_helpers import tenanted

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import eventually

SHIPMENT_YAML = """\
process: shipment
name: Shipment
steps:
  - start: received
  - service: pack
    task_type: pack
    retry:
      max_attempts: 1
  - user: sign
    name: Sign the delivery note
  - end: shipped
"""


def pack(job: Any) -> dict[str, Any]:
    if job.variables.get("broken"):
        raise RuntimeError("the box is broken")
    return {"packed": True}


@pytest.fixture
def admin(tmp_path: Any) -> Iterator[TestClient]:
    legato = Legato(str(tmp_path / "metrics.db"))
    legato.register("pack", pack)
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as client:
        yield client
    legato.close()


def scrape_token(admin: TestClient, *permissions: str) -> dict[str, str]:
    response = admin.post(
        f"{API}/tokens",
        json={"name": "prometheus", "kind": "service", "permissions": list(permissions), "expires_in_days": None},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_the_metrics_count_exactly_what_ran(admin: TestClient) -> None:
    headers = scrape_token(admin, "metrics:read")
    deployed = admin.post(
        f"{API}/definitions", content=SHIPMENT_YAML, headers={"Content-Type": "application/yaml"}
    ).json()
    assert deployed["version"] == 1
    ids = []
    for variables in ({}, {}, {"broken": True}):
        response = admin.post(f"{API}/definitions/shipment/instances", json={"variables": variables})
        assert response.status_code == 201, response.text
        ids.append(response.json()["instance_id"])
    tasks = eventually(lambda: (items := admin.get(f"{API}/tasks").json()["items"]) and len(items) == 2 and items)
    eventually(lambda: admin.get(f"{API}/incidents").json()["items"])
    first = next(t for t in tasks if t["instance_id"] == ids[0])
    assert admin.post(f"{API}/tasks/{first['id']}/claim").status_code == 200
    assert admin.post(f"{API}/tasks/{first['id']}/complete", json={"variables": {}}).status_code == 200
    assert admin.post(f"{API}/instances/{ids[1]}/cancel", json={}).status_code == 200

    first_scrape = admin.get(f"{API}/metrics", headers=headers)
    assert first_scrape.status_code == 200, first_scrape.text
    assert first_scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(admin.get(f"{API}/metrics", headers=headers).text)

    process = {"process": "shipment", "version": "1"}
    assert value(found, "legato_instances_started_total", **process) == 3
    assert value(found, "legato_instances_completed_total", **process) == 1
    assert value(found, "legato_instances_failed_total", **process, status="cancelled") == 1
    assert value(found, "legato_incidents_created_total", **process, element="pack") == 1
    job = {"task_type": "pack", "element": "pack"}
    assert value(found, "legato_job_duration_seconds_count", **job, outcome="completed") == 2
    assert value(found, "legato_job_duration_seconds_count", **job, outcome="failed") == 1
    assert value(found, "legato_job_duration_seconds_bucket", **job, outcome="completed", le="+Inf") == 2
    # the engine's steps at a wait: three results of `pack`; the claim and the completion of `sign`;
    # the cancel is at no wait (element "")
    assert value(found, "legato_step_duration_seconds_count", process="shipment", element="pack") == 3
    assert value(found, "legato_step_duration_seconds_count", process="shipment", element="sign") == 2
    assert value(found, "legato_step_duration_seconds_count", process="shipment", element="") == 1
    assert value(found, "legato_incidents_open") == 1
    assert value(found, "legato_user_tasks_open") == 0
    assert value(found, "legato_job_queue_depth", kind="task") == 0
    assert value(found, "legato_job_oldest_due_age_seconds") == 0
    assert value(found, "legato_jobs_running") == 0
    # the first scrape was answered before the second one read the counters: exactly one
    route = {"method": "GET", "route": "/api/v1/metrics"}
    assert value(found, "legato_http_requests_total", **route, status="200") == 1
    assert (
        value(found, "legato_http_requests_total", method="POST", route="/api/v1/tasks/{task_id}/claim", status="200")
        == 1
    )
    assert value(found, "legato_http_request_duration_seconds_count", **route) == 1
    # the jobs of the three instances ran without a claim (handed off at commit), in group commits
    assert value(found, "legato_commit_batch_size_sum") == 3
    assert value(found, "legato_job_lock_expirations_total") == 0


def test_a_due_job_no_worker_takes_is_queued_and_ages(tmp_path: Any) -> None:
    legato = Legato(str(tmp_path / "queue.db"))  # no handler for `pack`: its job waits
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers) as admin:
        admin.post(f"{API}/definitions", content=SHIPMENT_YAML, headers={"Content-Type": "application/yaml"})
        for _ in range(2):
            assert admin.post(f"{API}/definitions/shipment/instances", json={}).status_code == 201
        found = samples(admin.get(f"{API}/metrics").text)
    legato.close()
    assert value(found, "legato_job_queue_depth", kind="task") == 2
    assert value(found, "legato_job_queue_depth", kind="timer") == 0
    assert value(found, "legato_job_oldest_due_age_seconds") >= 0


def test_lock_expirations_and_claim_sizes_are_counted(database_url: str) -> None:
    from legato.runtime.clock import FakeClock

    clock = FakeClock()
    legato = Legato(database_url, clock=clock)
    legato.deploy(SHIPMENT_YAML)
    for _ in range(3):
        legato.start("shipment", {})
    jobs = legato.store.jobs
    first = jobs.claim(worker="w1", task_types=["pack"], limit=2, now=clock.now(), lock_seconds=30)
    assert len(first) == 2
    clock.advance(31)  # w1 died: its two locks run out
    taken = jobs.claim(worker="w2", task_types=["pack"], limit=10, now=clock.now(), lock_seconds=30)
    assert len(taken) == 3
    found = samples(legato.store.metrics.render().decode())
    legato.close()
    assert value(found, "legato_job_lock_expirations_total") == 2
    assert value(found, "legato_job_claim_batch_size_count") == 2
    assert value(found, "legato_job_claim_batch_size_sum") == 5


def test_metrics_need_the_permission(admin: TestClient) -> None:
    anonymous = TestClient(admin.app)
    assert_problem(anonymous.get(f"{API}/metrics"), 401, "AUTHENTICATION_REQUIRED")
    reader = scrape_token(admin, "instances:read")
    assert_problem(admin.get(f"{API}/metrics", headers=reader), 403, "PERMISSION_DENIED")


def test_a_caller_kept_to_a_tenant_may_not_read_every_tenants_numbers(tmp_path: Any) -> None:
    legato = Legato(str(tmp_path / "tenants.db"))
    for world in tenanted(legato):
        problem = assert_problem(world.alice.get(f"{API}/metrics"), 403, "METRICS_TENANT_LIMITED")
        assert problem["tenants"] == ["a"]
        assert world.admin.get(f"{API}/metrics").status_code == 200
    legato.close()


def test_metrics_off_count_nothing(tmp_path: Any) -> None:
    from legato.store import Store
    from legato.telemetry import Metrics

    legato = Legato(Store(str(tmp_path / "off.db"), metrics=Metrics(enabled=False)))
    legato.deploy(SHIPMENT_YAML)
    legato.start("shipment", {})
    found = samples(legato.store.metrics.render().decode())
    legato.close()
    assert value(found, "legato_instances_started_total", process="shipment", version="1") == 0


WORK_IN_A_PROCESS = """
import sys
from legato.runtime.app import Legato
legato = Legato(sys.argv[1])
for _ in range(int(sys.argv[2])):
    legato.start("shipment", {})
legato.close()
"""


def test_several_processes_report_through_one_scrape(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess
    import sys

    folder = tmp_path / "prometheus"
    folder.mkdir()
    database = str(tmp_path / "shared.db")
    legato = Legato(database)
    legato.deploy(SHIPMENT_YAML)
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for count in (2, 3):  # two processes doing work, as `legato worker` processes would
        subprocess.run([sys.executable, "-c", WORK_IN_A_PROCESS, database, str(count)], env=environment, check=True)
    assert len(list(folder.glob("*.db"))) >= 2  # one file per process
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers) as admin:
        found = samples(admin.get(f"{API}/metrics").text)
    legato.close()
    assert value(found, "legato_instances_started_total", process="shipment", version="1") == 5
    assert value(found, "legato_job_queue_depth", kind="task") == 5  # the live gauges come with them


def test_the_grafana_dashboard_queries_only_metrics_that_exist(tmp_path: Any) -> None:
    import json
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\blegato_[a-z_]+", target["expr"])
    }
    legato = Legato(str(tmp_path / "grafana.db"))
    families = {
        family.name
        for family in text_string_to_metric_families(
            legato.store.metrics.render(legato.store.gauges.reader(legato.clock.now)).decode()
        )
    }
    legato.close()
    exposed = {f"{name}{suffix}" for name in families for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    assert queried and queried <= exposed, queried - exposed
