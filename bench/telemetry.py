"""What metrics and tracing cost: W1's throughput with them off and on, in one run, and a scrape of /metrics.

    python bench/telemetry.py                     # SQLite in a temporary folder
    python bench/telemetry.py --instances 5000 --rounds 3
    python bench/telemetry.py --postgres postgresql://postgres@127.0.0.1:5432/test

Three modes, each round running them in turn, each run in a fresh process on a fresh
database: `off` (`Metrics(enabled=False)`, no OpenTelemetry SDK: every span a no-op),
`metrics` (the default: counting on, no SDK), and `metrics+tracing` (counting on, and the
SDK recording every span into a batch processor whose exporter drops them, so what is
measured is Legato's and the SDK's work, not a collector's). W1 is bench/workloads.py's:
start -> three service tasks -> end, no-op handlers, default worker settings. Rounds
alternate the modes so that a machine that gets busier mid-run hurts all of them alike;
the figure per mode is its best round.

Then `/metrics` is scraped through the API (in-process, a service token with
metrics:read) with a backlog of due jobs no worker takes, and its latency reported.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODES = ("off", "metrics", "metrics+tracing")


def _url(postgres: str | None, folder: str) -> tuple[str, str | None]:
    if postgres is None:
        return str(Path(folder) / f"{uuid.uuid4().hex}.db"), None
    schema = f"legato_bench_{uuid.uuid4().hex[:10]}"
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{postgres}?options=-csearch_path%3D{schema}", schema


def _drop(postgres: str | None, schema: str | None) -> None:
    if postgres is None or schema is None:
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def one_run(mode: str, instances: int, postgres: str | None, folder: str) -> dict[str, float]:
    """W1 throughput in this (fresh) process, with telemetry as `mode` says."""
    from legato import Legato
    from legato.store import Store
    from legato.telemetry import Metrics
    from workloads import TASK_TYPE, measure_throughput, no_op, sequence_process

    if mode == "metrics+tracing":
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        class Dropped(SpanExporter):
            def export(self, spans: Sequence[Any]) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Dropped()))
        trace.set_tracer_provider(provider)
    url, schema = _url(postgres, folder)
    try:
        app = Legato(Store(url, metrics=Metrics(enabled=mode != "off")))
        app.register(TASK_TYPE, no_op)
        definition = sequence_process()
        app.deploy(definition)
        with app.running():
            result = measure_throughput(app, definition.id, instances, 100)
        app.close()
    finally:
        _drop(postgres, schema)
    return {"instances_per_second": round(result["rate"], 1), "seconds": round(result["seconds"], 2)}


def scrape_latency(backlog: int, scrapes: int, postgres: str | None, folder: str) -> dict[str, Any]:
    """Milliseconds per GET /api/v1/metrics with `backlog` due jobs waiting (no worker runs)."""
    from fastapi.testclient import TestClient

    from legato import Legato
    from legato.api import create_app
    from legato.store import StartRequest
    from legato.testing.identity import admin_token
    from workloads import sequence_process

    url, schema = _url(postgres, folder)
    try:
        app = Legato(url)
        definition = sequence_process()
        app.deploy(definition)
        for offset in range(0, backlog, 500):
            app.start_many([StartRequest(process=definition.id) for _ in range(min(500, backlog - offset))])
        headers = {"Authorization": f"Bearer {admin_token(app)}"}
        with TestClient(create_app(app), headers=headers) as client:
            samples = []
            for _ in range(scrapes + 5):
                began = time.perf_counter()
                response = client.get("/api/v1/metrics")
                samples.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text
            body = response.text
        store_began = time.perf_counter()
        app.store.gauges.read(app.clock.now())
        gauges_ms = (time.perf_counter() - store_began) * 1000
        app.close()
    finally:
        _drop(postgres, schema)
    samples = sorted(samples[5:])
    return {
        "backlog_due_jobs": backlog,
        "scrapes": scrapes,
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
        "gauges_query_ms": round(gauges_ms, 2),
        "bytes": len(body),
        "target_ms": 50,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=2000, help="W1 instances per run (default 2,000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three modes (default 2)")
    parser.add_argument("--backlog", type=int, default=10_000, help="due jobs waiting while /metrics is scraped")
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL URL the benchmark may create and drop schemas in")
    options = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="legato-bench-telemetry-")
    context = multiprocessing.get_context("spawn")
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    load_at_start = os.getloadavg()
    for round_number in range(options.rounds):
        for mode in MODES:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                result = pool.submit(one_run, mode, options.instances, options.postgres, folder).result()
            runs[mode].append(result)
            print(f"round {round_number + 1} {mode}: {result['instances_per_second']} inst/s", file=sys.stderr)
    best = {mode: max(r["instances_per_second"] for r in runs[mode]) for mode in MODES}
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        scrape = pool.submit(scrape_latency, options.backlog, options.scrapes, options.postgres, folder).result()
    document = {
        "benchmark": "telemetry",
        "backend": "postgres" if options.postgres else "sqlite",
        "instances_per_run": options.instances,
        "rounds": options.rounds,
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "w1_runs": runs,
        "w1_best_instances_per_second": best,
        "cost_vs_off_percent": {
            mode: round(100 * (1 - best[mode] / best["off"]), 1) for mode in MODES if mode != "off"
        },
        "target_cost_percent": 10,
        "metrics_scrape": scrape,
    }
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
