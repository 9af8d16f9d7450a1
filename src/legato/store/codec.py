"""JSON in and out of the database, and the conversions at the store's edges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def from_epoch(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
