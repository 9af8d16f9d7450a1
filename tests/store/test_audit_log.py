"""The audit log on SQLite and PostgreSQL: appends, queries, export, and tampering found by verify."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from legato.errors import AuditKeyInvalid, InvalidInput
from legato.store import Database, Store, migrate
from legato.store.audit import GENESIS, AuditEntry, AuditFilter, AuditLog, canonical_details, key_id, parse_keys

KEY = b"k" * 32


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url, audit_keys=(KEY,))
    yield opened
    opened.close()


def entry(action: str = "instance.cancel", actor: str = "ann", **more: object) -> AuditEntry:
    values: dict[str, object] = {"actor_kind": "user", "source": "10.0.0.7", "target_kind": "instance"}
    values.update(more)
    return AuditEntry(action=action, actor=actor, **values)  # type: ignore[arg-type]


def fill(log: AuditLog, count: int) -> None:
    for index in range(count):
        log.append(entry(target_id=f"i{index}", details={"index": index}), now=1_000.0 + index)


def sql(store: Store, statement: str, **params: object) -> None:
    with store.database.write() as conn:
        conn.execute(text(statement), params)


def test_0006_adds_the_audit_log_to_a_database_that_holds_users(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0005")
    with database.write() as conn:
        conn.execute(
            text("INSERT INTO users (id, disabled, attributes, created_at, updated_at) VALUES ('a', false, '{}', 0, 0)")
        )
    migrate.upgrade(database)
    with database.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 1
        head = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert (head.seq, head.hash) == (0, GENESIS)
    database.dispose()


def test_rows_chain_each_to_the_one_before(store: Store) -> None:
    first = store.audit.append(entry(details={"reason": "duplicate"}), now=100.0)
    second = store.audit.append(entry("task.complete", target_kind="task", target_id="t:1"), now=101.0)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert first.key_id == key_id(KEY)
    result = store.audit.verify()
    assert result.ok and result.rows == 2 and result.head_seq == 2 and result.head_hash == second.hash
    assert result.key_source == "configured"
    public = first.public()
    assert public["details"] == {"reason": "duplicate"}
    assert public["target"] == {"kind": "instance", "id": None}
    assert public["at"].startswith("1970-01-01T00:01:40")


def test_an_empty_log_verifies(store: Store) -> None:
    result = store.audit.verify()
    assert result.ok and result.rows == 0 and result.head_seq == 0


def test_secrets_never_reach_the_details(store: Store) -> None:
    record = store.audit.append(
        entry(
            "user.create",
            details={"username": "bob", "password": "hunter22", "nested": {"token": "lgt_x", "new_password": "y"}},
        ),
        now=1.0,
    )
    assert record.public()["details"] == {"username": "bob", "nested": {}}
    assert "hunter22" not in record.details and "lgt_x" not in record.details


def test_details_are_canonical_and_bounded() -> None:
    assert canonical_details({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    huge = canonical_details({"blob": "x" * 100_000})
    assert '"truncated":true' in huge and len(huge) < 1000


def test_a_changed_row_is_named(store: Store) -> None:
    fill(store.audit, 5)
    sql(store, "UPDATE audit_log SET details = :d WHERE seq = 3", d='{"index":99}')
    result = store.audit.verify()
    assert not result.ok and result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (3, "changed")
    assert "row 3" in result.broken.detail


def test_a_changed_actor_or_recomputed_plain_hash_is_named(store: Store) -> None:
    import hashlib

    fill(store.audit, 4)
    # Someone without the key edits the actor and recomputes an unkeyed hash: still caught.
    sql(store, "UPDATE audit_log SET actor = 'mallory', hash = :h WHERE seq = 2", h=hashlib.sha256(b"x").hexdigest())
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (2, "changed")


def test_a_deleted_row_is_named_as_the_gap(store: Store) -> None:
    fill(store.audit, 6)
    sql(store, "DELETE FROM audit_log WHERE seq = 4")
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (4, "missing")
    assert "row 4 missing" in broken.detail


def test_deleted_rows_with_the_rest_renumbered_are_found(store: Store) -> None:
    fill(store.audit, 5)
    sql(store, "DELETE FROM audit_log WHERE seq = 2")
    for seq in (3, 4, 5):
        sql(store, "UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    sql(store, "UPDATE audit_head SET seq = 4")
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (2, "missing")


def test_the_last_rows_cut_off_are_found(store: Store) -> None:
    fill(store.audit, 5)
    sql(store, "DELETE FROM audit_log WHERE seq >= 4")
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (4, "missing")
    assert "rows 4 to 5 missing" in broken.detail


def test_a_head_moved_back_without_the_key_is_found(store: Store) -> None:
    fill(store.audit, 5)
    with store.database.read() as conn:
        row3 = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 3")).scalar_one()
    sql(store, "DELETE FROM audit_log WHERE seq >= 4")
    sql(store, "UPDATE audit_head SET seq = 3, hash = :h", h=row3)
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (3, "head")


def test_swapped_rows_are_named_as_reordered(store: Store) -> None:
    fill(store.audit, 5)
    sql(store, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    sql(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    sql(store, "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (2, "reordered")
    assert "written after row 3, but stands after row 1" in broken.detail


def test_a_row_inserted_beyond_the_head_is_found(store: Store) -> None:
    fill(store.audit, 2)
    with store.database.read() as conn:
        row = conn.execute(text("SELECT * FROM audit_log WHERE seq = 2")).one()
    values = {**row._asdict(), "seq": 3, "prev_hash": row.hash}
    sql(
        store,
        "INSERT INTO audit_log (seq, at, actor, actor_kind, source, action, target_kind, target_id, details, outcome, "
        "code, key_id, prev_hash, hash) VALUES (:seq, :at, :actor, :actor_kind, :source, :action, :target_kind, "
        ":target_id, :details, :outcome, :code, :key_id, :prev_hash, :hash)",
        **values,
    )
    broken = store.audit.verify().broken
    assert broken is not None and broken.seq == 3


def test_a_row_signed_with_another_key_is_named(database_url: str) -> None:
    first = Store(database_url, audit_keys=(KEY,))
    fill(first.audit, 2)
    first.close()
    other = Store(database_url, audit_keys=(b"o" * 32,))
    broken = other.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (1, "unknown_key")
    other.close()


def test_a_rotated_key_signs_new_rows_and_the_old_one_still_verifies(database_url: str) -> None:
    first = Store(database_url, audit_keys=(KEY,))
    fill(first.audit, 2)
    first.close()
    rotated = Store(database_url, audit_keys=(b"n" * 32, KEY))
    record = rotated.audit.append(entry(), now=5_000.0)
    assert record.key_id == key_id(b"n" * 32)
    assert rotated.audit.verify().ok
    rotated.close()


def test_the_chain_survives_a_restart_with_the_generated_key(database_url: str) -> None:
    first = Store(database_url)
    fill(first.audit, 3)
    source = first.audit.verify().key_source
    first.close()
    again = Store(database_url)
    again.audit.append(entry(), now=9_000.0)
    result = again.audit.verify()
    assert result.ok and result.rows == 4
    assert result.key_source == source == ("file" if "://" not in database_url else "database")
    again.close()


def test_the_generated_key_of_a_sqlite_file_lives_beside_it_not_in_it(tmp_path: Path) -> None:
    path = tmp_path / "legato.db"
    store = Store(str(path))
    store.audit.append(entry(), now=1.0)
    key_file = tmp_path / "legato.db.audit-key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    with store.database.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_keys")).scalar_one() == 0
    store.close()
    key_file.write_text("not hex\n")
    broken_key = Store(str(path))
    with pytest.raises(AuditKeyInvalid):
        broken_key.audit.verify()
    broken_key.close()


def test_a_configured_key_is_never_stored(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "legato.db"), audit_keys=(KEY,))
    store.audit.append(entry(), now=1.0)
    assert not (tmp_path / "legato.db.audit-key").exists()
    with store.database.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_keys")).scalar_one() == 0
    store.close()


def test_concurrent_appends_make_one_unbroken_chain(database_url: str) -> None:
    stores = [Store(database_url, audit_keys=(KEY,)) for _ in range(3)]  # three "servers" on one database
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            log = stores[worker % len(stores)].audit
            for index in range(15):
                log.append(entry(actor=f"w{worker}", details={"i": index}), now=float(index))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = stores[0].audit.verify()
    assert result.ok, result.broken
    assert result.rows == result.head_seq == 90
    for opened in stores:
        opened.close()


def test_query_filters_and_pages_newest_first(store: Store) -> None:
    store.audit.append(entry("auth.login", actor="ann"), now=10.0)
    store.audit.append(entry("task.complete", actor="bob", target_kind="task", target_id="t1"), now=20.0)
    store.audit.append(entry("task.claim", actor="ann", target_kind="task", target_id="t1"), now=30.0)
    store.audit.append(entry("tasks.other", actor="ann", outcome="refused", code="PERMISSION_DENIED"), now=40.0)

    def actions(**filters: object) -> list[str]:
        page = store.audit.query(AuditFilter(**filters))  # type: ignore[arg-type]
        return [record.action for record in page.items]

    assert actions() == ["tasks.other", "task.claim", "task.complete", "auth.login"]
    assert actions(actor="ann") == ["tasks.other", "task.claim", "auth.login"]
    assert actions(action="task.*") == ["task.claim", "task.complete"]
    assert actions(action="task.claim") == ["task.claim"]
    assert actions(target_kind="task", target_id="t1") == ["task.claim", "task.complete"]
    assert actions(since=20.0, until=40.0) == ["task.claim", "task.complete"]
    assert actions(outcome="refused") == ["tasks.other"]
    first = store.audit.query(limit=3)
    assert [r.seq for r in first.items] == [4, 3, 2] and first.next_cursor == "2"
    second = store.audit.query(cursor=first.next_cursor, limit=3)
    assert [r.seq for r in second.items] == [1] and second.next_cursor is None
    with pytest.raises(InvalidInput):
        store.audit.query(cursor="x1")
    with pytest.raises(InvalidInput):
        store.audit.query(limit=0)


def test_export_streams_every_row_oldest_first(store: Store) -> None:
    fill(store.audit, 1203)  # more than two export pages
    seqs = [record.seq for record in store.audit.export()]
    assert seqs == list(range(1, 1204))
    only = [record.target_id for record in store.audit.export(AuditFilter(target_id="i7"))]
    assert only == ["i7"]


def test_keys_from_the_setting_are_checked() -> None:
    assert parse_keys("a" * 16 + ", " + "b" * 20) == (b"a" * 16, b"b" * 20)
    for bad in ("short", "", " , "):
        with pytest.raises(InvalidInput):
            parse_keys(bad)


def test_0010_keeps_rows_written_before_verifying_and_files_them_under_no_tenant(database_url: str) -> None:
    """A row written before 0010 hashed no tenant; it keeps its hash, and reads as no tenant's (admins only)."""
    from legato.store.audit import _head_mac, _row_mac

    database = Database(database_url)
    migrate.upgrade(database, "0009")
    values: dict[str, object] = {
        "seq": 1,
        "at": 1_000.0,
        "actor": "ann",
        "actor_kind": "user",
        "source": None,
        "action": "instance.cancel",
        "target_kind": "instance",
        "target_id": "i-1",
        "details": "{}",
        "outcome": "ok",
        "code": None,
        "key_id": key_id(KEY),
        "prev_hash": GENESIS,
    }
    values["hash"] = _row_mac(KEY, values)
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, actor_kind, source, action, target_kind, target_id, details, "
                "outcome, code, key_id, prev_hash, hash) VALUES (:seq, :at, :actor, :actor_kind, :source, :action, "
                ":target_kind, :target_id, :details, :outcome, :code, :key_id, :prev_hash, :hash)"
            ),
            values,
        )
        conn.execute(
            text("UPDATE audit_head SET seq = 1, hash = :hash, key_id = :key_id, mac = :mac WHERE id = 1"),
            {"hash": values["hash"], "key_id": key_id(KEY), "mac": _head_mac(KEY, 1, str(values["hash"]))},
        )
    database.dispose()

    store = Store(database_url, audit_keys=(KEY,))
    try:
        assert store.audit.verify().ok
        store.audit.append(entry(tenant_id="acme", target_id="i-2"), now=1_001.0)
        assert store.audit.verify().ok
        old, new = store.audit.query(AuditFilter()).items[::-1]
        assert (old.tenant_id, new.tenant_id) == (None, "acme")
        assert [r.seq for r in store.audit.query(AuditFilter(visible=frozenset({"acme"}))).items] == [2]
        assert store.audit.query(AuditFilter(visible=frozenset({"other"}))).items == []
    finally:
        store.close()


def test_rows_are_read_by_tenant(store: Store) -> None:
    store.audit.append(entry(tenant_id="a", target_id="in-a"), now=1.0)
    store.audit.append(entry(tenant_id="", target_id="shared"), now=2.0)
    store.audit.append(entry(tenant_id=None, action="user.create", target_kind="user", target_id="ann"), now=3.0)
    store.audit.append(entry(tenant_id="b", target_id="in-b"), now=4.0)

    def targets(**where: object) -> list[str | None]:
        return [r.target_id for r in store.audit.export(AuditFilter(**where))]  # type: ignore[arg-type]

    assert targets() == ["in-a", "shared", "ann", "in-b"]
    assert targets(visible=frozenset({"a"})) == ["in-a", "shared"]
    assert targets(visible=frozenset({"a", "b"})) == ["in-a", "shared", "in-b"]
    assert targets(visible=frozenset()) == ["shared"]
    assert targets(tenant="b") == ["in-b"]
    assert targets(tenant="") == ["shared"]
    assert targets(tenant="b", visible=frozenset({"a"})) == []
    sql(store, "UPDATE audit_log SET tenant_id = NULL WHERE seq = 1")  # hidden from tenant a: detected
    broken = store.audit.verify().broken
    assert broken is not None and (broken.seq, broken.reason) == (1, "changed")
