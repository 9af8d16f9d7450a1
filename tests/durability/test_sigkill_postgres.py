"""Durability on PostgreSQL: three worker processes share the work while random ones die.

1,000 instances of a five-step process run through three worker processes that claim
jobs from one PostgreSQL database (`FOR UPDATE SKIP LOCKED`, expiring locks). The test
SIGKILLs a random worker again and again while they work and restarts it. Afterwards,
besides everything the SQLite test checks (every instance completed, each step recorded
once by the engine and applied once in the external system), no job ran on two workers
while a lock on it was held (the exact rule is `sigkill_harness.check_overlaps`), and
each worker did a real share of the work.

The engine's tables live in a fresh schema (the `postgres_url` fixture); the external
system's tables (`deliveries`, `effects`) sit beside them, written through each worker's
own connection pool and never by the engine.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sigkill_harness as harness

from legato.runtime.app import Legato
from legato.store import StartRequest
from worker_process import PROCESS, create_effects_tables, definition, effects_engine

INSTANCES = 1000
KILLS = 8
WORKERS = ("w1", "w2", "w3")
MIN_SHARE = 0.10


@pytest.mark.postgres
def test_sigkill_postgres(tmp_path: Path, postgres_url: str) -> None:
    rng = harness.seeded_rng("test_sigkill_postgres")
    began = time.monotonic()
    (tmp_path / "logs").mkdir()
    effects = effects_engine(postgres_url)
    create_effects_tables(effects)
    app = Legato(postgres_url)
    fleet = harness.Fleet(database=postgres_url, effects=postgres_url, log_dir=tmp_path / "logs")
    try:
        app.deploy(definition())
        started = app.start_many([StartRequest(process=PROCESS) for _ in range(INSTANCES)])
        instance_ids = [s.instance_id for s in started]

        for name in WORKERS:
            fleet.start(name)
        harness.kill_and_restart(
            fleet,
            effects,
            rng,
            kills=KILLS,
            total_effects=INSTANCES * len(harness.STEPS),
            restart_delay=0.5,
        )
        harness.run_to_completion(fleet, app, effects, INSTANCES)

        report = harness.verify(app, effects, instance_ids, fleet.kills, fleet.lock_seconds)
        print(report.summary())
        print(f"test_sigkill_postgres took {time.monotonic() - began:.1f} s")
        assert len(fleet.kills) >= 4
        assert report.redeliveries > 0 or report.takeovers > 0, (
            "no job ran twice: the kills hit no work in progress, so this run proved nothing"
        )
        shares = {name: report.per_worker[name] / report.deliveries for name in WORKERS}
        assert min(shares.values()) >= MIN_SHARE, f"the work did not spread: {shares}"
        assert not fleet.errors_logged(), "\n".join(fleet.errors_logged())
    finally:
        fleet.stop()
        app.close()
        effects.dispose()
