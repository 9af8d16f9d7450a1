"""Live updates: one poller per server reads the change feed and fans it out to streams.

Each step writes its `changes` rows in its own transaction (store/changes.py); live
screens follow them over server-sent events (`GET /api/v1/events`). One poller per
server, not one per open screen: a hundred browser tabs cost one indexed read per
interval, and the poller sleeps while nobody listens.

On PostgreSQL, ids come from a sequence and transactions commit in any order, so id 41
may become visible after id 42 was read. The poller therefore keeps a position below
which every id was delivered, delivers what it sees above it at once, and waits up to
`gap_wait` seconds for a missing id before giving up on it (a rolled-back transaction
burns sequence values that never appear). SQLite has one writer and no such gaps.

A subscriber that falls behind (its queue is full) is not slowed down for: it gets a
`reset`, which tells the screen to reload what it shows and follow on from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from legato.store.changes import Change, Changes
from legato.store.tenants import Visible, may_see

log = logging.getLogger("legato.api")

RESET = None  # what a subscriber's queue carries when it must reload
GAP_JUMP = 100_000  # a hole wider than this (a sequence reset, a restore) is not waited for


@dataclass(eq=False, slots=True)
class Subscriber:
    visible: Visible
    process: str | None = None
    instance: str | None = None
    queue: asyncio.Queue[Change | None] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    behind: bool = False

    def wants(self, change: Change) -> bool:
        return (
            may_see(self.visible, change.tenant_id)
            and (self.process is None or change.process_key == self.process)
            and (self.instance is None or change.instance_id == self.instance)
        )

    def offer(self, change: Change) -> None:
        if self.behind or not self.wants(change):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.reset()

    def reset(self) -> None:
        """Drop what is queued and tell the screen to reload; offers wait until it has read that."""
        self.behind = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(RESET)

    async def next(self, timeout: float) -> Change | None:
        """The next change, RESET, or raise TimeoutError after `timeout` seconds."""
        change = await asyncio.wait_for(self.queue.get(), timeout)
        if change is RESET:
            self.behind = False
        return change


class ChangeHub:
    def __init__(self, changes: Changes, *, interval: float = 0.25, gap_wait: float = 2.0, batch: int = 1000) -> None:
        self.changes = changes
        self.interval = interval
        self.gap_wait = gap_wait
        self.batch = batch
        self.position: int | None = None  # every id at or below it is delivered or given up
        self._above: set[int] = set()  # ids above the position already delivered
        self._missing: dict[int, float] = {}  # ids above the position not seen yet, since when
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @contextlib.asynccontextmanager
    async def subscribe(self, subscriber: Subscriber, after: int | None = None) -> AsyncIterator[Subscriber]:
        """Follow the feed from now, or from just after `after` (a reconnecting screen's
        Last-Event-ID): rows it missed are read back from the database first."""
        if self.position is None:
            self.position = await run_in_threadpool(self.changes.last_id)
        self._subscribers.add(subscriber)  # before the catch-up read: nothing newer is missed
        position = self.position
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="legato-change-feed")
        try:
            if after is not None and after < position:
                await self._catch_up(subscriber, after, position)
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def _catch_up(self, subscriber: Subscriber, after: int, position: int) -> None:
        limit = subscriber.queue.maxsize
        first = await run_in_threadpool(self.changes.first_id)
        missed = await run_in_threadpool(self.changes.after, after, limit=limit)
        missed = [c for c in missed if c.id <= position]
        if after < first - 1 or len(missed) >= limit:
            subscriber.reset()  # pruned since, or more than a queue holds: reload instead
            return
        live = []
        while not subscriber.queue.empty():
            live.append(subscriber.queue.get_nowait())
        if RESET in live:
            subscriber.queue.put_nowait(RESET)
            return
        seen = {c.id for c in missed}
        for change in [*missed, *(c for c in live if c is not None and c.id not in seen)]:
            subscriber.offer(change)

    async def _run(self) -> None:
        while self._subscribers:
            try:
                rows = await run_in_threadpool(self.changes.after, self.position or 0, limit=self.batch)
            except Exception as exc:  # the database is away: screens stay as they are, we retry
                log.warning("reading the change feed failed: %s", exc)
                await asyncio.sleep(max(self.interval, 1.0))
                continue
            self.absorb(rows, time.monotonic())
            if len(rows) < self.batch or self._missing:
                await asyncio.sleep(self.interval)
        self._task = None

    def absorb(self, rows: list[Change], now: float) -> None:
        """Deliver the rows not delivered yet and move the position past what is settled."""
        position = self.position or 0
        for change in rows:
            if change.id <= position or change.id in self._above:
                continue
            self._above.add(change.id)
            self._missing.pop(change.id, None)
            for subscriber in tuple(self._subscribers):
                subscriber.offer(change)
        top = max(self._above, default=position)
        if top - position > GAP_JUMP:
            self._above.clear()
            self._missing.clear()
            self.position = top
            return
        for missing in range(position + 1, top):
            if missing not in self._above:
                self._missing.setdefault(missing, now)
        while True:
            following = position + 1
            if following in self._above:
                self._above.discard(following)
            elif following in self._missing and now - self._missing[following] >= self.gap_wait:
                del self._missing[following]
            else:
                break
            position = following
        self.position = position


__all__ = ["RESET", "ChangeHub", "Subscriber"]
