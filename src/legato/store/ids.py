"""Instance ids: time-ordered, so new rows land at the end of B-tree indexes."""

from __future__ import annotations

import os
import time


def new_instance_id() -> str:
    """48 bits of milliseconds then 64 random bits, as 28 hex digits (like a UUIDv7)."""
    return f"{int(time.time() * 1000):012x}{int.from_bytes(os.urandom(8), 'big'):016x}"
