"""A client-side deadline for PostgreSQL connections that stop answering.

PostgreSQL's `statement_timeout` cancels a statement the *server* is slow with. It cannot
help when the link stalls: a proxy or a half-dead network path that keeps the TCP
connection open but forwards nothing leaves the client blocked in a read for as long as
the kernel keeps the socket (minutes to hours), and every request that needs the database
piles up behind it. libpq has no read timeout, so a watchdog thread enforces one: each
checked-out connection carries a deadline, and a connection still out after it has its
socket shut down. The blocked call then fails at once with the driver's "server closed
the connection" error, which the store reports as DATABASE_UNAVAILABLE, and the pool
drops the connection.

The deadline covers one checkout (one transaction and its ping), so it is the longest a
transaction may hold a connection; migrations, which may legitimately run long, are not
watched (`Database.write(watched=False)`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("legato.store")


@dataclass(slots=True)
class _Watch:
    connection: Any  # the DBAPI connection
    fd: int
    deadline: float


class Watchdog:
    """Shut the sockets of connections checked out for longer than `timeout` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.fired = 0
        self._watches: dict[int, _Watch] = {}
        self._unwatched: set[int] = set()  # threads running unwatched work (migrations)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, connection: Any) -> None:
        """Watch `connection` from now on (called when the pool hands it out)."""
        if threading.get_ident() in self._unwatched:
            return
        try:
            fd = int(connection.fileno())
        except Exception:  # a connection without a socket yet: nothing to watch
            return
        with self._lock:
            self._watches[id(connection)] = _Watch(connection, fd, time.monotonic() + self.timeout)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="legato-db-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def disarm(self, connection: Any) -> None:
        """Stop watching `connection` (it went back to the pool, or was closed)."""
        with self._lock:
            self._watches.pop(id(connection), None)

    def unwatched(self) -> _Unwatched:
        """A context in which this thread's checkouts carry no deadline."""
        return _Unwatched(self)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._watches.clear()
            self._wake.notify()

    def _run(self) -> None:
        with self._lock:
            while not self._closed:
                now = time.monotonic()
                for key, watch in list(self._watches.items()):
                    if watch.deadline <= now:
                        del self._watches[key]
                        self._shut(watch)
                next_deadline = min((w.deadline for w in self._watches.values()), default=now + 60.0)
                self._wake.wait(max(0.05, next_deadline - now))

    def _shut(self, watch: _Watch) -> None:
        # Called with the lock held: the connection cannot be checked in (and its fd
        # reused) meanwhile, since disarm waits for the lock.
        try:
            if getattr(watch.connection, "closed", False) or watch.connection.fileno() != watch.fd:
                return
            duplicate = socket.socket(fileno=os.dup(watch.fd))
        except Exception:
            return
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
            self.fired += 1
            log.warning("a database connection gave no answer for %.1f s; closed it", self.timeout)
        except OSError:
            pass
        finally:
            duplicate.close()


class _Unwatched:
    def __init__(self, watchdog: Watchdog) -> None:
        self.watchdog = watchdog

    def __enter__(self) -> None:
        self.watchdog._unwatched.add(threading.get_ident())

    def __exit__(self, *_exc: object) -> None:
        self.watchdog._unwatched.discard(threading.get_ident())
