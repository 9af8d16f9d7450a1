"""Shared by the SIGKILL tests: worker processes to kill, and the checks that nothing broke.

The tests start instances, run `worker_process.py` in separate OS processes, SIGKILL them
at random moments while they work, restart them, and let the work finish. Then
`verify` reads the engine's database and the external system's database and checks the
promises of DESIGN.md ("Durable execution: the transaction model"): delivery to
handlers is at-least-once, the engine's own state changes are exactly-once, and with the
stable idempotency key the handlers' side effects are exactly-once too.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from legato.runtime.app import Legato
from worker_process import PROCESS, STEPS, incarnation_of

WORKER_SCRIPT = Path(__file__).with_name("worker_process.py")
ROOT = Path(__file__).resolve().parents[2]

LOCK_SECONDS = 2.0
POLL_INTERVAL = 0.1
# A live worker renews every lock_seconds/3 each lock with less than 2/3 of lock_seconds
# left, so its locks never have less than lock_seconds/3 to run; HEARTBEAT_LAG allows for
# a renewal that runs late because the worker's coordinator was busy with a commit.
HEARTBEAT_LAG = 0.25


def seeded_rng(test_name: str) -> random.Random:
    """A seeded RNG; set LEGATO_DURABILITY_SEED to replay a run."""
    seed = int(os.environ.get("LEGATO_DURABILITY_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\n{test_name}: seed {seed} (replay with LEGATO_DURABILITY_SEED={seed})")
    return random.Random(seed)


@dataclass(frozen=True, kw_only=True, slots=True)
class Kill:
    worker: str
    incarnation: str
    sent_at: float  # time.time() just before the SIGKILL: the earliest the process died
    dead_at: float  # time.time() once waitpid() returned: the latest it died
    deliveries: int  # deliveries this incarnation had started by then


@dataclass
class Fleet:
    """Named worker processes; a restarted worker is a new incarnation of the same name."""

    database: str
    effects: str
    log_dir: Path
    lock_seconds: float = LOCK_SECONDS
    concurrency: int = 16
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: dict[str, int] = field(default_factory=Counter)
    kills: list[Kill] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, name: str) -> str:
        self.started[name] += 1
        log = self.log_dir / f"{name}-{self.started[name]}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER_SCRIPT),
                    "--database",
                    self.database,
                    "--effects",
                    self.effects,
                    "--worker-name",
                    name,
                    "--lock-seconds",
                    str(self.lock_seconds),
                    "--poll-interval",
                    str(POLL_INTERVAL),
                    "--concurrency",
                    str(self.concurrency),
                ],
                cwd=ROOT,
                env=worker_environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes[name] = process
        return self.incarnation(name)

    def incarnation(self, name: str) -> str:
        return incarnation_of(name, self.processes[name].pid)

    def kill(self, name: str, deliveries: int) -> Kill:
        process = self.processes[name]
        incarnation = self.incarnation(name)
        sent_at = time.time()
        process.send_signal(signal.SIGKILL)
        process.wait()
        kill = Kill(
            worker=name,
            incarnation=incarnation,
            sent_at=sent_at,
            dead_at=time.time(),
            deliveries=deliveries,
        )
        self.kills.append(kill)
        return kill

    def check_alive(self) -> None:
        """A worker that exits on its own has crashed (e.g. on restart): fail with its log."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"worker {name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        log = self.log_dir / f"{name}-{self.started[name]}.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM everyone (a graceful stop), SIGKILL whoever does not stop in time."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def errors_logged(self) -> list[str]:
        """Lines the workers logged at ERROR or with a traceback, across all incarnations."""
        found = []
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                if " ERROR " in line or "Traceback" in line:
                    found.append(f"{log.name}: {line}")
        return found


def worker_environment() -> dict[str, str]:
    """This environment, with the repository's `src` as a fallback for `import legato`."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT / "src")])}


def deliveries_by_incarnation(effects: sa.Engine) -> Counter[str]:
    with effects.connect() as conn:
        rows = conn.execute(sa.text("SELECT incarnation, COUNT(*) FROM deliveries GROUP BY incarnation")).all()
    return Counter({incarnation: count for incarnation, count in rows})


def count_effects(effects: sa.Engine) -> int:
    with effects.connect() as conn:
        return int(conn.execute(sa.text("SELECT COUNT(*) FROM effects")).scalar_one())


def count_ended(app: Legato) -> int:
    with app.store.database.read() as conn:
        ended = sa.text("SELECT COUNT(*) FROM instances WHERE status <> 'active'")
        return int(conn.execute(ended).scalar_one())


def wait_for(condition: Any, what: str, fleet: Fleet, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        fleet.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def kill_and_restart(
    fleet: Fleet,
    effects: sa.Engine,
    rng: random.Random,
    *,
    kills: int,
    total_effects: int,
    restart_delay: float,
) -> None:
    """SIGKILL `kills` times, each time a worker that is busy, and restart it.

    Kill k waits until the external system has seen a random share of the work (spread
    over 5-60 % of it, so work is left for the later kills), and until some worker's
    current incarnation has itself started a random 20-120 deliveries (so it is up and
    has work in hand); it picks its target at random among those, and strikes after a
    random further 0-20 ms.
    """
    thresholds = sorted(rng.uniform(0.05, 0.6) * total_effects for _ in range(kills))
    for number, threshold in enumerate(thresholds, 1):
        busy = rng.randint(20, 120)
        wait_for(
            lambda t=threshold: count_effects(effects) >= t,
            f"{threshold:.0f} effects before kill {number}",
            fleet,
        )
        wait_for(
            lambda b=busy: bool(busy_workers(fleet, effects, b)),
            f"a worker to start {busy} deliveries before kill {number}",
            fleet,
        )
        target = rng.choice(busy_workers(fleet, effects, busy))
        time.sleep(rng.uniform(0.0, 0.02))
        done = deliveries_by_incarnation(effects)[fleet.incarnation(target)]
        kill = fleet.kill(target, done)
        print(
            f"kill {number}: SIGKILL {kill.incarnation} after {done} deliveries "
            f"({count_effects(effects)} effects in the system)"
        )
        time.sleep(rng.uniform(0.0, restart_delay))
        fleet.start(target)


def busy_workers(fleet: Fleet, effects: sa.Engine, deliveries: int) -> list[str]:
    """The workers whose current incarnation has started at least `deliveries`."""
    counts = deliveries_by_incarnation(effects)
    return [name for name in sorted(fleet.processes) if counts[fleet.incarnation(name)] >= deliveries]


def run_to_completion(fleet: Fleet, app: Legato, effects: sa.Engine, instances: int, timeout: float = 60.0) -> None:
    wait_for(lambda: count_ended(app) >= instances, f"{instances} instances to end", fleet, timeout)
    fleet.check_alive()
    fleet.stop()
    for name, process in fleet.processes.items():
        assert process.returncode == 0, f"{name} did not stop cleanly:\n{fleet.log_tail(name)}"


# -- the checks ----------------------------------------------------------------------------


@dataclass
class Report:
    deliveries: int = 0
    effects: int = 0
    redeliveries: int = 0
    takeovers: int = 0
    interrupted: int = 0  # deliveries that never finished: their worker was killed
    overlaps: int = 0  # a job's deliveries that overlapped in time, allowed by a kill
    per_kill: dict[str, int] = field(default_factory=dict)  # incarnation -> its jobs rerun
    takeover_gaps: list[float] = field(default_factory=list)
    per_worker: Counter[str] = field(default_factory=Counter)
    attempts: Counter[int] = field(default_factory=Counter)  # Job.attempt -> deliveries

    def summary(self) -> str:
        gaps = sorted(self.takeover_gaps)
        gap_text = (
            f"lock takeover after a kill took {gaps[0]:.2f}-{gaps[-1]:.2f} s (median {gaps[len(gaps) // 2]:.2f} s)"
            if gaps
            else "no takeovers after kills"
        )
        return (
            f"{self.deliveries} deliveries for {self.effects} effects: {self.redeliveries} "
            f"redelivered, {self.takeovers} lock takeovers, {self.interrupted} deliveries cut "
            f"short by a kill, {self.overlaps} overlaps explained by a kill; jobs rerun per "
            f"killed incarnation {self.per_kill}; {gap_text}; "
            f"deliveries per worker {dict(self.per_worker)}; "
            f"deliveries per Job.attempt {dict(sorted(self.attempts.items()))}"
        )


def verify(app: Legato, effects: sa.Engine, instance_ids: list[str], kills: list[Kill], lock_seconds: float) -> Report:
    """Assert durability held; return the numbers worth reporting."""
    expected = set(instance_ids)
    steps = len(STEPS)
    with app.store.database.read() as conn:
        instances = {
            row.id: row
            for row in conn.execute(
                sa.text("SELECT id, status, variables FROM instances WHERE process_key = :p"),
                {"p": PROCESS},
            )
        }
        jobs_left = conn.execute(sa.text("SELECT id, locked_by FROM jobs")).all()
        incidents = conn.execute(sa.text("SELECT instance_id, message FROM incidents")).all()
        history = conn.execute(
            sa.text("SELECT instance_id, seq, type, element FROM history ORDER BY instance_id, seq")
        ).all()
    with effects.connect() as conn:
        effect_rows = conn.execute(
            sa.text("SELECT idempotency_key, instance_id, element, delivery, attempts FROM effects")
        ).all()
        delivery_rows = conn.execute(
            sa.text(
                "SELECT id, job_id, idempotency_key, instance_id, element, worker, incarnation, "
                "attempt, started_at, finished_at, applied FROM deliveries"
            )
        ).all()

    # The engine: every instance completed, no job or incident left behind.
    assert set(instances) == expected, "instances appeared or vanished"
    not_completed = {i: r.status for i, r in instances.items() if r.status != "completed"}
    assert not not_completed, f"{len(not_completed)} instances did not complete: {not_completed}"
    assert not jobs_left, f"{len(jobs_left)} jobs remain: {jobs_left[:10]}"
    assert not incidents, f"incidents were raised: {incidents[:10]}"

    # The engine changed state exactly once per step: one element_completed per service
    # task, and the history of each instance numbered 1..N without a gap or a repeat.
    seqs: dict[str, list[int]] = defaultdict(list)
    completed: dict[str, Counter[str]] = defaultdict(Counter)
    for row in history:
        seqs[row.instance_id].append(row.seq)
        if row.type == "element_completed" and row.element in STEPS:
            completed[row.instance_id][row.element] += 1
    for instance_id in expected:
        numbers = seqs[instance_id]
        assert numbers == list(range(1, len(numbers) + 1)), f"history of {instance_id} is not numbered 1..N: {numbers}"
        counts = completed[instance_id]
        assert counts == Counter(dict.fromkeys(STEPS, 1)), (
            f"instance {instance_id} completed its steps {dict(counts)} times, not once each"
        )

    # The external system: each step's effect exactly once per instance, keyed by the job.
    deliveries = {row.id: row for row in delivery_rows}
    assert all(row.idempotency_key == row.job_id for row in delivery_rows), "an idempotency key differs from its job id"
    keys_per_step: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in delivery_rows:
        keys_per_step[(row.instance_id, row.element)].add(row.idempotency_key)
    unstable = {step: keys for step, keys in keys_per_step.items() if len(keys) > 1}
    assert not unstable, f"idempotency keys changed between attempts of a step: {unstable}"
    assert len(effect_rows) == steps * len(expected), f"{len(effect_rows)} effects for {steps * len(expected)} steps"
    effect_steps = Counter((row.instance_id, row.element) for row in effect_rows)
    assert set(effect_steps) == {(i, s) for i in expected for s in STEPS}, "an effect is missing"
    assert set(effect_steps.values()) == {1}, "a step's effect was applied twice"
    for row in effect_rows:
        assert keys_per_step[(row.instance_id, row.element)] == {row.idempotency_key}
        assert row.idempotency_key.startswith(f"{row.instance_id}:"), row.idempotency_key
    attempts_seen = Counter(row.idempotency_key for row in delivery_rows if row.applied is not None)
    for row in effect_rows:
        assert row.attempts == attempts_seen[row.idempotency_key], (
            f"effect {row.idempotency_key} counted {row.attempts} attempts, "
            f"deliveries show {attempts_seen[row.idempotency_key]}"
        )

    # The result the engine kept for each step came from a delivery that finished.
    for instance_id, row in instances.items():
        variables = orjson.loads(row.variables)
        for step in STEPS:
            kept = deliveries.get(variables.get(f"{step}_delivery"))
            assert kept is not None, f"{instance_id}/{step} kept a result no delivery produced"
            assert (kept.instance_id, kept.element) == (instance_id, step)
            assert kept.finished_at is not None, (
                f"{instance_id}/{step} kept the result of a delivery that never finished"
            )

    report = Report(
        deliveries=len(delivery_rows),
        effects=len(effect_rows),
        redeliveries=len(delivery_rows) - len(effect_rows),
        interrupted=sum(1 for row in delivery_rows if row.finished_at is None),
        per_worker=Counter(row.worker for row in delivery_rows),
        attempts=Counter(row.attempt for row in delivery_rows),
    )
    violations = check_overlaps(delivery_rows, kills, lock_seconds, report)
    assert not violations, f"{len(violations)} overlaps:\n" + "\n".join(violations[:20])
    return report


def check_overlaps(delivery_rows: list[Any], kills: list[Kill], lock_seconds: float, report: Report) -> list[str]:
    """No job ran twice at once while a lock was held on it.

    For two deliveries D1, D2 of the same job, D1 started first (by worker incarnation A):

    - if D1 finished before D2 started, there is no overlap: fine;
    - otherwise A must have been SIGKILLed while D1 ran (D1 never finished: a live worker
      always finishes its handler), and D2 must have started no earlier than A's lock on
      the job could have expired. A live worker keeps each lock at least lock_seconds/3
      ahead of the clock (minus HEARTBEAT_LAG, see above), and a dead worker's lock is
      not renewed; so the lock outlived the kill by at least that much, and
      D2.started >= kill.sent_at + lock_seconds/3 - HEARTBEAT_LAG.
      (It outlives the kill by at most lock_seconds; after that the job is free for any
      worker to claim, in due-time order behind older due jobs.)

    A second delivery by the *same* incarnation overlapping the first is always wrong.
    Along the way this counts lock takeovers (a job's next delivery by another
    incarnation) and, per killed incarnation, how many of its jobs ran again.
    """
    kills_by_incarnation = {kill.incarnation: kill for kill in kills}
    earliest_expiry = lock_seconds / 3 - HEARTBEAT_LAG
    by_job: dict[str, list[Any]] = defaultdict(list)
    for row in delivery_rows:
        by_job[row.job_id].append(row)
    violations: list[str] = []
    for job_id, runs in by_job.items():
        runs.sort(key=lambda row: row.started_at)
        for first, second in itertools.pairwise(runs):
            if second.incarnation != first.incarnation:
                report.takeovers += 1
            kill = kills_by_incarnation.get(first.incarnation)
            if kill is not None and first.started_at < kill.dead_at:
                report.per_kill[kill.incarnation] = report.per_kill.get(kill.incarnation, 0) + 1
                if second.incarnation != first.incarnation:
                    report.takeover_gaps.append(second.started_at - kill.sent_at)
        for index, first in enumerate(runs):
            for second in runs[index + 1 :]:
                if first.finished_at is not None and second.started_at >= first.finished_at:
                    continue
                kill = kills_by_incarnation.get(first.incarnation)
                described = (
                    f"job {job_id}: {first.incarnation} ran it {first.started_at:.3f}-"
                    f"{first.finished_at or 'never finished'}, {second.incarnation} from "
                    f"{second.started_at:.3f}"
                )
                if kill is None:
                    violations.append(f"{described}; {first.incarnation} was never killed")
                elif first.finished_at is not None:
                    violations.append(f"{described}; {first.incarnation} was alive when it began")
                elif second.started_at < kill.sent_at + earliest_expiry:
                    violations.append(
                        f"{described}; {first.incarnation} was killed at {kill.sent_at:.3f}, its "
                        f"lock was held until at least {kill.sent_at + earliest_expiry:.3f}"
                    )
                else:
                    report.overlaps += 1
    return violations
