"""The YAML vocabulary both ways share: the step kinds, the keys each takes, and the reader's limits."""

from __future__ import annotations

import dataclasses

from legato.formats.builder import RetryPolicy

MAX_DOCUMENT_BYTES = 1024 * 1024
"""Largest document accepted (1 MiB): ample for 5,000 elements, small enough to parse fast."""
MAX_DEPTH = 100
"""Deepest nesting of YAML collections; the composer recurses on it."""

_TIMER_KEYS = ("duration", "date", "cycle")
_BOUNDARY_KEYS = ("on_error", "on_timer", "on_message")
_ACTIVITY_KEYS = ("inputs", "outputs", *_BOUNDARY_KEYS, "next")
STEP_KINDS: dict[str, tuple[str, ...]] = {
    "start": ("message", "correlation_key", *_TIMER_KEYS, "next"),
    "end": ("terminate", "error", "error_message"),
    "service": ("task_type", "retry", "timeout", *_ACTIVITY_KEYS),
    "script": ("code", *_ACTIVITY_KEYS),
    "user": (
        "assignee",
        "candidate_users",
        "candidate_groups",
        "description",
        "due_date",
        "follow_up_date",
        "priority",
        "form",
        *_ACTIVITY_KEYS,
    ),
    "exclusive": ("next",),
    "parallel": ("next",),
    "subprocess": ("steps", *_ACTIVITY_KEYS),
    "call": ("process", "version", "tenant", *_ACTIVITY_KEYS),
    "decision": ("decision_ref", "result_variable", "tenant", "result_mapping", "retry", "timeout", *_ACTIVITY_KEYS),
    "catch_timer": (*_TIMER_KEYS, "next"),
    "catch_message": ("message", "correlation_key", "next"),
}
"""Each step kind, with the keys it takes besides its kind, `name` and `documentation`."""
_BOUNDARY_FIELDS: dict[str, tuple[str, ...]] = {
    "on_error": ("code", "error_message"),
    "on_timer": (*_TIMER_KEYS, "interrupting"),
    "on_message": ("message", "correlation_key", "interrupting"),
}
_COMMON_KEYS = ("name", "documentation")
_PROCESS_KEYS = ("process", "name", "documentation", "sensitive", "steps")
_RETRY_KEYS = tuple(f.name for f in dataclasses.fields(RetryPolicy))
_ENTRY_KEYS = ("to", "default", "when", "id", "name")
_STEP_HINTS = {
    **{key: "boundary events go on tasks and subprocesses only" for key in _BOUNDARY_KEYS},
    "next": "nothing follows an end event",
}
_ERROR_HINTS = {"interrupting": "an error boundary event always interrupts"}

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT = (f"{_TAG}{name}" for name in ("null", "bool", "int", "float"))
_ALLOWED_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}
_MAX_NUMBER_TEXT = 40
