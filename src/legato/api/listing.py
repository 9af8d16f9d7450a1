"""The query parameters every paged list shares: `limit` and `cursor`.

Lists answer `{items, total, total_exact, next_cursor}` (`legato.store.pages`); a caller
pages by passing `next_cursor` back as `cursor` until it is null.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from legato.store.pages import MAX_PAGE

LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, 1..{MAX_PAGE}")]
CursorQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=2000, description="the `next_cursor` of the previous page"),
]

__all__ = ["CursorQuery", "LimitQuery"]
