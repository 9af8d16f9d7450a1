"""Telemetry: Prometheus metrics and OpenTelemetry traces, which the store and above call.

It sits below the store in the layers (pyproject.toml) and imports none of Legato's own
layers: counting a step must never pull the engine's callers in.
"""

from __future__ import annotations

from legato.telemetry.metrics import CONTENT_TYPE, MULTIPROCESS_VARIABLE, LiveGauges, Metrics, gauge

__all__ = ["CONTENT_TYPE", "MULTIPROCESS_VARIABLE", "LiveGauges", "Metrics", "gauge"]
