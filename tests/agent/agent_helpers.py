"""A real server in a subprocess, agents in other subprocesses, and what they did.

`prepare` creates the database first (the invoice model, an admin token and a worker
token), so the server starts on it with nothing to ask; the agents' handlers
(`HANDLERS`, written into the test's folder) record every delivery and, keyed by the
job's idempotency key, the one side effect each job may have.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from external_models import INVOICE_BPMN
from legato.access.authenticator import Authenticator
from legato.runtime.app import Legato
from legato.testing.identity import admin_token

HANDLERS = """\
import os, sqlite3, time

def _db():
    conn = sqlite3.connect(os.environ["AGENT_EFFECTS"], timeout=30, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS deliveries (key TEXT, pid INTEGER, at REAL)")
    conn.execute("CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, pid INTEGER)")
    return conn

def register(legato):
    @legato.handler("invoice.check")
    def check(job):
        conn = _db()
        conn.execute("INSERT INTO deliveries VALUES (?, ?, ?)", (job.idempotency_key, os.getpid(), time.time()))
        conn.close()
        time.sleep(float(job.variables.get("sleep", 0)))
        conn = _db()
        conn.execute("INSERT OR IGNORE INTO effects VALUES (?, ?)", (job.idempotency_key, os.getpid()))
        conn.close()
        return {"checked_by": os.getpid()}

    legato.register("invoice.pay", lambda job: {"paid": True})
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)


@dataclass
class Site:
    """A server process and what the test needs to talk to it and to start agents."""

    folder: Path
    url: str
    admin: dict[str, str]
    worker_token: str
    server: subprocess.Popen[bytes]

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}/api/v1{path}", headers=self.admin, timeout=30, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def start(self, **variables: Any) -> str:
        return str(self.api("POST", "/definitions/invoice/instances", json={"variables": variables})["instance_id"])

    def status(self, instance_id: str) -> str:
        return str(self.api("GET", f"/instances/{instance_id}")["status"])

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/instances/{instance_id}/history")
        return list(answer["items"] if isinstance(answer, dict) else answer)

    def agent(self, name: str, *options: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
        env["AGENT_EFFECTS"] = str(self.folder / "effects.db")
        log = (self.folder / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "legato", "agent", "--server", self.url, "--token", self.worker_token]
        command += ["--handlers", "agent_handlers", "--worker-id", name, *options]
        return subprocess.Popen(command, cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT)

    def log_of(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def effects(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """(deliveries, effects): each (idempotency key, pid)."""
        path = self.folder / "effects.db"
        if not path.exists():
            return [], []
        with sqlite3.connect(path, timeout=30) as conn:
            try:
                deliveries = conn.execute("SELECT key, pid FROM deliveries").fetchall()
                effects = conn.execute("SELECT key, pid FROM effects").fetchall()
            except sqlite3.OperationalError:  # the tables are not there yet
                return [], []
        return deliveries, effects


def prepare(folder: Path) -> tuple[str, dict[str, str], str]:
    """The database (its path), an admin's headers, and a worker token for the invoice types."""
    database = str(folder / "legato.db")
    legato = Legato(database)
    try:
        legato.deploy(INVOICE_BPMN, source_format="bpmn")
        admin = {"Authorization": f"Bearer {admin_token(legato)}"}
        authenticator = Authenticator(legato.store, clock=legato.clock)
        principal = authenticator.principal_of(authenticator.directory.user("admin"))
        worker = authenticator.issue_token(
            name="agents", kind="worker", creator=principal, task_types=["invoice.check", "invoice.pay"]
        ).token
    finally:
        legato.close()
    return database, admin, worker


def start_site(folder: Path) -> Site:
    database, admin, worker = prepare(folder)
    (folder / "agent_handlers.py").write_text(HANDLERS)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    env["LEGATO_LOG_LEVEL"] = "warning"
    server = subprocess.Popen(
        [sys.executable, "-m", "legato", "server", "--no-demo", "--port", str(port), "--database", database],
        cwd=folder,
        env=env,
        stdout=(folder / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert server.poll() is None, (folder / "server.log").read_text()
        try:
            return httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    eventually(up, 60, "the server start")
    return Site(folder=folder, url=url, admin=admin, worker_token=worker, server=server)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout)


def completions_at(site: Site, instance_id: str, element: str) -> list[dict[str, Any]]:
    return [e for e in site.history(instance_id) if e["type"] == "element_completed" and e["element"] == element]
