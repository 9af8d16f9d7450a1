"""A TCP proxy that injects the network faults databases meet in production.

    with FaultProxy(("127.0.0.1", 5432)) as proxy:
        url = proxy.url(postgres_url)      # the same database, through the proxy
        proxy.cut()                        # close every connection and refuse new ones
        proxy.stall()                      # keep connections open, forward nothing
        proxy.delay(0.05)                  # 50 ms more on every chunk, both ways
        proxy.heal()                       # back to passing everything through

It listens on an ephemeral loopback port and forwards to one loopback address; each
connection is two pump threads. A stall holds bytes (nothing is lost, as on a congested
link: they flow again after `heal`), a cut resets everything at once (a partition that
ends in RSTs or a restarted server). Only loopback targets: tests never reach further.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class FaultProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        if not target[0].startswith("127.") and target[0] != "localhost":
            raise ValueError("the fault proxy forwards to loopback addresses only")
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._delay = 0.0
        self._closed = False
        self.connections = 0  # accepted and forwarded, over the proxy's life
        self._accept_thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._accept_thread.start()

    # -- faults ----------------------------------------------------------------------------

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until `heal`."""
        with self._lock:
            self._refusing = True
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _reset(sock)
        self._flowing.set()  # wake stalled pumps so they see their sockets gone

    def stall(self) -> None:
        """Keep connections (and accept new ones) but forward nothing until `heal`."""
        self._flowing.clear()

    def delay(self, seconds: float) -> None:
        """Add `seconds` of latency to every chunk forwarded, in both directions."""
        self._delay = seconds

    def heal(self) -> None:
        with self._lock:
            self._refusing = False
        self._delay = 0.0
        self._flowing.set()

    # -- plumbing --------------------------------------------------------------------------

    def url(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        parts = urlsplit(database_url)
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self._delay:
                    time.sleep(self._delay)
                while not self._flowing.wait(0.05):
                    if self._closed:
                        return
                with self._lock:
                    alive = source in self._sockets and sink in self._sockets
                if not alive:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _reset(source)
            _reset(sink)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv on this socket
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
    with contextlib.suppress(OSError):
        sock.close()
