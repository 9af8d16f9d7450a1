"""`legato agent` in its own process, speaking HTTP to `legato server` in another.

The agents' handlers record each delivery and, keyed by the idempotency key, each side
effect (agent_helpers.HANDLERS), so the tests can tell what ran how often.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import Counter

import httpx
from agent_helpers import Site, completions_at, eventually, stop


def test_an_agent_runs_the_tasks_and_stops_cleanly_on_sigterm(site: Site) -> None:
    agent = site.agent("agent-1", "--concurrency", "4", "--long-poll", "5")
    try:
        instances = [site.start(amount=n) for n in range(10)]
        for instance_id in instances:
            eventually(lambda i=instance_id: site.status(i) == "completed", 30, f"instance {instance_id} ending")
        for instance_id in instances:
            [check] = completions_at(site, instance_id, "check_invoice")
            assert check["actor"] == "worker:external:agent-1"
    finally:
        code = stop(agent)
    assert code == 0, site.log_of("agent-1")
    assert "agent stopped: 20 completed, 0 failed, 0 BPMN errors, 0 refused" in site.log_of("agent-1")
    deliveries, effects = site.effects()
    assert len(deliveries) == len(effects) == 10


def test_an_agent_frozen_past_its_lock_loses_the_task_and_its_late_completion_is_refused(site: Site) -> None:
    agent = site.agent("slow", "--lock-seconds", "1", "--long-poll", "2")
    try:
        instance_id = site.start(sleep=2.5)
        eventually(lambda: site.effects()[0], 30, "the delivery to the agent")
        agent.send_signal(signal.SIGSTOP)  # a pause past its lock: it cannot extend it
        time.sleep(1.5)
        body = {
            "worker_id": "rescuer",
            "topics": [{"task_type": "invoice.check", "lock_duration": 30}],
            "async_response_timeout": 5,
        }
        headers = {"Authorization": f"Bearer {site.worker_token}"}
        fetched = httpx.post(f"{site.url}/api/v1/external-tasks/fetch-and-lock", json=body, headers=headers, timeout=30)
        [task] = fetched.json()
        # attempt 2 or 3: the frozen agent's own long poll, still open on the server, may
        # have taken the task once more for it (a fetch the frozen process never reads)
        assert task["instance_id"] == instance_id and task["attempt"] >= 2
        done = httpx.post(
            f"{site.url}/api/v1/external-tasks/{task['id']}/complete",
            json={"worker_id": "rescuer", "variables": {"checked_by": "rescuer"}},
            headers=headers,
            timeout=30,
        )
        assert done.status_code == 204, done.text
        agent.send_signal(signal.SIGCONT)
        eventually(lambda: "no longer ours" in site.log_of("slow") or "refused" in site.log_of("slow"), 30, "refusal")
        eventually(lambda: site.status(instance_id) == "completed", 30, "the instance ending")
    finally:
        agent.send_signal(signal.SIGCONT)
        stop(agent)
    [check] = completions_at(site, instance_id, "check_invoice")
    assert check["actor"] == "worker:external:rescuer"
    variables = site.api("GET", f"/instances/{instance_id}")["variables"]
    assert variables["checked_by"] == "rescuer"  # the late result of the frozen agent never landed


def test_an_agent_killed_mid_task_loses_nothing_another_agent_finishes_each_task_once(site: Site) -> None:
    first = site.agent("first", "--lock-seconds", "1.5", "--concurrency", "6", "--long-poll", "2")
    instances = [site.start(sleep=1.0, n=n) for n in range(6)]
    eventually(lambda: len(site.effects()[0]) >= 3, 30, "deliveries to the first agent")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_pid = first.pid
    second = site.agent("second", "--lock-seconds", "5", "--concurrency", "6", "--long-poll", "2")
    try:
        for instance_id in instances:
            eventually(lambda i=instance_id: site.status(i) == "completed", 60, f"instance {instance_id} ending")
    finally:
        assert stop(second) == 0
    deliveries, effects = site.effects()
    effect_count = Counter(key for key, _pid in effects)
    assert len(effect_count) == 6 and set(effect_count.values()) == {1}  # one side effect per job
    redelivered = [key for key, count in Counter(key for key, _ in deliveries).items() if count > 1]
    assert redelivered, "the kill interrupted no task: the test proved nothing"
    for key in redelivered:  # a task the first agent had when it died was finished by the second
        pids = [pid for k, pid in deliveries if k == key]
        assert killed_pid in pids and second.pid in pids
    for instance_id in instances:  # the engine's own steps exactly once
        [check] = completions_at(site, instance_id, "check_invoice")
        assert check["actor"] in ("worker:external:first", "worker:external:second")
        assert len(completions_at(site, instance_id, "pay_invoice")) == 1


def _fetch_body(worker: str, wait: float) -> dict[str, object]:
    return {
        "worker_id": worker,
        "topics": [{"task_type": "invoice.check", "lock_duration": 30}],
        "async_response_timeout": wait,
    }


def test_a_task_claimed_for_a_worker_that_hung_up_is_given_back_at_once(site: Site) -> None:
    url = f"{site.url}/api/v1/external-tasks/fetch-and-lock"
    headers = {"Authorization": f"Bearer {site.worker_token}"}
    with contextlib.suppress(httpx.ReadTimeout):  # a worker that gives up waiting before the server answers
        httpx.post(url, json=_fetch_body("impatient", 10), headers=headers, timeout=0.5)
    time.sleep(0.2)
    instance_id = site.start()
    began = time.monotonic()
    answer = httpx.post(url, json=_fetch_body("patient", 10), headers=headers, timeout=30)
    [task] = answer.json()
    assert task["instance_id"] == instance_id and task["attempt"] == 1  # not locked 30 s for the one gone
    assert time.monotonic() - began < 5


def test_a_server_stopping_answers_waiting_fetches_instead_of_waiting_for_them(site: Site) -> None:
    url = f"{site.url}/api/v1/external-tasks/fetch-and-lock"
    headers = {"Authorization": f"Bearer {site.worker_token}"}
    answer: dict[str, object] = {}

    def wait() -> None:
        answer["response"] = httpx.post(url, json=_fetch_body("waiting", 120), headers=headers, timeout=150)

    waiting = threading.Thread(target=wait)
    waiting.start()
    time.sleep(0.5)
    began = time.monotonic()
    site.server.send_signal(signal.SIGTERM)
    assert site.server.wait(30) == 0
    waiting.join(30)
    assert time.monotonic() - began < 15
    response = answer["response"]
    assert isinstance(response, httpx.Response) and response.status_code == 200 and response.json() == []
