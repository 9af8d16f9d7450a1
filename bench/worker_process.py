"""A Legato worker in a process of its own, for the multi-process runs of bench/run.py.

    python bench/worker_process.py URL WORKLOAD

It registers the workload's handlers, runs the standard worker (default settings) and
prints `ready`; it runs jobs until a line `stop` arrives on stdin (or stdin closes), lets
running jobs finish, and prints one JSON line: the worker's counters and this process's
peak RSS. The benchmark process itself runs no worker in these runs: it only starts
instances, so every job is claimed from the database by one of these processes.
"""

from __future__ import annotations

import json
import sys

from legato.runtime.app import Legato
from measure import peak_rss_bytes
from workloads import TASK_TYPE, no_op


def main(url: str, workload: str) -> None:
    app = Legato(url)
    app.register(TASK_TYPE, no_op)
    worker = app.start_worker()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stats = dict(worker.stats)
    app.close()
    print(
        json.dumps({"workload": workload, "stats": stats, "peak_rss_bytes": peak_rss_bytes()}),
        flush=True,
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
