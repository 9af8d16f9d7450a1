"""Encryption at rest on SQLite and PostgreSQL: no sensitive value in any row, reads transparent,
a missing or wrong key and a changed byte refused with their codes, keys rotated under load.

The process is the `pay` process of the sensitive-data tests: `iban` and `card*` declared
sensitive, `*_token` and `password` by the operator's patterns; its user task copies `iban`
into `account`, and its service task fails with a message that quotes the IBAN.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from legato import Legato
from legato.errors import EncryptionKeyMissing, SealedValueTampered, VariablesInvalid
from legato.store import Store
from legato.store.key_rotation import count_old, rotate
from legato.store.sealing import Keyring, Sealer, key_id, new_key
from legato.store.search import InstanceFilter, VariableFilter
from sensitive_support import API_TOKEN, CARD, IBAN, PASSWORD, PAY_YAML, SETTINGS_PATTERNS, VARIABLES, charge
from support import eventually

SECRETS = (IBAN, API_TOKEN, PASSWORD, CARD)


def open_app(url: str, keys: Keyring | None, encrypt: str = "sensitive") -> Legato:
    store = Store(url, sensitive=SETTINGS_PATTERNS, encryption_keys=keys, encrypt=encrypt)  # type: ignore[arg-type]
    app = Legato(store)
    app.register("pay.charge", charge)
    return app


@pytest.fixture
def ring() -> Keyring:
    return Keyring(keys=(new_key(),))


@pytest.fixture
def app(database_url: str, ring: Keyring) -> Iterator[Legato]:
    legato = open_app(database_url, ring)
    yield legato
    legato.close()


def pay_until_incident(app: Legato) -> str:
    app.deploy(PAY_YAML, source_format="yaml")
    with app.running():
        started = app.start("pay", VARIABLES)
        task = eventually(lambda: app.tasks(instance_id=started.instance_id))[0]
        app.complete_task(task["id"], {"approved": True})
        eventually(lambda: app.incidents(instance_id=started.instance_id))
    return started.instance_id


def every_row(app: Legato) -> dict[str, list[str]]:
    """Every row of every table, as text, by table: what someone reading the database sees."""
    database = app.store.database
    with database.read() as conn:
        if database.is_sqlite:
            tables = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
        else:
            tables = [
                r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
            ]
        return {table: [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))] for table in tables}


def leaks(app: Legato, secrets: tuple[str, ...] = SECRETS) -> list[tuple[str, str]]:
    return [
        (table, secret) for table, rows in every_row(app).items() for row in rows for secret in secrets if secret in row
    ]


def test_no_row_holds_a_sensitive_value_and_reads_are_transparent(app: Legato) -> None:
    instance_id = pay_until_incident(app)
    assert leaks(app) == []

    detail = app.instance(instance_id)
    assert detail["variables"] == {**VARIABLES, "approved": True}
    incident = app.incidents(instance_id=instance_id)[0]
    assert IBAN in incident["message"]  # the message quoted it: sealed whole, opened on read
    history = app.store.queries.history(instance_id)
    assert any(IBAN in orjson.dumps(event["data"]).decode() for event in history)
    task = app.store.queries.tasks(instance_id=instance_id, status="completed")[0]
    assert task["payload"]["account"] == IBAN  # the copy of iban in the task's inputs

    with app.store.database.read() as conn:
        stored = orjson.loads(conn.execute(text("SELECT variables FROM instances")).scalar_one())
    assert stored["amount"] == 120 and stored["approved"] is True  # not sensitive: plain, searchable
    assert set(stored["iban"]) == {"$sealed"} and set(stored["customer"]) == {"$sealed"}  # a nested password
    assert stored["iban"]["$sealed"].split(".")[1] == app.store.sealer.keyring.primary  # type: ignore[union-attr]
    where = InstanceFilter(variables=(VariableFilter.parse("amount:120"),))
    assert [i["id"] for i in app.store.search.instances(where).items] == [instance_id]


def test_with_everything_encrypted_no_variable_value_is_plain(database_url: str, ring: Keyring) -> None:
    app = open_app(database_url, ring, encrypt="all")
    try:
        app.deploy(PAY_YAML, source_format="yaml")
        started = app.start("pay", {**VARIABLES, "note": "a harmless note"})
        assert leaks(app, (*SECRETS, "a harmless note")) == []
        with app.store.database.read() as conn:
            stored = orjson.loads(conn.execute(text("SELECT variables FROM instances")).scalar_one())
        assert all(set(value) == {"$sealed"} for value in stored.values())
        assert sorted(stored) == sorted([*VARIABLES, "note"])  # the names stay readable
        assert app.instance(started.instance_id)["variables"]["note"] == "a harmless note"
    finally:
        app.close()


def test_a_missing_key_or_none_at_all_is_refused_with_its_code_not_ciphertext(database_url: str, app: Legato) -> None:
    instance_id = pay_until_incident(app)
    app.close()
    for keys in (Keyring(keys=(new_key(),)), None):
        other = open_app(database_url, keys)
        try:
            with pytest.raises(EncryptionKeyMissing) as refused:
                other.instance(instance_id)
            assert refused.value.code == "ENCRYPTION_KEY_MISSING" and refused.value.status == 503
            with pytest.raises(EncryptionKeyMissing):
                other.incidents(instance_id=instance_id)
            assert other.store.queries.status(instance_id) == "active"  # what holds no sealed value still reads
        finally:
            other.close()


def test_a_changed_byte_is_detected_by_the_tag(app: Legato) -> None:
    instance_id = pay_until_incident(app)
    with app.store.database.write() as conn:
        stored = orjson.loads(conn.execute(text("SELECT variables FROM instances")).scalar_one())
        token = stored["iban"]["$sealed"]
        flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        stored["iban"]["$sealed"] = flipped
        conn.execute(text("UPDATE instances SET variables = :v"), {"v": orjson.dumps(stored).decode()})
    with pytest.raises(SealedValueTampered) as refused:
        app.instance(instance_id)
    assert refused.value.code == "SEALED_VALUE_TAMPERED"
    assert refused.value.details["key_id"] == app.store.sealer.keyring.primary  # type: ignore[union-attr]


def test_input_that_looks_sealed_is_refused(app: Legato) -> None:
    app.deploy(PAY_YAML, source_format="yaml")
    for bad in ({"x": {"$sealed": "1.abc.def"}}, {"x": ["$sealed:1.abc.def"]}):
        with pytest.raises(VariablesInvalid):
            app.start("pay", bad)


def test_rotation_under_load_re_seals_everything_and_loses_nothing(database_url: str) -> None:
    old, new = new_key(), new_key()
    app = open_app(database_url, Keyring(keys=(old,)))
    app.deploy(PAY_YAML, source_format="yaml")
    before = [app.start("pay", {**VARIABLES, "n": n}).instance_id for n in range(30)]
    app.close()

    rotated = Keyring(keys=(new, old))
    app = open_app(database_url, rotated)
    stop = threading.Event()
    completed: list[str] = []
    started: list[str] = []

    def load() -> None:  # a live server: tasks completed and instances started while keys rotate
        while not stop.is_set():
            open_tasks = app.store.queries.tasks(status="open", limit=5)
            for task in open_tasks:
                app.complete_task(task["id"], {"approved": True})
                completed.append(task["instance_id"])
            started.append(app.start("pay", {**VARIABLES, "n": -1}).instance_id)

    with app.running():
        worker = threading.Thread(target=load)
        worker.start()
        try:
            result = rotate(app.store.database, Sealer(rotated), batch=7)
        finally:
            stop.set()
            worker.join()
    app.close()
    assert result.done and result.unknown == {} and result.resealed > 0
    assert completed and started

    only_new = open_app(database_url, Keyring(keys=(new,)))
    try:
        assert count_old(only_new.store.database, Sealer(Keyring(keys=(new, old)))) == (0, {})
        for instance_id in before + started:
            variables = only_new.instance(instance_id)["variables"]
            assert variables["iban"] == IBAN and variables["customer"] == VARIABLES["customer"]
        for instance_id in before:
            assert only_new.instance(instance_id)["variables"]["n"] in range(30)
        for instance_id in set(completed):
            assert only_new.instance(instance_id)["variables"]["approved"] is True
        assert leaks(only_new) == []
    finally:
        only_new.close()


def test_rotation_is_resumable_and_counts_values_under_keys_it_lacks(database_url: str) -> None:
    first, second, stranger = new_key(), new_key(), new_key()
    app = open_app(database_url, Keyring(keys=(first,)))
    app.deploy(PAY_YAML, source_format="yaml")
    ids = [app.start("pay", VARIABLES).instance_id for _ in range(5)]
    app.close()
    other = open_app(database_url, Keyring(keys=(stranger,)))
    strange = other.start("pay", VARIABLES).instance_id
    other.close()

    ring = Sealer(Keyring(keys=(second, first)))
    app = open_app(database_url, Keyring(keys=(second, first)))
    try:
        partial = rotate(app.store.database, ring, batch=2, max_passes=0)  # stopped before it began
        assert not partial.done and partial.remaining > 0
        assert partial.unknown == {key_id(stranger): partial.unknown[key_id(stranger)]}
        finished = rotate(app.store.database, ring, batch=2)
        assert finished.done and finished.remaining == 0
        again = rotate(app.store.database, ring, batch=2)
        assert (again.resealed, again.rows) == (0, 0)  # what is done stays done
        assert all(app.instance(i)["variables"]["iban"] == IBAN for i in ids)
        with pytest.raises(EncryptionKeyMissing):
            app.instance(strange)
    finally:
        app.close()


def test_the_key_file_keeps_the_primary_first_and_is_private(tmp_path: Any) -> None:
    path = tmp_path / "keys"
    one = Keyring(keys=(new_key(),))
    one.write(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert Keyring.from_file(path) == one
    two = Keyring.from_file(path).with_new_primary(new_key())
    two.write(path)
    again = Keyring.from_file(path)
    assert again.ids == two.ids and again.ids[1] == one.primary


def test_the_sqlite_files_on_disk_hold_no_sensitive_value(tmp_path: Any, ring: Keyring) -> None:
    """The file itself, its write-ahead log and free pages: the plaintext was never written."""
    path = tmp_path / "pay.db"
    app = open_app(str(path), ring)
    try:
        pay_until_incident(app)
        on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("pay.db"))
        assert b'"amount":120' in on_disk  # not sensitive: the files are really read
    finally:
        app.close()
    on_disk += b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("pay.db"))
    assert [secret for secret in SECRETS if secret.encode() in on_disk] == []
