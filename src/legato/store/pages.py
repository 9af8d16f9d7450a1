"""Pages of a list: keyset cursors, bounded limits, and the `{items, total, next_cursor}` shape.

Every list the API serves is ordered by a unique key (a time and an id as a tie-break), and
the next page starts *after* the last row of this one (keyset pagination) rather than at
an offset. That stays fast at any depth — the database seeks into the index instead of
skipping rows — and stable under inserts: a new row never shifts the rows of later pages.

The cursor is opaque to callers: base64url of a small JSON array naming the list and the
sort key of the last row. A cursor of one list handed to another, or one that was edited,
is refused with 400 INVALID_CURSOR rather than silently returning something else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from legato.errors import InvalidCursor, InvalidFilter

MAX_PAGE = 1000
DEFAULT_PAGE = 100
COUNT_CAP = 100_000  # totals past this are reported as "at least" (total_exact false)


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One page of a list and what a caller needs to ask for the next one."""

    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    total_exact: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "total_exact": self.total_exact,
            "next_cursor": self.next_cursor,
            **self.extra,
        }


def check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise InvalidFilter(f"limit must be 1..{MAX_PAGE}", field="limit")
    return limit


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(kind: str, cursor: str, types: Sequence[type]) -> list[Any]:
    """The sort key a cursor names, checked against the list (`kind`) and the key's types."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise InvalidCursor("the cursor is not one this server gave out") from None
    if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
        raise InvalidCursor(f"the cursor does not belong to the {kind} list")
    key = value[1:]
    for part, expected in zip(key, types, strict=True):
        numeric = (int, float) if expected is float else expected
        if isinstance(part, bool) or not isinstance(part, numeric):
            raise InvalidCursor("the cursor is damaged")
        if isinstance(part, int) and not -(2**63) <= part < 2**63:
            raise InvalidCursor("the cursor is damaged")
    return key


__all__ = ["COUNT_CAP", "DEFAULT_PAGE", "MAX_PAGE", "Page", "check_limit", "decode_cursor", "encode_cursor"]
