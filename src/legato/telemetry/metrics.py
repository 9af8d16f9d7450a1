"""Prometheus metrics: what the engine did, counted where it happens, rendered on scrape.

    metrics = Metrics()                       # one per Store; Metrics(enabled=False) counts nothing
    metrics.instances_started({("order", 3): 2})
    text = metrics.render(live)               # the text format, with the gauges `live` reads now

Counters and histograms are kept in the process that does the work (a worker's job
durations in the worker, an API server's HTTP requests in the server). Gauges of what
stands in the database (queue depth, open incidents, open tasks) are not kept at all:
`render` asks a `live` callable for them at scrape time, so every process reports the
same truth and none has to be told of a change another process made.

Several processes on one machine (an API server and `legato worker` processes): set
`PROMETHEUS_MULTIPROC_DIR` to an empty folder for all of them, before they start.
prometheus-client then keeps every counter in a memory-mapped file per process there, and
`render` sums the files of every process, so one scrape of the server covers the workers
too (docs/metrics.md). The folder must be emptied when the processes restart, as
prometheus-client's documentation says.

Labels are bounded on purpose: process keys, versions, element ids, task types, route
templates (never a raw path), statuses. Instance ids, business keys and tenants never
become labels.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Job handlers and HTTP requests: from a millisecond to minutes.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# An engine step is CPU work between two wait states: microseconds to milliseconds.
STEP_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

LiveGauges = Callable[[], Iterable[Metric]]
"""What the database holds now, read at scrape time (`legato.store.gauges`)."""


class Metrics:
    """The counters and histograms of one process, behind methods that say what happened.

    Methods take what the caller knows already (no lookups), and return at once when the
    metrics are off, which is how the benchmark measures their cost.
    """

    def __init__(self, *, enabled: bool = True, registry: CollectorRegistry | None = None) -> None:
        self.enabled = enabled
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self._started = Counter(
            "legato_instances_started", "Process instances started", ["process", "version"], registry=r
        )
        self._completed = Counter(
            "legato_instances_completed",
            "Process instances that reached an end event",
            ["process", "version"],
            registry=r,
        )
        self._failed = Counter(
            "legato_instances_failed",
            "Process instances that ended other than completed: terminated (a terminate end event, an "
            "uncaught error) or cancelled",
            ["process", "version", "status"],
            registry=r,
        )
        self._incidents = Counter(
            "legato_incidents_created",
            "Incidents raised: a step out of retries, or an expression that failed",
            ["process", "version", "element"],
            registry=r,
        )
        self._steps = Histogram(
            "legato_step_duration_seconds",
            "Engine time of one step: from a command at an element's wait to the next wait states "
            "(gateways, conditions, scripts and mappings on the way)",
            ["process", "element"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self._jobs = Histogram(
            "legato_job_duration_seconds",
            "Run time of a service task's handler, by outcome (completed, failed, bpmn_error, timeout)",
            ["task_type", "element", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._claims = Histogram(
            "legato_job_claim_batch_size", "Jobs taken by one claim that found any", buckets=BATCH_BUCKETS, registry=r
        )
        self._expired = Counter(
            "legato_job_lock_expirations",
            "Jobs claimed after another worker's lock on them had expired (that worker died or stalled)",
            registry=r,
        )
        self._commits = Histogram(
            "legato_commit_duration_seconds",
            "Time of one group commit of job results (one transaction for many steps)",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._commit_sizes = Histogram(
            "legato_commit_batch_size", "Job results in one group commit", buckets=BATCH_BUCKETS, registry=r
        )
        self._http = Counter(
            "legato_http_requests",
            "HTTP requests answered, by route template",
            ["method", "route", "status"],
            registry=r,
        )
        self._http_seconds = Histogram(
            "legato_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )

    # -- what happened -----------------------------------------------------------------

    def instances(
        self,
        started: Mapping[tuple[str, int], int],
        ended: Mapping[tuple[str, int, str], int],
        incidents: Mapping[tuple[str, int, str], int],
    ) -> None:
        """Count what one transaction did, once it has committed (store/writer.py)."""
        if not self.enabled:
            return
        for (process, version), count in started.items():
            self._started.labels(process, str(version)).inc(count)
        for (process, version, status), count in ended.items():
            if status == "completed":
                self._completed.labels(process, str(version)).inc(count)
            else:
                self._failed.labels(process, str(version), status).inc(count)
        for (process, version, element), count in incidents.items():
            self._incidents.labels(process, str(version), element).inc(count)

    def step(self, process: str, element: str, seconds: float) -> None:
        if self.enabled:
            self._steps.labels(process, element).observe(seconds)

    def job(self, task_type: str, element: str, outcome: str, seconds: float) -> None:
        if self.enabled:
            self._jobs.labels(task_type, element, outcome).observe(seconds)

    def claimed(self, count: int, expired: int) -> None:
        if not self.enabled or not count:
            return
        self._claims.observe(count)
        if expired:
            self._expired.inc(expired)

    def committed(self, size: int, seconds: float) -> None:
        if self.enabled:
            self._commits.observe(seconds)
            self._commit_sizes.observe(size)

    def http(self, method: str, route: str, status: int, seconds: float) -> None:
        if self.enabled:
            self._http.labels(method, route, str(status)).inc()
            self._http_seconds.labels(method, route).observe(seconds)

    # -- scraping ----------------------------------------------------------------------

    def render(self, live: LiveGauges | None = None) -> bytes:
        """The Prometheus text format: this process's (or, in multiprocess mode, every
        process's) counters and histograms, and the gauges `live` reads now."""
        registry = CollectorRegistry(auto_describe=False)
        folder = os.environ.get(MULTIPROCESS_VARIABLE)
        if folder:
            MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
        else:
            registry.register(_Of(self.registry))
        if live is not None:
            registry.register(_Live(live))
        return generate_latest(registry)


class _Of(Collector):
    """Another registry's metrics, collected into the registry of one scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _Live(Collector):
    def __init__(self, read: LiveGauges) -> None:
        self.read = read

    def collect(self) -> Iterable[Metric]:
        return self.read()


def gauge(name: str, documentation: str, value: float | None = None, **labelled: Any) -> GaugeMetricFamily:
    """A gauge family for `live` gauges: one value, or `samples=[(labels, value), ...]` with `labels=[...]`."""
    if value is not None:
        return GaugeMetricFamily(name, documentation, value=value)
    family = GaugeMetricFamily(name, documentation, labels=labelled["labels"])
    for labels, sample in labelled["samples"]:
        family.add_metric(labels, sample)
    return family


__all__ = ["CONTENT_TYPE", "MULTIPROCESS_VARIABLE", "LiveGauges", "Metrics", "gauge"]
