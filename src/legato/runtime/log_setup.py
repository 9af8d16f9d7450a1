"""Logging for operators: text or JSON lines, the ids of what a line is about, a level per component.

    configure(format="json", levels="info,legato.worker=debug,legato.http=warning")

Every line carries, where known, the `instance_id`, `element` and `job_id` it is about and
the `trace_id` and `span_id` of the span it was logged in: an HTTP request's (which joins
the caller's W3C `traceparent`), a job's (which joins its instance's trace).
Code that logs passes them as `extra=...`; code that runs *for* a job or a request sets
them once with `log_context(...)`, and every line logged meanwhile, also by a handler's
own logger, carries them.

JSON lines have the fields `time` (ISO 8601, UTC), `level`, `logger`, `message`, the ids
above when known, and `exception` (the traceback) when there is one; text lines put the
ids at the end: `... [instance=01a2... element=ship job=01a2...:3 trace=4bf9... span=00f0...]`.

`configure` installs one handler on the root logger, with the `RepeatFilter` that logs a
repeated failure once per interval (`legato.runtime.log_throttle`). The loggers:

| logger | what |
| --- | --- |
| `legato.http` | the access log: one line per request (method, path, status, duration) |
| `legato.api` | 503s while the database is away, 500s with their tracebacks, health checks |
| `legato.worker` | worker start and stop, claims and commits that failed |
| `legato.jobs` | job failures, retries, incidents, recoveries: one line each |
| `legato.store` | connections cut by the database deadline |
| `uvicorn.error` | the HTTP server itself |
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from legato.runtime.log_throttle import DEFAULT_INTERVAL, RepeatFilter
from legato.telemetry.tracing import current_ids

FIELDS = ("instance_id", "element", "job_id", "trace_id", "span_id")
FORMATS = ("text", "json")
LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10}

_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"legato_log_{name}", default=None) for name in FIELDS
}


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Lines logged inside carry these fields (instance_id, element, job_id, trace_id, span_id)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log fields: {', '.join(sorted(unknown))}")
    tokens = [(_context[name], _context[name].set(value)) for name, value in fields.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


class ContextFilter(logging.Filter):
    """Give every record the context's fields it does not carry itself (None when unknown).

    The trace and span ids are the current OpenTelemetry span's (a request's, a job's:
    legato.telemetry.tracing) when there is one, so a line can be found from its span in a
    tracing UI and the other way round; else those `log_context` set.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "trace_id", None) is None:
            trace_id, span_id = current_ids()
            if trace_id is not None:
                record.trace_id = trace_id
                if getattr(record, "span_id", None) is None:
                    record.span_id = span_id
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, _context[name].get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        for name in ("method", "path", "status", "duration_ms", "client"):  # the access log's own fields
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time level logger: message [instance=... element=... job=... trace=... span=...]`, for people."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        known = [(name, getattr(record, name, None)) for name in FIELDS]
        ids = " ".join(f"{name.removesuffix('_id')}={value}" for name, value in known if value is not None)
        if not ids:
            return text
        first, newline, rest = text.partition("\n")  # after the message, before a traceback
        return f"{first} [{ids}]{newline}{rest}"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it), like logging's last resort."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def parse_levels(text: str) -> dict[str, int]:
    """`info` or `warning,legato.worker=debug,legato.http=error` -> {logger: level}; '' is the root."""
    levels: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, level = item.rpartition("=")
        level = level.strip().lower()
        if level not in LEVELS:
            raise ValueError(f"unknown log level {level!r} in {item!r}: use one of {', '.join(LEVELS)}")
        levels[name.strip()] = LEVELS[level]
    if not levels:
        raise ValueError("no log level given")
    return levels


def configure(
    *,
    format: str = "text",
    levels: str | Mapping[str, int] = "info",
    stream: IO[str] | None = None,
    repeat_interval: float = DEFAULT_INTERVAL,
) -> logging.Handler:
    """Log to `stream` (stderr) in `format`, with a level per logger; returns the handler."""
    if format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {format!r}")
    chosen = parse_levels(levels) if isinstance(levels, str) else dict(levels)
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RepeatFilter(repeat_interval))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "legato", False):
            root.removeHandler(old)
    handler.legato = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(chosen.pop("", logging.INFO))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # the server's own loggers join ours
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for name, level in chosen.items():
        logging.getLogger(name).setLevel(level)
    return handler


__all__ = ["FIELDS", "ContextFilter", "JsonFormatter", "TextFormatter", "configure", "log_context", "parse_levels"]
