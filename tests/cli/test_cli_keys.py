"""`legato keys generate | rotate | status` against a SQLite file, with a key file as an operator keeps one."""

from __future__ import annotations

from pathlib import Path

import orjson
from cli_helpers import Run

from legato import Legato
from legato.store import Store
from legato.store.sealing import Keyring, decode_key, key_id
from sensitive_support import IBAN, PAY_YAML, SETTINGS_PATTERNS, VARIABLES


def test_generate_prints_a_key_or_writes_a_private_key_file(run: Run, tmp_path: Path) -> None:
    printed = run("keys", "generate")
    assert printed.exit_code == 0, printed.output
    assert len(decode_key(printed.output.strip(), where="test")) == 32

    path = tmp_path / "keys"
    first = run("keys", "generate", "--key-file", str(path))
    assert first.exit_code == 0, first.output
    assert "mode 0600" in first.output and (path.stat().st_mode & 0o777) == 0o600
    one = Keyring.from_file(path)
    second = run("keys", "generate", env={"LEGATO_ENCRYPTION_KEY_FILE": str(path)})
    assert second.exit_code == 0, second.output
    two = Keyring.from_file(path)
    assert len(two.keys) == 2 and two.ids[1] == one.primary  # the new key first, the old one kept
    assert f"new primary key {two.primary}" in second.output and "legato keys rotate" in second.output


def test_rotate_re_seals_with_the_new_key_and_retire_drops_the_old_one(run: Run, tmp_path: Path) -> None:
    path, database = tmp_path / "keys", tmp_path / "sealed.db"
    assert run("keys", "generate", "--key-file", str(path)).exit_code == 0
    old = Keyring.from_file(path)
    app = Legato(Store(str(database), sensitive=SETTINGS_PATTERNS, encryption_keys=old))
    app.deploy(PAY_YAML, source_format="yaml")
    ids = [app.start("pay", VARIABLES).instance_id for _ in range(3)]
    app.close()

    env = {"LEGATO_ENCRYPTION_KEY_FILE": str(path), "LEGATO_DATABASE": str(database)}
    assert run("keys", "generate", env=env).exit_code == 0
    new = Keyring.from_file(path)
    status = run("keys", "status", env=env)
    assert status.exit_code == 0, status.output
    assert f"primary key {new.primary}; older keys: {old.primary}" in status.output
    assert "values under older keys: 0" not in status.output

    rotated = run("keys", "rotate", "--batch", "2", "--retire", "--json", env=env)
    assert rotated.exit_code == 0, rotated.output
    result = orjson.loads(rotated.output)
    assert result["done"] is True and result["resealed"] >= 6 and result["retired"] == [old.primary]
    assert Keyring.from_file(path).ids == (new.primary,)
    assert "values under older keys: 0" in run("keys", "status", env=env).output

    app = Legato(Store(str(database), sensitive=SETTINGS_PATTERNS, encryption_keys=Keyring.from_file(path)))
    try:
        assert all(app.instance(i)["variables"]["iban"] == IBAN for i in ids)
    finally:
        app.close()
    assert key_id(new.keys[0]) == new.primary


def test_without_keys_the_commands_say_what_to_set(run: Run, tmp_path: Path) -> None:
    missing = run("keys", "rotate", "--database", str(tmp_path / "x.db"))
    assert missing.exit_code == 2 and "LEGATO_ENCRYPTION_KEY_FILE" in missing.output
    bad = run("keys", "status", env={"LEGATO_ENCRYPTION_KEYS": "not-a-key"})
    assert bad.exit_code == 2 and "INVALID_INPUT" in bad.output
    both = run("keys", "status", env={"LEGATO_ENCRYPTION_KEYS": "x" * 43, "LEGATO_ENCRYPTION_KEY_FILE": "f"})
    assert both.exit_code != 0
