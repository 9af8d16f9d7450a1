"""The three workloads: their process models, and the drivers that measure them.

Everything runs with the defaults a user gets: `Legato(url)` with default worker settings,
every service task a real job with a real commit, and a handler that does nothing but
return a small dict (a plain function, run in the worker's thread pool like any sync
handler). Nothing is tuned for the benchmark.

- W1, *sequence*: start -> 3 service tasks -> end.
- W2, *parallel*: start -> parallel split -> 10 service tasks -> parallel join -> end.
- W3, *waiting*: start -> message catch (correlation key = variable `key`) -> end.

Each `run_*` function opens a fresh database (see backends.py), runs one workload in the
calling process and returns {"figures": ..., "details": ...}. bench/run.py calls each in a
new process of its own, so the peak-memory figure belongs to that workload alone.
"""

from __future__ import annotations

import gc
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends import Backend
from legato.model.elements import (
    Element,
    EndEvent,
    IntermediateCatchEvent,
    MessageDefinition,
    ParallelGateway,
    SequenceFlow,
    ServiceTask,
    StartEvent,
)
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato
from legato.runtime.handlers import Job
from legato.store import StartRequest
from measure import figure, mebibytes, peak_rss_bytes, percentile, python_heap_blocks, rss_bytes
from targets import more_than, target_for

TASK_TYPE = "bench.step"
MESSAGE = "bench.go"
PROCESSES = {"W1": "bench_sequence", "W2": "bench_parallel", "W3": "bench_waiting"}
POLL_SECONDS = 0.02  # how often the driver counts completed instances
CONCURRENT_SENDERS = 8  # threads sending messages at once, for the informational figure
WORKER_SCRIPT = Path(__file__).with_name("worker_process.py")


@dataclass(frozen=True, kw_only=True, slots=True)
class Sizes:
    w1_throughput: int
    w1_latency: int
    w2_throughput: int
    w2_latency: int
    w3_waiting: int
    w3_completions: int
    latency_warmup: int = 20
    start_batch: int = 100  # instances per start_many call (one transaction each)


FULL = Sizes(
    w1_throughput=10_000,
    w1_latency=300,
    w2_throughput=2_000,
    w2_latency=300,
    w3_waiting=100_000,
    w3_completions=1_000,
)
QUICK = Sizes(
    w1_throughput=1_000,
    w1_latency=100,
    w2_throughput=500,
    w2_latency=100,
    w3_waiting=10_000,
    w3_completions=1_000,
)


# -- models --------------------------------------------------------------------------------


def no_op(job: Job) -> dict[str, Any]:
    return {"ok": True}


def _definition(process_id: str, elements: list[Element], flows: list[tuple[str, str]]) -> ProcessDefinition:
    return ProcessDefinition(
        id=process_id,
        elements={element.id: element for element in elements},
        flows={
            f"flow_{n}": SequenceFlow(id=f"flow_{n}", source=source, target=target)
            for n, (source, target) in enumerate(flows)
        },
    )


def _in_sequence(elements: list[Element]) -> list[tuple[str, str]]:
    return [(a.id, b.id) for a, b in itertools.pairwise(elements)]


def sequence_process() -> ProcessDefinition:
    elements: list[Element] = [
        StartEvent(id="start"),
        *(ServiceTask(id=f"step_{n}", task_type=TASK_TYPE) for n in (1, 2, 3)),
        EndEvent(id="end"),
    ]
    return _definition(PROCESSES["W1"], elements, _in_sequence(elements))


def parallel_process(branches: int = 10) -> ProcessDefinition:
    tasks = [ServiceTask(id=f"branch_{n}", task_type=TASK_TYPE) for n in range(1, branches + 1)]
    flows = [("start", "split"), ("join", "end")]
    for task in tasks:
        flows += [("split", task.id), (task.id, "join")]
    elements: list[Element] = [
        StartEvent(id="start"),
        ParallelGateway(id="split"),
        *tasks,
        ParallelGateway(id="join"),
        EndEvent(id="end"),
    ]
    return _definition(PROCESSES["W2"], elements, flows)


def waiting_process() -> ProcessDefinition:
    catch = IntermediateCatchEvent(id="wait_for_go", event=MessageDefinition(message=MESSAGE, correlation_key="key"))
    elements: list[Element] = [StartEvent(id="start"), catch, EndEvent(id="end")]
    return _definition(PROCESSES["W3"], elements, _in_sequence(elements))


MODELS: dict[str, Callable[[], ProcessDefinition]] = {
    "W1": sequence_process,
    "W2": parallel_process,
    "W3": waiting_process,
}


def open_app(url: str, workload: str) -> Legato:
    app = Legato(url)
    app.register(TASK_TYPE, no_op)
    app.deploy(MODELS[workload]())
    return app


# -- measurements shared by the workloads --------------------------------------------------


def start_all(app: Legato, process: str, count: int, batch: int, first: int = 0) -> None:
    for offset in range(first, first + count, batch):
        size = min(batch, first + count - offset)
        app.start_many(
            [StartRequest(process=process, variables={"key": f"k{n}"}) for n in range(offset, offset + size)]
        )


def wait_until_completed(app: Legato, process: str, count: int, *, stall_seconds: float = 60.0) -> None:
    """Poll the instance counts until `count` have completed; fail if progress stops."""
    done, last_progress = 0, time.monotonic()
    while done < count:
        time.sleep(POLL_SECONDS)
        counts = app.store.queries.count_instances(process=process)
        if counts.get("completed", 0) > done:
            done, last_progress = counts.get("completed", 0), time.monotonic()
        elif time.monotonic() - last_progress > stall_seconds:
            incidents = len(app.store.queries.incidents(limit=1000))
            raise RuntimeError(f"no progress for {stall_seconds:.0f} s: counts {counts}, {incidents} incident(s)")


def measure_throughput(app: Legato, process: str, count: int, batch: int) -> dict[str, float]:
    """Instances per second from the first start until the last instance completed."""
    began = time.perf_counter()
    start_all(app, process, count, batch)
    started = time.perf_counter()
    wait_until_completed(app, process, count)
    ended = time.perf_counter()
    return {
        "rate": count / (ended - began),
        "seconds": ended - began,
        "start_seconds": started - began,
    }


def measure_latency(app: Legato, process: str, count: int, warmup: int) -> list[float]:
    """Milliseconds from `start` to `wait` returning, one instance at a time."""
    samples = []
    for n in range(warmup + count):
        began = time.perf_counter()
        started = app.start(process, {"key": f"latency{n}"})
        app.wait(started.instance_id)
        if n >= warmup:
            samples.append((time.perf_counter() - began) * 1000)
    return samples


def _worker_stats(app: Legato) -> dict[str, int]:
    return dict(app.worker.stats) if app.worker is not None else {}


# -- W1 and W2: jobs -----------------------------------------------------------------------


def run_jobs_workload(backend: Backend, workload: str, sizes: Sizes) -> dict[str, Any]:
    """W1 or W2: throughput with the in-process worker, then one-at-a-time latency."""
    count = sizes.w1_throughput if workload == "W1" else sizes.w2_throughput
    latency_count = sizes.w1_latency if workload == "W1" else sizes.w2_latency
    process = PROCESSES[workload]

    def judged(name: str, value: float | None, unit: str, digits: int = 1) -> dict[str, Any]:
        return figure(value, unit, target_for(backend.name, workload, name), digits=digits)

    with backend.fresh_database() as url:
        app = open_app(url, workload)
        try:
            with app.running():
                throughput = measure_throughput(app, process, count, sizes.start_batch)
                throughput_stats = _worker_stats(app)
                samples = measure_latency(app, process, latency_count, sizes.latency_warmup)
                stats = _worker_stats(app)
            size = backend.size_bytes(url)
            ended = count + latency_count + sizes.latency_warmup
            return {
                "figures": {
                    "throughput": judged("throughput", throughput["rate"], "inst/s"),
                    "latency_p50": judged("latency_p50", percentile(samples, 0.50), "ms", 2),
                    "latency_p99": judged("latency_p99", percentile(samples, 0.99), "ms", 2),
                    "peak_rss": judged("peak_rss", mebibytes(peak_rss_bytes()), "MiB"),
                    "db_size": judged("db_size", mebibytes(size), "MiB"),
                    "db_bytes_per_instance": judged("db_bytes_per_instance", size / ended, "bytes", 0),
                },
                "details": {
                    "instances": count,
                    "throughput_seconds": round(throughput["seconds"], 3),
                    "start_seconds": round(throughput["start_seconds"], 3),
                    "latency_samples": len(samples),
                    "latency_warmup": sizes.latency_warmup,
                    "latency_mean_ms": round(sum(samples) / len(samples), 2),
                    "latency_max_ms": round(max(samples), 2),
                    "worker_stats_after_throughput": throughput_stats,
                    "worker_stats": stats,
                    "db_file_bytes": backend.file_bytes(url),
                },
            }
        finally:
            app.close()


def run_worker_processes(backend: Backend, workload: str, sizes: Sizes, processes: int) -> dict[str, Any]:
    """W1 throughput where this process only starts instances and `processes` workers run them."""
    process = PROCESSES[workload]
    count = sizes.w1_throughput
    with backend.fresh_database() as url:
        app = open_app(url, workload)  # migrates and deploys; runs no worker
        workers = [
            subprocess.Popen(
                [sys.executable, str(WORKER_SCRIPT), url, workload],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        try:
            for worker in workers:
                assert worker.stdout is not None
                if worker.stdout.readline().strip() != "ready":
                    raise RuntimeError("a worker process did not start")
            throughput = measure_throughput(app, process, count, sizes.start_batch)
        finally:
            reports = [_stop(worker) for worker in workers]
            app.close()
    return {
        "rate": throughput["rate"],
        "details": {
            "instances": count,
            "worker_processes": processes,
            "throughput_seconds": round(throughput["seconds"], 3),
            "start_seconds": round(throughput["start_seconds"], 3),
            "workers": reports,
        },
    }


def _stop(worker: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        output, _ = worker.communicate("stop\n", timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    lines = [line for line in output.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"exit_code": worker.returncode}


def worker_process_figures(backend: Backend, one: dict[str, Any], many: dict[str, Any] | None) -> dict[str, Any]:
    """The "1 worker process" and "N worker processes" figures, each beside its target."""
    figures = {
        "throughput_1_worker_process": figure(
            one["rate"], "inst/s", target_for(backend.name, "W1", "throughput_1_worker_process")
        )
    }
    if many is not None:
        n = many["details"]["worker_processes"]
        figures[f"throughput_{n}_worker_processes"] = figure(
            many["rate"], "inst/s", more_than(one["rate"], "the 1 worker process figure")
        )
    return figures


# -- W3: instances waiting for a message ---------------------------------------------------


def run_waiting_workload(backend: Backend, sizes: Sizes) -> dict[str, Any]:
    """W3: create many waiting instances, watch memory and size, then message some of them."""
    process, count = PROCESSES["W3"], sizes.w3_waiting
    checkpoint = count // 10

    def judged(name: str, value: float | None, unit: str, digits: int = 1) -> dict[str, Any]:
        return figure(value, unit, target_for(backend.name, "W3", name), digits=digits)

    def reading() -> dict[str, float]:
        gc.collect()
        return {"rss": float(rss_bytes() or 0), "heap": float(python_heap_blocks())}

    with backend.fresh_database() as url:
        app = open_app(url, "W3")
        try:
            with app.running():
                start_all(app, process, 100, sizes.start_batch, first=count + 10_000)  # warm-up
                size_before, before = backend.size_bytes(url), reading()
                began = time.perf_counter()
                start_all(app, process, checkpoint, sizes.start_batch)
                paused = time.perf_counter()
                first_seconds = paused - began
                at_checkpoint = reading()
                resumed = time.perf_counter()
                start_all(app, process, count - checkpoint, sizes.start_batch, first=checkpoint)
                creation_seconds = (paused - began) + (time.perf_counter() - resumed)
                after = reading()
                size_after = backend.size_bytes(url)

                single = min(1_000, count)
                began = time.perf_counter()
                for n in range(single):
                    app.start(process, {"key": f"single{n}"})
                single_rate = single / (time.perf_counter() - began)

                stride = max(1, count // sizes.w3_completions)
                keys = [f"k{n}" for n in range(0, count, stride)][: sizes.w3_completions]
                began = time.perf_counter()
                for key in keys:
                    app.send_message(MESSAGE, key)
                completion_seconds = time.perf_counter() - began

                other_keys = [f"k{n}" for n in range(stride // 2, count, stride)][: sizes.w3_completions]
                with ThreadPoolExecutor(CONCURRENT_SENDERS) as senders:
                    began = time.perf_counter()
                    list(senders.map(lambda key: app.send_message(MESSAGE, key), other_keys))
                    concurrent_seconds = time.perf_counter() - began
                counts = app.store.queries.count_instances(process=process)
            expected = len(set(keys) | set(other_keys))
            if counts.get("completed", 0) != expected:
                raise RuntimeError(f"{expected} instances messaged, but the counts are {counts}")
        finally:
            app.close()

    grown = count - checkpoint
    per_thousand = count / 1000
    return {
        "figures": {
            "creation_rate": judged("creation_rate", count / creation_seconds, "inst/s"),
            "rss_before": judged("rss_before", mebibytes(before["rss"]), "MiB"),
            "rss_at_10_percent": judged("rss_at_10_percent", mebibytes(at_checkpoint["rss"]), "MiB"),
            "rss_after": judged("rss_after", mebibytes(after["rss"]), "MiB"),
            "rss_delta_per_1000_waiting": judged(
                "rss_delta_per_1000_waiting",
                (after["rss"] - before["rss"]) / per_thousand / 1024,
                "KiB",
            ),
            "rss_growth_per_1000_waiting": judged(
                "rss_growth_per_1000_waiting",
                (after["rss"] - at_checkpoint["rss"]) / (grown / 1000) / 1024,
                "KiB",
            ),
            "python_heap_blocks_per_1000_waiting": judged(
                "python_heap_blocks_per_1000_waiting",
                (after["heap"] - at_checkpoint["heap"]) / (grown / 1000),
                "blocks",
            ),
            "db_bytes_per_waiting_instance": judged(
                "db_bytes_per_waiting_instance", (size_after - size_before) / count, "bytes", 0
            ),
            "message_completions": judged("message_completions", len(keys) / completion_seconds, "completions/s"),
            f"message_completions_{CONCURRENT_SENDERS}_senders": judged(
                "message_completions_concurrent",
                len(other_keys) / concurrent_seconds,
                "completions/s",
            ),
            "creation_rate_one_per_transaction": judged("creation_rate_one_per_transaction", single_rate, "inst/s"),
            "peak_rss": judged("peak_rss", mebibytes(peak_rss_bytes()), "MiB"),
        },
        "details": {
            "waiting_instances": count,
            "checkpoint_instances": checkpoint,
            "creation_seconds": round(creation_seconds, 3),
            "creation_rate_first_10_percent": round(checkpoint / first_seconds, 1),
            "creation_rate_last_90_percent": round(grown / (creation_seconds - first_seconds), 1),
            "start_batch": sizes.start_batch,
            "db_size_before_bytes": size_before,
            "db_size_after_bytes": size_after,
            "messages_sent": len(keys),
            "completion_seconds": round(completion_seconds, 3),
            "concurrent_senders": CONCURRENT_SENDERS,
            "concurrent_completion_seconds": round(concurrent_seconds, 3),
            "one_per_transaction_instances": single,
        },
    }


def run_workload(backend: Backend, workload: str, sizes: Sizes, worker_processes: int = 0) -> dict[str, Any]:
    """Entry point for one child process of bench/run.py."""
    if workload == "W3":
        return run_waiting_workload(backend, sizes)
    if worker_processes:
        return run_worker_processes(backend, workload, sizes, worker_processes)
    return run_jobs_workload(backend, workload, sizes)
