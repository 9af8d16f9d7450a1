"""OpenTelemetry traces, recorded by the SDK's in-memory exporter: who is whose parent.

A caller's `traceparent` -> the request's server span -> the instance's start span -> a
span per job, whose traceparent the handler (and an external worker) gets to pass on; the
log lines of a job carry its span's ids.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from legato.api import create_app
from legato.runtime.app import Legato
from legato.runtime.log_setup import configure
from legato.testing.identity import admin_token
from support import eventually

SHIPMENT_YAML = """\
process: shipment
steps:
  - start: received
  - service: pack
    task_type: pack
  - service: label
    task_type: label
  - end: shipped
"""
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The SDK, recording into memory (set once per process: OpenTelemetry's provider is global)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def parent_of(span: ReadableSpan) -> str | None:
    return None if span.parent is None else format(span.parent.span_id, "016x")


def ancestors(exporter: InMemorySpanExporter, span: ReadableSpan) -> list[str]:
    """The span ids above `span`, nearest first, as far as they were recorded."""
    by_id = {hex_ids(s)[1]: s for s in exporter.get_finished_spans()}
    found, parent = [], parent_of(span)
    while parent is not None:
        found.append(parent)
        parent = parent_of(by_id[parent]) if parent in by_id else None
    return found


def test_a_callers_trace_runs_through_the_start_every_job_and_the_handlers(
    tmp_path: Any, spans: InMemorySpanExporter
) -> None:
    seen: dict[str, Any] = {}
    lines = io.StringIO()
    handler = configure(format="json", levels="info", stream=lines)

    def pack(job: Any) -> dict[str, Any]:
        seen["pack"] = (job.traceparent, job.trace_headers())
        logging.getLogger("shipping").info("packing")
        return {}

    legato = Legato(str(tmp_path / "traces.db"))
    legato.register("pack", pack)
    legato.register("label", lambda job: seen.setdefault("label", job.traceparent) and {})
    try:
        headers = {"Authorization": f"Bearer {admin_token(legato)}"}
        with TestClient(create_app(legato, worker=True), headers=headers) as client:
            client.post(f"{API}/definitions", content=SHIPMENT_YAML, headers={"Content-Type": "application/yaml"})
            response = client.post(
                f"{API}/definitions/shipment/instances",
                json={"variables": {}},
                headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
            )
            assert response.status_code == 201, response.text
            eventually(lambda: len(named(spans, "job label")) == 1)
    finally:
        logging.getLogger().removeHandler(handler)
        legato.close()

    # FastAPI's own server span (it instruments itself), inside it its endpoint's, inside that our start
    [server] = [s for s in named(spans, "POST /api/v1/definitions/{key}/instances") if s.kind == SpanKind.SERVER]
    [start] = named(spans, "start shipment")
    [packed] = named(spans, "job pack")
    [labelled] = named(spans, "job label")
    assert parent_of(server) == CALLER_SPAN
    assert hex_ids(server)[1] in ancestors(spans, start)
    # one trace per instance: both jobs are children of its start, in the caller's trace
    for job_span in (packed, labelled):
        assert hex_ids(job_span)[0] == CALLER_TRACE
        assert parent_of(job_span) == hex_ids(start)[1]
        assert job_span.kind == SpanKind.CONSUMER
    attributes = dict(packed.attributes or {})
    instance_id = response.json()["instance_id"]
    assert attributes["legato.process"] == "shipment"
    assert attributes["legato.element"] == "pack"
    assert attributes["legato.attempt"] == 1
    assert str(attributes["legato.idempotency_key"]).startswith(instance_id + ":")  # the job id, every attempt
    assert attributes["legato.instance_id"] == instance_id
    # the handler sees its own span's traceparent, to send on
    trace_id, span_id = hex_ids(packed)
    assert seen["pack"] == (f"00-{trace_id}-{span_id}-01", {"traceparent": f"00-{trace_id}-{span_id}-01"})
    assert seen["label"] == f"00-{trace_id}-{hex_ids(labelled)[1]}-01"
    # the handler's log line carries the job's span; the access log is not on here
    [packing] = [json.loads(line) for line in lines.getvalue().splitlines() if '"packing"' in line]
    assert (packing["trace_id"], packing["span_id"]) == (trace_id, span_id)
    assert packing["element"] == "pack"


def test_without_a_caller_each_instance_is_its_own_trace(tmp_path: Any, spans: InMemorySpanExporter) -> None:
    legato = Legato(str(tmp_path / "own.db"))
    legato.register("pack", lambda job: {})
    legato.register("label", lambda job: {})
    legato.deploy(SHIPMENT_YAML)
    with legato.running():
        first = legato.start("shipment", {})
        second = legato.start("shipment", {})
        legato.wait(first.instance_id)
        legato.wait(second.instance_id)
    legato.close()
    traces: dict[str, set[str]] = {}
    for span in spans.get_finished_spans():
        instance = dict(span.attributes or {}).get("legato.instance_id")
        traces.setdefault(str(instance), set()).add(hex_ids(span)[0])
    assert len(traces[first.instance_id]) == 1 and len(traces[second.instance_id]) == 1
    assert traces[first.instance_id] != traces[second.instance_id]
    starts = named(spans, "start shipment")
    assert len(starts) == 2 and all(span.parent is None for span in starts)


def test_an_external_worker_gets_the_traceparent_of_its_delivery(tmp_path: Any, spans: InMemorySpanExporter) -> None:
    legato = Legato(str(tmp_path / "external.db"))  # no in-process handler for `pack`: it is external work
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers) as client:
        client.post(f"{API}/definitions", content=SHIPMENT_YAML, headers={"Content-Type": "application/yaml"})
        client.post(
            f"{API}/definitions/shipment/instances",
            json={"variables": {}},
            headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
        )
        response = client.post(
            f"{API}/external-tasks/fetch-and-lock",
            json={"worker_id": "w1", "max_tasks": 1, "topics": [{"task_type": "pack", "lock_duration": 30}]},
        )
        assert response.status_code == 200, response.text
        [task] = response.json()
    legato.close()
    [delivered] = named(spans, "external job pack")
    [start] = named(spans, "start shipment")
    trace_id, span_id = hex_ids(delivered)
    assert trace_id == CALLER_TRACE and parent_of(delivered) == hex_ids(start)[1]
    assert delivered.kind == SpanKind.PRODUCER
    assert task["traceparent"] == f"00-{trace_id}-{span_id}-01"


def test_a_malformed_traceparent_starts_a_new_trace(tmp_path: Any, spans: InMemorySpanExporter) -> None:
    legato = Legato(str(tmp_path / "bad.db"))
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato), headers=headers) as client:
        client.post(f"{API}/definitions", content=SHIPMENT_YAML, headers={"Content-Type": "application/yaml"})
        response = client.post(
            f"{API}/definitions/shipment/instances", json={"variables": {}}, headers={"traceparent": "00-nonsense"}
        )
        assert response.status_code == 201
    legato.close()
    [start] = named(spans, "start shipment")
    assert hex_ids(start)[0] != CALLER_TRACE
    assert ancestors(spans, start)[-1] not in (CALLER_SPAN,)


def test_a_called_instance_continues_its_callers_trace(tmp_path: Any, spans: InMemorySpanExporter) -> None:
    legato = Legato(str(tmp_path / "calls.db"))
    legato.register("pack", lambda job: {})
    legato.register("label", lambda job: {})
    legato.deploy(SHIPMENT_YAML)
    legato.deploy("process: order\nsteps:\n  - start: received\n  - call: ship\n    process: shipment\n  - end: done\n")
    with legato.running(), trace.get_tracer("test").start_as_current_span("a caller"):
        started = legato.start("order", {})
        legato.wait(started.instance_id)
    legato.close()
    [order] = named(spans, "start order")
    [shipment] = named(spans, "start shipment")
    [caller] = named(spans, "a caller")
    assert parent_of(order) == hex_ids(caller)[1]
    assert parent_of(shipment) == hex_ids(order)[1]
    assert {hex_ids(span)[0] for span in spans.get_finished_spans()} == {hex_ids(caller)[0]}
