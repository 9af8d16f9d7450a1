"""Legato's benchmark: one command, one JSON document, each figure beside its target.

    python bench/run.py                          # W1-W3 on SQLite and PostgreSQL
    python bench/run.py --quick                  # smaller counts, a minute or so
    python bench/run.py --only W1 --backend sqlite
    python bench/run.py --workers 3 --out bench.json

The JSON goes to stdout (and to --out); progress goes to stderr. Each workload runs in a
fresh process on a fresh database, one after the other, so that its peak memory and its
database size are its own. docs/benchmarks.md explains every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backends import DEFAULT_POSTGRES_URL, Backend
from legato.runtime.worker import WorkerSettings
from workloads import FULL, QUICK, Sizes, run_workload, worker_process_figures

WORKLOADS = ("W1", "W2", "W3")
BACKENDS = ("sqlite", "postgres")
REPOSITORY = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    sizes = QUICK if options.quick else FULL
    document: dict[str, Any] = {
        "benchmark": "legato",
        "command": " ".join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_info(),
        "load_average_at_start": _load_average(),
        "machine": machine_info(),
        "settings": {
            "quick": options.quick,
            "sizes": asdict(sizes),
            "worker_processes": options.workers,
            "worker_settings": asdict(WorkerSettings()),
            "handler": "sync no-op returning {'ok': True}",
        },
        "backends": {},
    }
    for name in options.backend:
        backend = Backend(name=name, postgres_url=options.postgres_url)
        document["backends"][name] = run_backend(backend, options.only, sizes, options.workers)
    postgres = document["backends"].get("postgres", {})
    document["machine"]["postgresql"] = postgres.get("version")
    document["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["load_average_at_end"] = _load_average()
    document["summary"] = summarise(document["backends"])
    text = json.dumps(document, indent=2)
    if options.out:
        Path(options.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts (1,000 / 500 / 10,000 instances)")
    parser.add_argument("--only", type=_choices(WORKLOADS), default=list(WORKLOADS), help="e.g. W1,W3")
    parser.add_argument("--backend", type=_choices(BACKENDS), default=list(BACKENDS), help="sqlite,postgres")
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="on PostgreSQL, W1 also runs with 1 and with N worker processes (0: skip those runs)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LEGATO_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a database the benchmark may create and drop schemas in",
    )
    parser.add_argument("--out", help="also write the JSON document to this file")
    return parser.parse_args(argv)


def _choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [part for part in chosen if part not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return [part for part in allowed if part in chosen]  # the canonical order

    return parse


# -- running ---------------------------------------------------------------------------------


def run_backend(backend: Backend, workloads: list[str], sizes: Sizes, workers: int) -> dict[str, Any]:
    reason = backend.unavailable()
    if reason is not None:
        progress(f"[{backend.name}] skipped: {reason}")
        return {"status": "skipped", "reason": reason}
    result: dict[str, Any] = {"status": "ran", "version": backend.version(), "workloads": {}}
    for workload in workloads:
        try:
            outcome = in_child(backend, workload, sizes)
            if workload == "W1" and backend.name == "postgres" and workers >= 1:
                outcome = with_worker_processes(backend, outcome, sizes, workers)
        except Exception as exc:
            progress(f"[{backend.name}] {workload} failed: {type(exc).__name__}: {exc}")
            result["workloads"][workload] = {
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
            }
            continue
        result["workloads"][workload] = {"status": "ran", **outcome}
    return result


def with_worker_processes(backend: Backend, outcome: dict[str, Any], sizes: Sizes, workers: int) -> dict[str, Any]:
    """Add W1's "1 worker process" and "N worker processes" figures to the in-process ones."""
    one = in_child(backend, "W1", sizes, 1)
    many = in_child(backend, "W1", sizes, workers) if workers > 1 else None
    outcome["figures"].update(worker_process_figures(backend, one, many))
    outcome["details"]["worker_process_runs"] = [run["details"] for run in (one, many) if run is not None]
    return outcome


def in_child(backend: Backend, workload: str, sizes: Sizes, worker_processes: int = 0) -> dict[str, Any]:
    """Run one workload in a new process (spawned: nothing inherited) and return its result."""
    label = f"{workload} with {worker_processes} worker process(es)" if worker_processes else workload
    progress(f"[{backend.name}] {label} ...")
    began = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(run_workload, backend, workload, sizes, worker_processes).result()
    progress(f"[{backend.name}] {label} done in {time.monotonic() - began:.1f} s{_headline(result)}")
    return result


def _headline(result: dict[str, Any]) -> str:
    if "rate" in result:
        return f": {result['rate']:,.1f} inst/s"
    shown = []
    for name, item in result.get("figures", {}).items():
        if item["target"] is not None:
            verdict = "met" if item["met"] else "MISSED"
            shown.append(f"{name} {item['value']} {item['unit']} ({verdict})")
    return ": " + "; ".join(shown) if shown else ""


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the document ----------------------------------------------------------------------------


def summarise(backends: dict[str, Any]) -> dict[str, Any]:
    met: list[str] = []
    missed: list[str] = []
    problems: list[str] = []
    for backend, result in backends.items():
        if result["status"] != "ran":
            problems.append(f"{backend}: {result['status']} ({result.get('reason', '')})")
            continue
        for workload, outcome in result["workloads"].items():
            if outcome["status"] != "ran":
                problems.append(f"{backend} {workload}: {outcome['error']}")
                continue
            for name, item in outcome["figures"].items():
                if item["target"] is None:
                    continue
                value = f"{item['value']} {item['unit']}"
                line = f"{backend} {workload} {name}: {value} (target {item['target']})"
                (met if item["met"] else missed).append(line)
    return {
        "targets_met": len(met),
        "targets_missed": len(missed),
        "missed": missed,
        "problems": problems,
    }


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def machine_info() -> dict[str, Any]:
    import sqlite3

    import psycopg
    import sqlalchemy

    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or None,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_total": _proc_field("/proc/meminfo", "MemTotal"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
    }


def _load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _proc_field(path: str, name: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


if __name__ == "__main__":
    sys.exit(main())
