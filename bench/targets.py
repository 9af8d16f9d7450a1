"""The performance targets of the benchmark issue, as data, keyed by the figure they judge.

A key is (backend, workload, figure); backend "*" means the issue names no backend, so
both are held to it. A figure without an entry is reported with `target: null`: it is
measured because it explains the others (database size, peak memory), not judged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    text: str
    at_least: float | None = None
    at_most: float | None = None
    above: float | None = None  # strictly more than, for "more than with one worker"

    def met_by(self, value: float) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        if self.at_most is not None and value > self.at_most:
            return False
        return not (self.above is not None and value <= self.above)


RSS_GROWTH_LIMIT_KIB = 64
"""What "memory does not grow with waiting instances" is taken to mean, per 1,000 of them.

64 bytes per waiting instance, measured between the 10 % and the 100 % checkpoints of W3.
Anything an engine kept in memory per instance (a dict entry, an object, a future) costs
more than that, so a leak fails the target; allocator noise over 90,000 instances stays
under it.
"""

TARGETS: dict[tuple[str, str, str], Target] = {
    ("sqlite", "W1", "throughput"): Target(text=">= 2,000 inst/s", at_least=2000),
    ("*", "W1", "latency_p50"): Target(text="<= 3 ms", at_most=3),
    ("*", "W1", "latency_p99"): Target(text="<= 15 ms", at_most=15),
    ("sqlite", "W2", "throughput"): Target(text=">= 400 inst/s", at_least=400),
    ("*", "W3", "creation_rate"): Target(text=">= 3,000 inst/s", at_least=3000),
    ("*", "W3", "rss_growth_per_1000_waiting"): Target(
        text=f"<= {RSS_GROWTH_LIMIT_KIB} KiB per 1,000 waiting instances (does not grow)",
        at_most=RSS_GROWTH_LIMIT_KIB,
    ),
    ("*", "W3", "db_bytes_per_waiting_instance"): Target(text="<= 2,048 bytes (2 KB)", at_most=2048),
    ("*", "W3", "message_completions"): Target(text=">= 1,000 completions/s", at_least=1000),
    ("postgres", "W1", "throughput_1_worker_process"): Target(text=">= 800 inst/s", at_least=800),
}


def target_for(backend: str, workload: str, name: str) -> Target | None:
    return TARGETS.get((backend, workload, name)) or TARGETS.get(("*", workload, name))


def more_than(baseline: float | None, label: str) -> Target | None:
    """The relative target: N worker processes should beat one."""
    if baseline is None:
        return None
    return Target(text=f"> {label} ({baseline:,.1f} inst/s)", above=baseline)
