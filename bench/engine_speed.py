"""The pure engine's cost, without a database: microseconds of CPU per W1 instance.

    python bench/engine_speed.py

W1 is a start and three service-task completions; the figure is the best of five rounds of
5,000 instances (timeit), so it is the engine's own cost, not the machine's noise.
"""

from __future__ import annotations

import timeit
from datetime import UTC, datetime

from legato import engine
from legato.engine import effects as fx
from legato.formats.builder import Process


def main() -> None:
    p = Process("w1")
    node = p.start("s")
    for task in "abc":
        node = node.then(p.service(task, task))
    node.then(p.end("e"))
    definition = p.build()
    now = datetime(2030, 1, 1, tzinfo=UTC)

    def one_instance() -> None:
        result = engine.start(definition, instance_id="i", variables={"x": 1}, now=now)
        for _ in range(3):
            job = next(e for e in result.effects if isinstance(e, fx.ScheduleJob))
            command = engine.CompleteJob(wait=job.wait, variables={"ok": True})
            result = engine.apply(definition, result.state, command, now)
        assert result.state.status == "completed"

    rounds = 5_000
    best = min(timeit.repeat(one_instance, number=rounds, repeat=5)) / rounds
    print(f"{best * 1e6:.1f} µs per W1 instance (start + 3 completions), pure engine")


if __name__ == "__main__":
    main()
