"""One instance's detail names the work to come: jobs with their attempts and lock holder,
timers with their due time, the messages and signals it waits for — masked like the rest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import API, TestClient

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from sensitive_support import bearer, token_with
from support import eventually

CARD = "4111-1111-1111-1111"

CHARGE_YAML = """\
process: charge
sensitive: [card]
steps:
  - start: begin
  - service: charge
    task_type: detail.charge
    retry:
      max_attempts: 4
      initial_backoff: 3600
      max_backoff: 7200
  - end: done
"""

WAIT_YAML = """\
process: waits
sensitive: [card]
steps:
  - start: begin
  - parallel: both
    next: [paid, cool_off]
  - catch_message: paid
    message: payment.received
    correlation_key: card
    next: joined
  - catch_timer: cool_off
    duration: PT2H
  - parallel: joined
  - end: done
"""


@pytest.fixture
def legato(tmp_path: Path) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "detail.db"))

    def decline(job: Any) -> None:
        raise RuntimeError(f"card {job.variables['card']} was declined")

    app.register("detail.charge", decline)
    app.deploy(CHARGE_YAML)
    app.deploy(WAIT_YAML)
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    with TestClient(create_app(legato, worker=True), headers=bearer(admin_token(legato))) as test_client:
        yield test_client


def test_a_failing_service_job_shows_its_attempts_of_the_policy_and_its_error(client: TestClient) -> None:
    started = client.post(f"{API}/definitions/charge/instances", json={"variables": {"card": CARD}}).json()
    url = f"{API}/instances/{started['instance_id']}"
    detail = eventually(lambda: (d := client.get(url).json())["jobs"] and d["jobs"][0]["attempts"] == 1 and d)
    (job,) = detail["jobs"]
    assert job["kind"] == "service" and job["element"] == "charge" and job["task_type"] == "detail.charge"
    assert job["max_attempts"] == 4
    assert job["locked_by"] is None and job["lock_expires_at"] is None
    assert CARD in job["last_error"]  # the admin may read sensitive values
    due = datetime.fromisoformat(job["due_at"])
    assert due > datetime.fromisoformat(detail["updated_at"]) + timedelta(minutes=50)  # the hour's backoff
    assert detail["subscriptions"] == []


def test_timers_and_awaited_messages_are_listed_and_a_viewer_sees_the_key_masked(
    client: TestClient, legato: Legato
) -> None:
    started = client.post(f"{API}/definitions/waits/instances", json={"variables": {"card": CARD}}).json()
    url = f"{API}/instances/{started['instance_id']}"
    detail = eventually(lambda: (d := client.get(url).json())["jobs"] and d["subscriptions"] and d)
    (timer,) = detail["jobs"]
    assert timer["kind"] == "timer" and timer["element"] == "cool_off" and timer["task_type"] is None
    assert timer["max_attempts"] is None
    assert datetime.fromisoformat(timer["due_at"]) - datetime.fromisoformat(detail["created_at"]) >= timedelta(
        hours=2
    ) - timedelta(seconds=5)
    (awaited,) = detail["subscriptions"]
    assert awaited == {
        "element": "paid",
        "kind": "message",
        "name": "payment.received",
        "correlation_key": CARD,
        "created_at": awaited["created_at"],
    }
    viewer = client.get(url, headers=bearer(token_with(legato, "vera", role="viewer"))).json()
    (masked,) = viewer["subscriptions"]
    assert CARD not in str(viewer) and masked["correlation_key"] != CARD


def test_a_viewer_sees_a_jobs_error_scrubbed_of_sensitive_values(client: TestClient, legato: Legato) -> None:
    started = client.post(f"{API}/definitions/charge/instances", json={"variables": {"card": CARD}}).json()
    url = f"{API}/instances/{started['instance_id']}"
    eventually(lambda: (d := client.get(url).json())["jobs"] and d["jobs"][0]["attempts"] == 1)
    viewer = client.get(url, headers=bearer(token_with(legato, "vera", role="viewer"))).json()
    (job,) = viewer["jobs"]
    assert CARD not in job["last_error"] and "declined" in job["last_error"]
    assert job["masked"] == ["/last_error"]
