"""External-worker benchmark: fetch-and-lock throughput and long-poll wake-up latency over HTTP.

    python bench/external_tasks.py                       # SQLite, 2,000 tasks, 200 wake-ups
    python bench/external_tasks.py --backend postgres    # on LEGATO_BENCH_POSTGRES (a fresh schema)
    python bench/external_tasks.py --tasks 500 --wakeups 50 --clients 2

A real `legato server` runs in a subprocess (access log off, its in-process worker idle),
and this process is the external worker, speaking HTTP with one keep-alive connection
per client thread:

- throughput: N instances of a one-service-task process are started (one request each,
  not timed), then each client loops fetch-and-lock (batches of 10, lock 30 s) and
  completes every task it got, one request per task, until none are left. Tasks per
  second = N / wall time of that loop;
- wake-up latency: a fetch waits (long poll, 30 s) with nothing due; another connection
  starts an instance; the time from sending that start to the fetch's answer arriving,
  p50 and p99 over the samples (the start request's own round trip is in it, reported
  beside it as `start_p50_ms`).

JSON to stdout; docs/benchmarks.md ("External workers") records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from legato.runtime.app import Legato
from legato.testing.identity import admin_token

MODEL = """\
process: bench_external
steps:
  - start: begin
  - service: work
    task_type: bench.work
  - end: done
"""
DEFAULT_POSTGRES = os.environ.get("LEGATO_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--wakeups", type=int, default=200)
    parser.add_argument("--clients", type=int, default=1, help="worker connections fetching at once")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legato-bench-ext-") as folder:
        database, schema = _database(options.backend, Path(folder))
        try:
            result = run(database, Path(folder), options.tasks, options.wakeups, options.clients)
        finally:
            if schema is not None:
                with psycopg.connect(DEFAULT_POSTGRES, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
    result.update(
        backend=options.backend,
        command=" ".join(["python", "bench/external_tasks.py", *sys.argv[1:]]),
        load_average_at_start=os.getloadavg()[0],
    )
    print(json.dumps(result, indent=2))
    return 0


def _database(backend: str, folder: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return str(folder / "bench.db"), None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(DEFAULT_POSTGRES, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{DEFAULT_POSTGRES}?options=-csearch_path%3D{schema}", schema


def run(database: str, folder: Path, tasks: int, wakeups: int, clients: int) -> dict[str, Any]:
    legato = Legato(database)
    try:
        legato.deploy(MODEL)
        token = admin_token(legato)
    finally:
        legato.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    env["LEGATO_LOG_LEVEL"] = "warning"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato",
            "server",
            "--no-demo",
            "--no-access-log",
            "--port",
            str(port),
            "--database",
            database,
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        _wait_up(url, server)
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for _ in range(tasks):
                _ok(client.post("/definitions/bench_external/instances", json={}))
        throughput = _throughput(url, headers, tasks, clients)
        latency = _wakeups(url, headers, wakeups)
    finally:
        server.terminate()
        server.wait(30)
    return {"tasks": tasks, "clients": clients, **throughput, **latency}


def _throughput(url: str, headers: dict[str, str], tasks: int, clients: int) -> dict[str, Any]:
    done = [0] * clients
    fetches = [0] * clients

    def work(index: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            worker = f"bench-{index}"
            body = {"worker_id": worker, "max_tasks": 10, "topics": [{"task_type": "bench.work", "lock_duration": 30}]}
            while True:
                batch = _ok(client.post("/external-tasks/fetch-and-lock", json=body)).json()
                fetches[index] += 1
                if not batch:
                    return
                for task in batch:
                    _ok(client.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": worker}))
                    done[index] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    assert sum(done) == tasks, (sum(done), tasks)
    return {
        "throughput_tasks_per_s": round(tasks / seconds, 1),
        "throughput_seconds": round(seconds, 3),
        "fetch_requests": sum(fetches),
        "complete_requests": sum(done),
    }


def _wakeups(url: str, headers: dict[str, str], samples: int) -> dict[str, Any]:
    waits: list[float] = []
    starts: list[float] = []
    body = {
        "worker_id": "bench-wake",
        "max_tasks": 1,
        "topics": [{"task_type": "bench.work", "lock_duration": 30}],
        "async_response_timeout": 30,
    }
    with (
        httpx.Client(base_url=url, headers=headers, timeout=60) as fetcher,
        httpx.Client(base_url=url, headers=headers, timeout=60) as starter,
    ):
        for _ in range(samples):
            answer: dict[str, Any] = {}

            def fetch(into: dict[str, Any] = answer) -> None:
                into["tasks"] = _ok(fetcher.post("/external-tasks/fetch-and-lock", json=body)).json()
                into["at"] = time.perf_counter()

            waiting = threading.Thread(target=fetch)
            waiting.start()
            time.sleep(0.05)  # the fetch is waiting on the server by now
            sent = time.perf_counter()
            _ok(starter.post("/definitions/bench_external/instances", json={}))
            starts.append(time.perf_counter() - sent)
            waiting.join()
            assert len(answer["tasks"]) == 1
            waits.append(answer["at"] - sent)
            [task] = answer["tasks"]
            _ok(starter.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "bench-wake"}))
    return {
        "wakeups": samples,
        "wake_p50_ms": round(_percentile(waits, 50) * 1000, 2),
        "wake_p99_ms": round(_percentile(waits, 99) * 1000, 2),
        "start_p50_ms": round(statistics.median(starts) * 1000, 2),
    }


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response


def _wait_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not come up")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
