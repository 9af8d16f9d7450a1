"""A hard bound on the CPU time of one evaluation, for every dialect (issue #6, item 18).

The work budget (`_budget.MAX_WORK`) counts items built and inspected, not the work inside a
loop body: one FEEL condition `count(for x in 1..15000 return <a 1,000-term sum>) > 0` ran
for 8 s inside the write transaction and then succeeded. So every evaluation also runs
against a deadline in CPU time:

- An entry point (`FeelExpression.evaluate`, a Legato-dialect or JUEL expression, a script
  run, a DMN decision) calls `begin(kind)` and `end(...)` around its work. Nested entries
  (the unary tests of a decision table) run under the outermost one's deadline.
- The evaluators call `tick()` where work can repeat: each iteration of FEEL's `for`,
  `some`, `every` and filters, each list operation that spends from the work budget, each
  function and method call. A tick is a counter; every `CHECK_EVERY` ticks the thread's CPU
  clock is read (`time.thread_time_ns`, about 0.3 µs), so the check costs little and the
  overshoot is at most a few loop bodies.
- The clock starts at the first read: before it an evaluation is bounded by its size (5,000
  syntax nodes) and CHECK_EVERY repetitions, and a short evaluation never reads the clock.

Thread CPU time, not the wall clock: a machine that is busy with other work must not fail
expressions that would have finished, and what the bound protects (the write transaction
held while an expression runs) is bounded by the CPU the expression itself takes.

The limits are process-wide (`set_cpu_limits`): `legato server` reads them from
LEGATO_EXPRESSION_CPU_LIMIT and LEGATO_SCRIPT_CPU_LIMIT (seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final, Literal

Kind = Literal["expression", "script", "decision"]

DEFAULT_EXPRESSION_CPU_LIMIT: Final = 0.1
"""Seconds of CPU one expression (a condition, a mapping, a FEEL cell) may take."""
DEFAULT_SCRIPT_CPU_LIMIT: Final = 1.0
"""Seconds of CPU one script run, or one DMN decision with what it requires, may take."""
CHECK_EVERY: Final = 16
"""Ticks between two reads of the CPU clock."""

_limits_ns: dict[str, int] = {
    "expression": int(DEFAULT_EXPRESSION_CPU_LIMIT * 1e9),
    "script": int(DEFAULT_SCRIPT_CPU_LIMIT * 1e9),
}


class CpuLimitExceeded(Exception):
    """One evaluation took more CPU time than its limit; each dialect names the expression."""

    def __init__(self, kind: str, limit_ns: int) -> None:
        self.kind = kind
        self.limit_ms = limit_ns / 1e6
        setting = "LEGATO_EXPRESSION_CPU_LIMIT" if kind == "expression" else "LEGATO_SCRIPT_CPU_LIMIT"
        super().__init__(
            f"stopped after {self.limit_ms:g} ms of CPU time, the limit for one {kind} ({setting}); "
            "make it do less work, for example loop over fewer items"
        )


_local = threading.local()
"""Per thread, `state`: [active, kind, limit in ns, deadline in thread_time_ns (0: not started)]."""
_countdown = CHECK_EVERY
"""Ticks until the next clock read. Shared by the threads on purpose: a plain global is several
times cheaper than a thread-local, and the thread that reaches zero checks its own deadline
(under the GIL a thread that runs long ticks alone, so it is checked every CHECK_EVERY ticks)."""


def _state() -> list[Any]:
    try:
        state: list[Any] = _local.state
    except AttributeError:
        state = _local.state = [False, "expression", 0, 0]
    return state


def set_cpu_limits(*, expression: float | None = None, script: float | None = None) -> None:
    """Set the CPU-time limits, in seconds, for every evaluation of this process from now on."""
    for kind, seconds in (("expression", expression), ("script", script)):
        if seconds is None:
            continue
        if not seconds > 0:
            raise ValueError(f"the {kind} CPU limit must be more than 0 seconds, not {seconds!r}")
        _limits_ns[kind] = int(seconds * 1e9)


def cpu_limits() -> dict[str, float]:
    """The limits in force, in seconds: `{"expression": 0.1, "script": 1.0}`."""
    return {kind: limit / 1e9 for kind, limit in _limits_ns.items()}


def begin(kind: Kind) -> bool:
    """Start bounding this thread's evaluation; False (and nothing changes) inside an outer one."""
    state = getattr(_local, "state", None) or _state()
    if state[0]:
        return False
    state[0] = True
    state[1] = kind
    state[2] = _limits_ns["expression" if kind == "expression" else "script"]
    state[3] = 0
    return True


def end(began: bool) -> None:
    """Close what `begin` opened (call it in a `finally`, with what `begin` returned)."""
    if began:
        _local.state[0] = False


@contextmanager
def cpu_bound(kind: Kind) -> Iterator[None]:
    """`begin` and `end` around a block, for callers above this package (a DMN decision)."""
    began = begin(kind)
    try:
        yield
    finally:
        end(began)


def tick(weight: int = 1) -> None:
    """Count a repetition of work; every CHECK_EVERY of them, CpuLimitExceeded once past the deadline."""
    global _countdown
    _countdown -= weight
    if _countdown <= 0:
        _check()


def _check() -> None:
    global _countdown
    _countdown = CHECK_EVERY
    state = getattr(_local, "state", None)
    if state is None or not state[0]:
        return
    now = time.thread_time_ns()
    if state[3] == 0:
        state[3] = now + state[2]  # the clock starts at the first check
    elif now > state[3]:
        _countdown = 1  # past it, every later tick of this evaluation fails too
        raise CpuLimitExceeded(state[1], state[2])
