"""Durability on SQLite: a worker process SIGKILLed again and again loses and doubles nothing.

1,000 instances of a five-step process run through one worker process that the test
kills at random moments while it works, and restarts each time. Afterwards every
instance has completed, the engine recorded each step exactly once, and the external
system holds each step's side effect exactly once, though some steps ran more than once.
"""

from __future__ import annotations

import time
from pathlib import Path

import sigkill_harness as harness

from legato.runtime.app import Legato
from legato.store import StartRequest
from worker_process import PROCESS, create_effects_tables, definition, effects_engine

INSTANCES = 1000
KILLS = 5


def test_sigkill_sqlite(tmp_path: Path) -> None:
    rng = harness.seeded_rng("test_sigkill_sqlite")
    began = time.monotonic()
    database = str(tmp_path / "legato.db")
    effects_url = f"sqlite:///{tmp_path / 'effects.db'}"
    (tmp_path / "logs").mkdir()
    effects = effects_engine(effects_url)
    create_effects_tables(effects)
    app = Legato(database)
    fleet = harness.Fleet(database=database, effects=effects_url, log_dir=tmp_path / "logs")
    try:
        app.deploy(definition())
        started = app.start_many([StartRequest(process=PROCESS) for _ in range(INSTANCES)])
        instance_ids = [s.instance_id for s in started]

        fleet.start("w1")
        harness.kill_and_restart(
            fleet,
            effects,
            rng,
            kills=KILLS,
            total_effects=INSTANCES * len(harness.STEPS),
            restart_delay=0.2,
        )
        harness.run_to_completion(fleet, app, effects, INSTANCES)

        report = harness.verify(app, effects, instance_ids, fleet.kills, fleet.lock_seconds)
        print(report.summary())
        print(f"test_sigkill_sqlite took {time.monotonic() - began:.1f} s")
        assert len(fleet.kills) >= 4
        assert report.redeliveries > 0 or report.takeovers > 0, (
            "no job ran twice: the kills hit no work in progress, so this run proved nothing"
        )
        assert not fleet.errors_logged(), "\n".join(fleet.errors_logged())
    finally:
        fleet.stop()
        app.close()
        effects.dispose()
