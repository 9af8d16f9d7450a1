"""Measuring without disturbing: clocks, percentiles, memory, and figures beside targets.

Memory is read from the operating system, never traced: `tracemalloc` would slow every
allocation of the run it measures. The current resident set size comes from
`/proc/self/statm` (one small read), the high-water mark from `getrusage`, and Python's
own heap from `sys.getallocatedblocks()`, a counter CPython keeps anyway. The heap count
separates memory Python objects hold (what would grow with a leak per instance) from
memory the SQLite page cache or the allocator keeps, which RSS mixes together.
"""

from __future__ import annotations

import math
import os
import resource
import sys
from collections.abc import Sequence
from typing import Any

from targets import Target

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int | None:
    """This process's resident set size now, or None where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:
        return None


def peak_rss_bytes() -> int:
    """This process's RSS high-water mark since it started."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def python_heap_blocks() -> int:
    """Memory blocks Python's allocator has handed out and not taken back."""
    return sys.getallocatedblocks()


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with `fraction` of samples at or below."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def mebibytes(size: float | None) -> float | None:
    return None if size is None else round(size / 2**20, 1)


def figure(value: float | None, unit: str, target: Target | None = None, *, digits: int = 1) -> dict[str, Any]:
    """One measured figure, with the target it answers to (or None) and whether it is met."""
    shown = None if value is None else round(value, digits)
    return {
        "value": shown,
        "unit": unit,
        "target": None if target is None else target.text,
        "met": None if target is None or value is None else target.met_by(value),
    }
