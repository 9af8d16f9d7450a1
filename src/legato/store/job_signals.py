"""Wake-ups for whoever waits for jobs: a commit that makes work due says so, by task type.

External workers long-poll (`POST /external-tasks/fetch-and-lock` with a wait): their
request sleeps until a job of one of its task types may be free, and must wake as soon as
one is committed, on this server or on another. Two paths carry the news:

- in this process, `announce` registers a hook that runs right after the transaction
  commits (`Database.after_commit`) and calls the listeners of those task types;
- on PostgreSQL it also sends `NOTIFY legato_jobs, '<types>'` inside the transaction,
  which PostgreSQL delivers to every listening session only if and when it commits. One
  background thread per process (started with the first listener) holds a `LISTEN`
  connection and calls the same listeners. While that connection is down,
  `cross_process` is False and waiters re-check more often; once it is back, every
  listener is woken once, for what it may have missed.

SQLite has no such channel: a commit by another process on the same file is seen by the
waiter's bounded re-check (`legato.runtime.external_tasks`). A wake-up is only a hint:
the waiter claims, and a claim that finds nothing simply waits again.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable

import psycopg
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.store.database import Database

log = logging.getLogger("legato.store")

CHANNEL = "legato_jobs"
ANY = "*"
"""A task type that wakes every listener: a job whose type the announcer does not know
(a retry, an incident retried, a lock given back)."""

_MAX_PAYLOAD = 7000  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more

Listener = Callable[[], None]


class JobSignals:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._listeners: dict[int, tuple[frozenset[str], Listener]] = {}
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.cross_process = False
        """True while other processes' commits reach this one (PostgreSQL with LISTEN up)."""

    # -- the announcing side ---------------------------------------------------------------

    def announce(self, conn: Connection, task_types: Iterable[str]) -> None:
        """Within a write transaction: jobs of `task_types` may be free once it commits."""
        types = sorted(set(task_types))
        if not types:
            return
        if not self.database.is_sqlite:
            payload = ",".join(types)
            if len(payload.encode()) >= _MAX_PAYLOAD:
                payload = ANY
            conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})
        self.database.after_commit(conn, lambda: self.fire(types))

    def fire(self, task_types: Iterable[str]) -> None:
        """Call the listeners of any of `task_types` (all of them for `ANY`)."""
        types = set(task_types)
        with self._lock:
            listeners = list(self._listeners.values())
        everyone = ANY in types
        for wanted, listener in listeners:
            if everyone or not wanted.isdisjoint(types):
                try:
                    listener()
                except Exception:
                    log.exception("a job listener failed")

    # -- the waiting side ------------------------------------------------------------------

    def listen(self, task_types: Iterable[str], listener: Listener) -> int:
        """Call `listener` (from any thread, keep it short) when jobs of these types may be free."""
        handle = next(self._ids)
        with self._lock:
            self._listeners[handle] = (frozenset(task_types), listener)
            if not self.database.is_sqlite and self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen_loop, name="legato-job-signals", daemon=True)
                self._thread.start()
        return handle

    def unlisten(self, handle: int) -> None:
        with self._lock:
            self._listeners.pop(handle, None)

    def close(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=3)

    def _listen_loop(self) -> None:
        url = sa.engine.make_url(self.database.url).set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.cross_process = True
                    backoff = 0.5
                    self.fire([ANY])  # whatever was committed while we were not listening
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=1.0):
                            self.fire(notify.payload.split(","))
            except Exception as exc:
                if self._stop.is_set():
                    break
                log.warning("listening for new jobs failed (%s); waiting fetches re-check instead", exc)
            finally:
                self.cross_process = False
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)
