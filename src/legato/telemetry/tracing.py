"""OpenTelemetry traces: one trace per instance, a span per job, W3C `traceparent` in and out.

Legato calls the OpenTelemetry *API* only. Without an SDK configured every span is a
no-op that costs about a microsecond, yet a `traceparent` received from a caller still
flows through: the instance keeps it, its jobs' spans and handlers see it, and external
workers get it in the fetch-and-lock answer. With the SDK (`pip install 'legato[otel]'`,
then `OTEL_EXPORTER_OTLP_ENDPOINT` for `legato server` and `legato worker`, or your own
`TracerProvider` in Python) the spans are recorded and exported.

The spans (docs/tracing.md):

| span | kind | parent |
| --- | --- | --- |
| `{METHOD} {route}` | server | the caller's `traceparent` header |
| `start {process}` | internal | what is current: a request's span, a span of your own; else a new trace |
| `job {task type}` | consumer | the instance's `start` span: every job of an instance is in its trace |
| `external job {task type}` | producer | the same, when an external worker fetches the job |

An instance remembers the `traceparent` of its start span (a column of its row, and of
each job's row), which is how a job run hours later by another process joins the trace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER_NAME = "legato"
_PROPAGATOR = TraceContextTextMapPropagator()


def tracer() -> trace.Tracer:
    """Legato's tracer from the global provider (a no-op one until an SDK is set up)."""
    return trace.get_tracer(TRACER_NAME)


def context_of(traceparent: str | None) -> otel_context.Context | None:
    """The context a W3C `traceparent` names, or None when it is missing or malformed."""
    if not traceparent:
        return None
    extracted = _PROPAGATOR.extract({"traceparent": traceparent})
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted


def traceparent_of(span: Span | None = None) -> str | None:
    """The W3C `traceparent` of `span` (default: the current one), or None if there is none."""
    current = span if span is not None else trace.get_current_span()
    if not current.get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(current))
    return carrier.get("traceparent")


def current_ids() -> tuple[str | None, str | None]:
    """The trace and span id of the current span, as hex, for log lines; (None, None) outside one."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


@contextmanager
def span(
    name: str,
    *,
    parent: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span, current while the block runs; its parent is `parent` (a traceparent) when
    given and valid, else whatever is current. Exceptions are recorded on it."""
    context = context_of(parent)
    with tracer().start_as_current_span(
        name, context=context, kind=kind, attributes={k: v for k, v in (attributes or {}).items() if v is not None}
    ) as current:
        yield current


def configure_from_environment(service_name: str, environ: Mapping[str, str]) -> bool:
    """Export spans by OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces
    variant) is set; False when it is not. The SDK reads its other `OTEL_*` variables itself.

    Raises RuntimeError naming the extra to install when the SDK is missing.
    """
    if not (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set, but the OpenTelemetry SDK and OTLP exporter are not "
            "installed: pip install 'legato[otel]'"
        ) from exc
    name = environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


__all__ = [
    "TRACER_NAME",
    "Span",
    "SpanKind",
    "configure_from_environment",
    "context_of",
    "current_ids",
    "span",
    "traceparent_of",
    "tracer",
]
