"""Turning encryption at rest on seals what was stored before (`legato keys seal`), and both
it and `legato keys rotate` survive a SIGKILL mid-way: run again, they finish, nothing lost.

The `pay` process of the sensitive-data tests (sensitive_support.py) leaves its secrets in
every kind of row: variables, state, history, the task's inputs, the job's error and the
incident's message and stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from test_encryption_at_rest import SECRETS, leaks, open_app, pay_until_incident

from legato.store.key_rotation import count_old
from legato.store.seal_existing import seal_existing
from legato.store.sealing import Keyring, new_key
from sensitive_support import IBAN, PAY_YAML, SETTINGS_PATTERNS, VARIABLES
from support import eventually


def _seal(app: Any) -> Any:
    store = app.store
    return seal_existing(store.database, store.sealer, store.sensitive_names, batch=2)


def test_turning_encryption_on_seals_the_rows_written_before(database_url: str) -> None:
    plain = open_app(database_url, None)
    instance_id = pay_until_incident(plain)
    waiting = plain.start("pay", VARIABLES).instance_id
    task = eventually(lambda: plain.tasks(instance_id=waiting))[0]
    plain.save_task_draft(task["id"], {"note": f"pay to {IBAN}"})
    before = leaks(plain)
    assert {table for table, _ in before} >= {"instances", "history", "incidents", "user_tasks"}  # the test sees them
    plain.close()

    ring = Keyring(keys=(new_key(),))
    app = open_app(database_url, ring)
    try:
        result = _seal(app)
        assert result.instances == 2 and result.values > 0 and result.raced == 0
        assert leaks(app) == []
        assert app.instance(instance_id)["variables"] == {**VARIABLES, "approved": True}
        assert IBAN in app.incidents(instance_id=instance_id)[0]["message"]
        assert app.task(task["id"])["draft"] == {"note": f"pay to {IBAN}"}
        with app.store.database.read() as conn:
            stored = orjson.loads(
                conn.execute(text("SELECT variables FROM instances WHERE id = :id"), {"id": waiting}).scalar_one()
            )
        assert stored["amount"] == 120 and set(stored["iban"]) == {"$sealed"}  # as the writer seals: only the sensitive
        again = _seal(app)
        assert (again.rows, again.values) == (0, 0)  # what is done stays done
    finally:
        app.close()


def test_switching_to_everything_seals_every_variable_value(database_url: str) -> None:
    ring = Keyring(keys=(new_key(),))
    app = open_app(database_url, ring)
    app.deploy(PAY_YAML, source_format="yaml")
    started = app.start("pay", {**VARIABLES, "note": "a harmless note"}).instance_id
    assert leaks(app, ("a harmless note",))  # not sensitive: plain
    app.close()
    app = open_app(database_url, ring, encrypt="all")
    try:
        _seal(app)
        assert leaks(app, (*SECRETS, "a harmless note")) == []
        assert app.instance(started)["variables"]["note"] == "a harmless note"
    finally:
        app.close()


# -- killed mid-way ------------------------------------------------------------------------


def _legato(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")},
        "LEGATO_DATABASE": str(tmp_path / "legato.db"),
        "LEGATO_ENCRYPTION_KEY_FILE": str(tmp_path / "keys"),
        "LEGATO_SENSITIVE_VARIABLES": ",".join(SETTINGS_PATTERNS),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "legato", "keys", *args, "--batch", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_after_progress(process: subprocess.Popen[str], lines: int) -> None:
    """SIGKILL once the command reported `lines` batches done: inside its work, not before."""
    assert process.stderr is not None
    seen = 0
    deadline = time.monotonic() + 60
    while seen < lines and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen += "looked at" in line
    assert seen == lines, f"the command ended before it was killed ({seen} batches)"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _finish(tmp_path: Path, *args: str) -> str:
    process = _legato(tmp_path, *args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def _many(tmp_path: Path, keys: Keyring | None, count: int) -> list[str]:
    app = open_app(str(tmp_path / "legato.db"), keys)
    app.deploy(PAY_YAML, source_format="yaml")
    ids = [app.start("pay", {**VARIABLES, "order": n}).instance_id for n in range(count)]
    app.close()
    return ids


def test_keys_seal_killed_mid_way_finishes_when_run_again(tmp_path: Path) -> None:
    ids = _many(tmp_path, None, 40)
    ring = Keyring(keys=(new_key(),))
    ring.write(tmp_path / "keys")
    _kill_after_progress(_legato(tmp_path, "seal"), lines=5)
    app = open_app(str(tmp_path / "legato.db"), ring)
    try:
        assert leaks(app)  # killed part way: some rows still plain
        assert all(app.instance(i)["variables"]["iban"] == IBAN for i in ids)  # and every row readable
    finally:
        app.close()
    assert "sealed" in _finish(tmp_path, "seal")
    app = open_app(str(tmp_path / "legato.db"), ring)
    try:
        assert leaks(app) == []
        assert [app.instance(i)["variables"]["order"] for i in ids] == list(range(40))
    finally:
        app.close()


def test_keys_rotate_killed_mid_way_finishes_when_run_again(tmp_path: Path) -> None:
    old = Keyring(keys=(new_key(),))
    ids = _many(tmp_path, old, 40)
    ring = old.with_new_primary(new_key())
    ring.write(tmp_path / "keys")
    _kill_after_progress(_legato(tmp_path, "rotate"), lines=5)
    app = open_app(str(tmp_path / "legato.db"), ring)
    try:
        remaining, _unknown = count_old(app.store.database, app.store.sealer)  # type: ignore[arg-type]
        assert remaining > 0  # killed part way
        assert all(app.instance(i)["variables"]["iban"] == IBAN for i in ids)  # half old, half new: all open
    finally:
        app.close()
    _finish(tmp_path, "rotate", "--retire")
    assert Keyring.from_file(tmp_path / "keys").ids == (ring.primary,)  # the old key is gone from the file
    app = open_app(str(tmp_path / "legato.db"), Keyring(keys=(ring.keys[0],)))
    try:  # only the new key: everything opens, so nothing was left under the old one
        assert [app.instance(i)["variables"]["order"] for i in ids] == list(range(40))
        assert leaks(app) == []
    finally:
        app.close()
