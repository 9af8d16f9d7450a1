"""What encryption at rest costs: instances started and read back, with it off, on for the
sensitive variables, and on for all of them.

    python bench/encryption.py                    # SQLite in a temporary folder
    python bench/encryption.py --postgres postgresql://postgres@127.0.0.1:5432/test

Each mode runs on a fresh database: 4,000 instances of a process with one service task,
started 100 to a transaction (`start_many`), each with a sensitive IBAN, a nested password
and ten plain variables; then the 100 newest read back with their variables and each job's
payload (the service task's inputs copy the IBAN) claimed. The figures are the best of three
rounds; docs/benchmarks.md says how to read them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from legato import Legato
from legato.store import StartRequest, Store
from legato.store.sealing import Keyring, new_key
from legato.store.search import InstanceFilter

PROCESS = """\
process: pay
sensitive: [iban]
steps:
  - start: received
  - service: charge
    task_type: pay.charge
    inputs:
      account: iban
      amount: amount
  - end: paid
"""
INSTANCES = 4_000
BATCH = 100


def variables(n: int) -> dict[str, Any]:
    return {
        "iban": f"DE89370400440532{n:06d}",
        "customer": {"name": "Ada", "password": f"correct-horse-{n}"},
        "amount": n,
        **{f"field_{i}": f"plain value {i}" for i in range(10)},
    }


def one_round(url: str, mode: str | None) -> dict[str, float]:
    keys = None if mode is None else Keyring(keys=(new_key(),))
    app = Legato(Store(url, encryption_keys=keys, encrypt=mode or "sensitive"))
    try:
        app.deploy(PROCESS, source_format="yaml")
        began = time.perf_counter()
        for start in range(0, INSTANCES, BATCH):
            app.start_many([StartRequest(process="pay", variables=variables(n)) for n in range(start, start + BATCH)])
        started = time.perf_counter() - began
        began = time.perf_counter()
        page = app.store.search.instances(InstanceFilter(), limit=100, variables=True)
        assert len(page.items) == 100 and page.items[0]["variables"]["iban"].startswith("DE89")
        read = time.perf_counter() - began
        began = time.perf_counter()
        claimed = app.store.jobs.claim(
            worker="bench", task_types=["pay.charge"], limit=100, lock_seconds=30, now=app.clock.now()
        )
        assert len(claimed) == 100 and claimed[0].payload is not None and claimed[0].payload["account"].startswith("DE")
        claim = time.perf_counter() - began
    finally:
        app.close()
    return {"starts_per_second": INSTANCES / started, "read_100_ms": read * 1000, "claim_100_ms": claim * 1000}


def fresh(postgres: str | None, folder: Path) -> tuple[str, Any]:
    if postgres is None:
        return str(folder / f"{uuid.uuid4().hex}.db"), None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{postgres}?options=-csearch_path%3D{schema}", (admin, schema)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="run on this PostgreSQL instead of SQLite")
    options = parser.parse_args()
    results: dict[str, Any] = {"backend": "postgres" if options.postgres else "sqlite", "instances": INSTANCES}
    with tempfile.TemporaryDirectory() as folder:
        for label, mode in (("off", None), ("sensitive", "sensitive"), ("all", "all")):
            rounds = []
            for _ in range(3):
                url, cleanup = fresh(options.postgres, Path(folder))
                try:
                    rounds.append(one_round(url, mode))
                finally:
                    if cleanup is not None:
                        admin, schema = cleanup
                        with admin.begin() as conn:
                            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                        admin.dispose()
            results[label] = {
                "starts_per_second": round(max(r["starts_per_second"] for r in rounds)),
                "read_100_ms": round(min(r["read_100_ms"] for r in rounds), 2),
                "claim_100_ms": round(min(r["claim_100_ms"] for r in rounds), 2),
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
