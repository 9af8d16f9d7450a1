"""`legato server --log-format json`: every stderr line a JSON object, the access log on by default."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from legato.errors import InvalidInput
from legato.settings import Settings

TRACE = "0af7651916cd43dd8448eb211c80319c"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_server_logs_json_lines_with_an_access_log(tmp_path: Path) -> None:
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("LEGATO_")}
    env.update({"LEGATO_ADMIN_PASSWORD": "logs-secret-pw", "LEGATO_LOG_LEVEL": "info,legato.worker=warning"})
    server = subprocess.Popen(
        [sys.executable, "-m", "legato", "server", "--no-demo", "--port", str(port), "--log-format", "json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/health"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        traced = httpx.get(url, headers={"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"}, timeout=5)
        assert traced.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/instances", timeout=5).status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # each line parses: JSON only
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "legato.http"]
    assert {(line["path"], line["status"]) for line in access} >= {("/api/v1/health", 200), ("/api/v1/instances", 401)}
    assert any(line.get("trace_id") == TRACE for line in access)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # the server's own lines, as JSON too
    assert not [line for line in lines if line["logger"] == "legato.worker" and line["level"] == "info"]


def test_log_settings_are_checked() -> None:
    settings = Settings.from_env({"LEGATO_LOG_LEVEL": "Warning, legato.jobs=DEBUG", "LEGATO_LOG_FORMAT": "JSON"})
    assert settings.log_level == "warning,legato.jobs=debug"
    assert settings.log_format == "json"
    assert Settings.from_env({"LEGATO_ACCESS_LOG": "off"}).access_log is False
    assert Settings.from_env({}).access_log is True
    for variable, value in (
        ("LEGATO_LOG_LEVEL", "legato.jobs=loud"),
        ("LEGATO_LOG_LEVEL", "=info"),
        ("LEGATO_LOG_FORMAT", "xml"),
        ("LEGATO_ACCESS_LOG", "maybe"),
    ):
        with pytest.raises(InvalidInput, match=variable):
            Settings.from_env({variable: value})
