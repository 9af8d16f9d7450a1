"""The real thing: `legato server` in its own process, the CLI in others, over a socket.

One test, because it is slow: it starts the server on a fresh database (so the demo is
deployed by default), deploys and runs a model of its own through `legato deploy`,
`start`, `tasks`, `complete` and `show`, runs a demo order through the demo handlers,
then stops a `legato worker` and the server with SIGTERM and expects both to exit 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import ORDER_YAML

APPROVAL_YAML = """\
process: approval
steps:
  - start: requested
  - user: decide
    name: Decide
  - end: decided
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("LEGATO_")}


def _wait_until_healthy(url: str, server: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            out, err = server.communicate()
            pytest.fail(f"the server exited early ({server.returncode}):\n{out}\n{err}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server at {url} did not become healthy within {timeout} s")


def test_server_and_cli_end_to_end(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    database = tmp_path / "e2e.db"
    env = {**_environment(), "LEGATO_CONFIG_DIR": str(tmp_path / "config"), "LEGATO_ADMIN_PASSWORD": "e2e-secret-pw"}

    def legato(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "legato", "--url", url, *args],
            capture_output=True,
            input=stdin,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    def json_of(*args: str) -> Any:
        result = legato(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    server = subprocess.Popen(
        [sys.executable, "-m", "legato", "server", "--port", str(port), "--database", str(database)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        _wait_until_healthy(url, server)

        refused = legato("definitions")
        assert refused.returncode == 1 and "AUTHENTICATION_REQUIRED" in refused.stderr
        wrong = legato("login", "-u", "admin", "--password-stdin", stdin="not-the-password\n")
        assert wrong.returncode == 1 and "LOGIN_FAILED" in wrong.stderr
        logged_in = legato("login", "-u", "admin", "--password-stdin", stdin="e2e-secret-pw\n")
        assert logged_in.returncode == 0, logged_in.stderr
        credentials = tmp_path / "config" / "credentials.json"
        assert credentials.stat().st_mode & 0o777 == 0o600
        assert "e2e-secret-pw" not in credentials.read_text()
        assert json_of("whoami")["username"] == "admin"

        assert [d["key"] for d in json_of("definitions")] == ["order_to_cash"]  # the demo, by default

        # the walk-through the banner and the README give: a user task, an incident, its repair
        big = json_of("start", "order_to_cash", "--var", "order_id=A-2", "--var", "amount=12000")
        waiting = _eventually(lambda: json_of("tasks", "--instance", big["instance_id"]))
        assert [t["element"] for t in waiting] == ["approve_order"]
        bad = json_of("start", "order_to_cash", "--var", "order_id=A-3", "--var", 'amount="lots"')
        [incident] = _eventually(lambda: json_of("incidents", "--instance", bad["instance_id"]), timeout=60)
        assert incident["element"] == "check_credit" and "amount must be a number" in incident["message"]
        fixed = legato("retry", str(incident["id"]), "--var", "amount=300")
        assert fixed.returncode == 0, fixed.stderr
        _eventually(lambda: "reserve_stock" in json.dumps(json_of("show", bad["instance_id"])["history"]))
        assert json_of("incidents", "--instance", bad["instance_id"]) == []

        model = tmp_path / "approval.yaml"
        model.write_text(APPROVAL_YAML)
        deployed = legato("deploy", str(model))
        assert deployed.returncode == 0, deployed.stderr
        assert deployed.stdout.startswith("deployed  approval version 1")

        started = json_of("start", "approval", "--var", "amount=250", "--business-key", "E2E-1")
        instance_id = started["instance_id"]
        tasks = json_of("tasks", "--instance", instance_id)
        assert [t["element"] for t in tasks] == ["decide"]
        completed = legato("complete", tasks[0]["id"], "--var", "approved=true")
        assert completed.returncode == 0, completed.stderr

        shown = legato("show", instance_id)
        assert shown.returncode == 0, shown.stderr
        assert "completed" in shown.stdout and "E2E-1" in shown.stdout
        assert "instance_completed" in shown.stdout and "approved=true" in shown.stdout

        order = json_of("start", "order_to_cash", "--var", "order_id=E2E-2", "--var", "amount=99000")
        deadline = time.monotonic() + 30
        while json_of("show", order["instance_id"])["status"] != "completed":
            assert time.monotonic() < deadline, "the demo order did not finish"
            time.sleep(0.1)
        assert json_of("show", order["instance_id"])["variables"]["rejection_sent"] is True

        refused = legato("deploy", str(_write(tmp_path / "broken.yaml", ORDER_YAML.replace("task_type: ship", ""))))
        assert refused.returncode == 1
        assert refused.stderr.startswith("error MODEL_PARSE_ERROR:")

        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "legato",
                "worker",
                "--database",
                str(database),
                "--handlers",
                "legato.examples.handlers",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert worker.stdout is not None
        ready = worker.stdout.readline()  # printed once its signal handlers are in place
        assert "handlers: billing.collect" in ready, ready + worker.stderr.read() if worker.stderr else ready
        worker.send_signal(signal.SIGTERM)
        worker_out, worker_err = worker.communicate(timeout=30)
        assert worker.returncode == 0, worker_err
        assert "worker stopped" in worker_out
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)

    assert server.returncode == 0, err
    assert f"is serving {url}" in out and "order_to_cash v1 deployed" in out
    assert "server stopped" in out
    assert "Application shutdown complete" in err
    after = legato("instances")
    assert after.returncode == 2
    assert "legato server" in after.stderr


def _eventually(probe: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return value


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
