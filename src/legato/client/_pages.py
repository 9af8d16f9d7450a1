"""One page of a list answer, and the walk over every page by its keyset cursor.

Every list of the API answers `{items, total, total_exact, next_cursor}`: `total` is how
many match (at least that many when `total_exact` is false, where the server stopped
counting), and `next_cursor`, passed back as `cursor`, asks for the rows after this page.
The cursor is opaque: a client never builds one, it only hands back what it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from legato.client._errors import ApiError


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """One page: iterate it, take its `len`, or index it like the list of its items."""

    items: list[dict[str, Any]]
    total: int | None = None
    total_exact: bool = True
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # what a list answers besides (e.g. `truncated`)

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> Page:
        items = answer.get("items")
        if not isinstance(items, list):
            raise ValueError("the answer has no list of items")
        total = answer.get("total")
        cursor = answer.get("next_cursor")
        known = {"items", "total", "total_exact", "next_cursor"}
        return cls(
            items=items,
            total=total if isinstance(total, int) else None,
            total_exact=bool(answer.get("total_exact", True)),
            next_cursor=cursor if isinstance(cursor, str) and cursor else None,
            extra={k: v for k, v in answer.items() if k not in known},
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.items[index]

    def to_dict(self) -> dict[str, Any]:
        """The answer as the server sent it."""
        return {
            "items": self.items,
            "total": self.total,
            "total_exact": self.total_exact,
            "next_cursor": self.next_cursor,
            **self.extra,
        }


def follow(fetch: Callable[[str | None], Page], *, cursor: str | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a list, page after page, until the server gives no next cursor.

    `fetch(cursor)` asks for one page. A page is fetched only when the previous one is used
    up, so a caller that stops early asks for nothing more. A server that hands back the
    cursor it was given would loop forever; that is refused.
    """
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        if page.next_cursor == cursor:
            raise ApiError({"code": "CURSOR_REPEATED", "detail": "the server gave the same cursor twice"})
        cursor = page.next_cursor


__all__ = ["Page", "follow"]
