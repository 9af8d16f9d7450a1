"""The audit log: an append-only, hash-chained record of what operators did.

Each row holds the hash of the row before it and its own hash,
`HMAC-SHA256(key, prev_hash || canonical JSON of the row)`. Changing a row's content
breaks its own hash; deleting, inserting or moving a row breaks the link from the next
row; cutting rows off the end disagrees with `audit_head`, the chain's end, which carries
an HMAC of its own. Because the hash is keyed, someone who can write the database but
does not hold the key cannot recompute a consistent chain after editing it.

The key (where it comes from is the caller's choice, `AuditLog(keys=...)`):

- configured keys (`LEGATO_AUDIT_KEY`, comma-separated: the first signs, all verify,
  which is how a key is rotated) never touch the database;
- otherwise, for a SQLite file, a random key generated once into a file beside it
  (`<database>.audit-key`, mode 0600): outside the database, so editing the file
  with SQL is not enough to forge the chain;
- otherwise (PostgreSQL, in-memory SQLite), a random key generated once into the
  `audit_keys` table. That guards against accidental edits only, as anyone who can read
  the table can recompute hashes: set `LEGATO_AUDIT_KEY` on such deployments.

A key generated into a file or the table keeps verifying old rows after a key is
configured, so moving to a configured key loses nothing.

Appends are serialised: on PostgreSQL by locking the head row (`FOR UPDATE`), which holds
across any number of servers on one database; on SQLite by the write lock every write
transaction takes (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from legato.errors import AuditKeyInvalid, InvalidInput
from legato.store.database import Database
from legato.store.tenants import Visible

GENESIS: Final = "0" * 64
OUTCOMES: Final = ("ok", "refused", "failed")
MAX_PAGE: Final = 1000
MAX_DETAILS_BYTES: Final = 16 * 1024
MAX_FIELD: Final = 256
MIN_KEY_BYTES: Final = 16
_EXPORT_PAGE: Final = 500

SECRET_KEYS: Final = frozenset(
    {"password", "new_password", "secret", "token", "csrf", "csrf_token", "authorization", "cookie", "client_secret"}
)
"""Keys never kept in details, at any depth, whatever a caller passes (defence in depth)."""

_OWNED: Final = {"instance": "instances", "task": "user_tasks", "incident": "incidents"}
"""The targets whose tenant the log looks up by id (their tables carry `tenant_id`)."""

_COLUMNS: Final = (
    "seq, at, actor, actor_kind, source, action, target_kind, target_id, details, outcome, code, key_id, "
    "prev_hash, hash, tenant_id"
)

SHARED: Final = ""
"""`tenant_id` of a row about the shared tenant's work (NULL is a row of no tenant at all)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    """What happened, as the caller tells it; the log adds the time, sequence and hashes."""

    action: str
    actor: str
    actor_kind: str
    source: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "ok"
    code: str | None = None
    tenant_id: str | None = None
    """Whose work the row is about: a tenant's id, `SHARED` for the shared tenant's, None for
    nothing of one tenant (users, roles, tokens, logins, refusals): administrators only."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditRecord:
    """One stored row of the log."""

    seq: int
    at: float
    actor: str
    actor_kind: str
    source: str | None
    action: str
    target_kind: str | None
    target_id: str | None
    details: str  # the JSON text exactly as hashed
    outcome: str
    code: str | None
    key_id: str
    prev_hash: str
    hash: str
    tenant_id: str | None = None

    def public(self) -> dict[str, Any]:
        """The row as the API and the export show it."""
        return {
            "seq": self.seq,
            "at": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "actor": self.actor,
            "actor_kind": self.actor_kind,
            "source": self.source,
            "action": self.action,
            "target": None if self.target_kind is None else {"kind": self.target_kind, "id": self.target_id},
            "details": orjson.loads(self.details),
            "outcome": self.outcome,
            "code": self.code,
            "tenant": self.tenant_id,
            "key_id": self.key_id,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditFilter:
    """Which rows: every field that is set must match. `action` may end in `.*` (a prefix)."""

    actor: str | None = None
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    outcome: str | None = None
    since: float | None = None  # inclusive, seconds since the epoch
    until: float | None = None  # exclusive
    tenant: str | None = None  # exactly this tenant's rows (`SHARED`: the shared tenant's)
    visible: Visible = None
    """The tenants the reader may see (None: all, and the rows of no tenant): a reader kept to
    tenants gets their rows and the shared tenant's, never the installation-wide ones."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditPage:
    items: list[AuditRecord]
    next_cursor: str | None  # pass back as `cursor` for the next (older) page; None: no more


@dataclass(frozen=True, kw_only=True, slots=True)
class Break:
    """The first place where the chain does not hold."""

    seq: int
    reason: str  # changed | missing | reordered | unknown_key | head
    detail: str

    def public(self) -> dict[str, Any]:
        return {"seq": self.seq, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    rows: int  # rows checked
    head_seq: int
    head_hash: str
    key_source: str  # configured | file | database
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def public(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "key_source": self.key_source,
            "broken": None if self.broken is None else self.broken.public(),
        }


def key_id(key: bytes) -> str:
    """A short, stable name for a key, kept in each row so verify knows which key to use."""
    return hashlib.sha256(b"legato-audit-key-id:" + key).hexdigest()[:16]


def parse_keys(value: str) -> tuple[bytes, ...]:
    """`LEGATO_AUDIT_KEY`: one key, or several separated by commas (the first signs)."""
    keys = tuple(part.strip().encode() for part in value.split(",") if part.strip())
    if not keys or any(len(key) < MIN_KEY_BYTES for key in keys):
        raise InvalidInput(
            f"LEGATO_AUDIT_KEY must be one or more keys of at least {MIN_KEY_BYTES} characters, separated by commas",
            details={"variable": "LEGATO_AUDIT_KEY"},
        )
    return keys


class AuditLog:
    def __init__(self, database: Database, *, keys: Sequence[bytes] = ()) -> None:
        self.database = database
        self._configured = tuple(keys)
        self._keys: dict[str, bytes] | None = None
        self._signing: tuple[str, bytes] | None = None
        self._source = "configured"
        self._lock = threading.Lock()

    # -- keys ------------------------------------------------------------------------------

    @property
    def key_file(self) -> Path | None:
        """Where a generated key lives for a SQLite file database; None for other databases."""
        if not self.database.is_sqlite:
            return None
        path = make_url(self.database.url).database
        if not path or path == ":memory:":
            return None
        return Path(path + ".audit-key")

    def _load_keys(self, *, create: bool = True) -> tuple[tuple[str, bytes] | None, dict[str, bytes]]:
        """The signing key (None if there is none and `create` is false) and every key that verifies.

        Verifying never creates a key: checking a copied database must not leave a key file
        beside it that would then sign rows nobody else can check.
        """
        with self._lock:
            if self._keys is not None and (self._signing is not None or not create):
                return self._signing, self._keys
            generated = self._generated_key(create=create and not self._configured)
            keys = {key_id(key): key for key in self._configured}
            if generated is not None:
                keys.setdefault(key_id(generated), generated)
            signing = self._configured[0] if self._configured else generated
            if not self._configured:
                self._source = "file" if self.key_file is not None else "database"
            self._signing = None if signing is None else (key_id(signing), signing)
            self._keys = keys
            return self._signing, self._keys

    def _generated_key(self, *, create: bool) -> bytes | None:
        path = self.key_file
        if path is not None:
            return _file_key(path, create=create)
        return self._table_key(create=create)

    def _table_key(self, *, create: bool) -> bytes | None:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT secret FROM audit_keys ORDER BY created_at LIMIT 1")).first()
        if row is not None or not create:
            return None if row is None else bytes.fromhex(row.secret)
        key = secrets.token_bytes(32)
        with self.database.write() as conn:
            if not self.database.is_sqlite:  # two servers starting at once must agree on one key
                conn.exec_driver_sql("LOCK TABLE audit_keys IN EXCLUSIVE MODE")
            existing = conn.execute(text("SELECT secret FROM audit_keys ORDER BY created_at LIMIT 1")).first()
            if existing is not None:
                return bytes.fromhex(existing.secret)
            conn.execute(
                text("INSERT INTO audit_keys (id, secret, created_at) VALUES (:id, :secret, :now)"),
                {"id": key_id(key), "secret": key.hex(), "now": datetime.now(UTC).timestamp()},
            )
        return key

    # -- appending -------------------------------------------------------------------------

    def append(self, entry: AuditEntry, *, now: float) -> AuditRecord:
        """Append one row in a transaction of its own."""
        with self.database.write() as conn:
            return self.append_within(conn, entry, now=now)

    def append_within(self, conn: Connection, entry: AuditEntry, *, now: float) -> AuditRecord:
        """Append one row inside the caller's write transaction: it commits or rolls back with it."""
        signing, _keys = self._load_keys()
        assert signing is not None  # created on demand
        signing_id, signing_key = signing
        if entry.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome must be one of {OUTCOMES}, not {entry.outcome!r}")
        lock = "" if self.database.is_sqlite else " FOR UPDATE"
        head = conn.execute(text(f"SELECT seq, hash FROM audit_head WHERE id = 1{lock}")).one()
        values: dict[str, Any] = {
            "seq": int(head.seq) + 1,
            "at": float(now),
            "actor": _bounded(entry.actor) or "?",
            "actor_kind": _bounded(entry.actor_kind) or "?",
            "source": _bounded(entry.source),
            "action": _bounded(entry.action) or "?",
            "target_kind": _bounded(entry.target_kind),
            "target_id": _bounded(entry.target_id),
            "details": canonical_details(entry.details),
            "outcome": entry.outcome,
            "code": _bounded(entry.code),
            "key_id": signing_id,
            "prev_hash": head.hash,
            "tenant_id": _bounded(entry.tenant_id),
        }
        values["hash"] = _row_mac(signing_key, values)
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, actor_kind, source, action, target_kind, target_id, details, "
                "outcome, code, key_id, prev_hash, hash, tenant_id) VALUES (:seq, :at, :actor, :actor_kind, :source, "
                ":action, :target_kind, :target_id, :details, :outcome, :code, :key_id, :prev_hash, :hash, :tenant_id)"
            ),
            values,
        )
        conn.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash, key_id = :key_id, mac = :mac WHERE id = 1"),
            {
                "seq": values["seq"],
                "hash": values["hash"],
                "key_id": signing_id,
                "mac": _head_mac(signing_key, values["seq"], values["hash"]),
            },
        )
        return AuditRecord(**values)

    # -- reading ---------------------------------------------------------------------------

    def query(self, where: AuditFilter | None = None, *, cursor: str | None = None, limit: int = 100) -> AuditPage:
        """Newest first, `limit` rows at a time; `next_cursor` continues with older rows."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be from 1 to {MAX_PAGE}", details={"field": "limit"})
        before = _cursor(cursor)
        clauses, params = _where(where or AuditFilter())
        if before is not None:
            clauses.append("seq < :before")
            params["before"] = before
        sql = f"SELECT {_COLUMNS} FROM audit_log{_joined(clauses)} ORDER BY seq DESC LIMIT :limit"
        with self.database.read() as conn:
            rows = conn.execute(text(sql), {**params, "limit": limit + 1}).all()
        items = [_record(row) for row in rows[:limit]]
        more = len(rows) > limit
        return AuditPage(items=items, next_cursor=str(items[-1].seq) if more and items else None)

    def export(self, where: AuditFilter | None = None) -> Iterator[AuditRecord]:
        """Every matching row, oldest first, read a page per transaction (a long export holds no lock)."""
        clauses, params = _where(where or AuditFilter())
        clauses.append("seq > :after")
        sql = f"SELECT {_COLUMNS} FROM audit_log{_joined(clauses)} ORDER BY seq LIMIT {_EXPORT_PAGE}"
        after = 0
        while True:
            with self.database.read() as conn:
                rows = conn.execute(text(sql), {**params, "after": after}).all()
            for row in rows:
                yield _record(row)
            if len(rows) < _EXPORT_PAGE:
                return
            after = int(rows[-1].seq)

    def tenant_of(self, target_kind: str, target_id: str) -> str | None:
        """The tenant of an instance, task or incident for its audit row: its id, `SHARED`, or
        None when there is no such row (or the kind is not one that belongs to a tenant)."""
        table = _OWNED.get(target_kind)
        if table is None:
            return None
        with self.database.read() as conn:
            row = conn.execute(text(f"SELECT tenant_id FROM {table} WHERE id = :id"), {"id": target_id}).first()
        if row is None:
            return None
        return SHARED if row.tenant_id is None else str(row.tenant_id)

    def count(self) -> int:
        with self.database.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())

    # -- verifying -------------------------------------------------------------------------

    def verify(self) -> Verification:
        """Walk the whole chain in one consistent snapshot; report the first row where it breaks."""
        _signing, keys = self._load_keys(create=False)
        connection = self.database.engine.connect()
        if not self.database.is_sqlite:  # one snapshot for the head and every row
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection as conn, conn.begin():
            head = conn.execute(text("SELECT seq, hash, key_id, mac FROM audit_head WHERE id = 1")).one()
            result = conn.execution_options(yield_per=1000).execute(
                text(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq")
            )
            broken, rows, last_seq, last_hash = _walk(conn, (_record(row) for row in result), keys)
            result.close()
            if broken is None:
                broken = _check_head(head, last_seq, last_hash, keys)
        return Verification(
            rows=rows, head_seq=int(head.seq), head_hash=head.hash, key_source=self._source, broken=broken
        )


def canonical_details(details: Mapping[str, Any]) -> str:
    """Details as stored and hashed: secrets dropped, keys sorted, bounded in size."""
    cleaned = _without_secrets(dict(details))
    encoded = orjson.dumps(cleaned, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    if len(encoded) > MAX_DETAILS_BYTES:
        summary = {"truncated": True, "bytes": len(encoded), "keys": sorted(str(k) for k in cleaned)[:100]}
        encoded = orjson.dumps(summary, option=orjson.OPT_SORT_KEYS)
    return encoded.decode()


def _without_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: _without_secrets(item)
            for key, item in value.items()
            if str(key).lower() not in SECRET_KEYS and not str(key).lower().endswith(("_password", "_secret"))
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_without_secrets(item) for item in value]
    return value


def _canonical(values: Mapping[str, Any]) -> bytes:
    """The row as hashed: every column but seq (order is the prev_hash link's job) and the hashes.

    `tenant_id` counts only when set, so rows written before it existed keep their hashes;
    setting, changing or clearing it on a row breaks that row's hash all the same.
    """
    content = {name: values[name] for name in _HASHED}
    if values.get("tenant_id") is not None:
        content["tenant_id"] = values["tenant_id"]
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


_HASHED: Final = (
    "at",
    "actor",
    "actor_kind",
    "source",
    "action",
    "target_kind",
    "target_id",
    "details",
    "outcome",
    "code",
    "key_id",
)


def _row_mac(key: bytes, values: Mapping[str, Any]) -> str:
    return hmac.new(key, str(values["prev_hash"]).encode() + _canonical(values), hashlib.sha256).hexdigest()


def _head_mac(key: bytes, seq: int, chain_hash: str) -> str:
    return hmac.new(key, f"head:{seq}:{chain_hash}".encode(), hashlib.sha256).hexdigest()


def _walk(
    conn: Connection, records: Iterator[AuditRecord], keys: Mapping[str, bytes]
) -> tuple[Break | None, int, int, str]:
    expected, previous, rows = 1, GENESIS, 0
    for record in records:
        rows += 1
        if record.seq != expected:
            gap = f"row {expected}" if record.seq == expected + 1 else f"rows {expected} to {record.seq - 1}"
            detail = f"{gap} missing: the log goes on at row {record.seq}"
            return Break(seq=expected, reason="missing", detail=detail), rows, expected - 1, previous
        key = keys.get(record.key_id)
        if key is None:
            detail = f"row {record.seq} was signed with key {record.key_id}, which is not among the keys given"
            return Break(seq=record.seq, reason="unknown_key", detail=detail), rows, expected - 1, previous
        values = {name: getattr(record, name) for name in (*_HASHED, "prev_hash", "tenant_id")}
        if not hmac.compare_digest(_row_mac(key, values), record.hash):
            detail = f"row {record.seq} ({record.action} by {record.actor}) does not match its hash: it was changed"
            return Break(seq=record.seq, reason="changed", detail=detail), rows, expected - 1, previous
        if record.prev_hash != previous:
            origin = conn.execute(
                text("SELECT seq FROM audit_log WHERE hash = :hash"), {"hash": record.prev_hash}
            ).scalar()
            if origin is not None:
                detail = f"row {record.seq} was written after row {origin}, but stands after row {record.seq - 1}"
                return Break(seq=record.seq, reason="reordered", detail=detail), rows, expected - 1, previous
            detail = (
                f"the row written before row {record.seq} is gone: rows were deleted and the rest renumbered, "
                "or this row was inserted"
            )
            return Break(seq=record.seq, reason="missing", detail=detail), rows, expected - 1, previous
        previous, expected = record.hash, expected + 1
    return None, rows, expected - 1, previous


def _check_head(head: Any, last_seq: int, last_hash: str, keys: Mapping[str, bytes]) -> Break | None:
    head_seq = int(head.seq)
    if head_seq > last_seq:
        gap = f"row {head_seq}" if head_seq == last_seq + 1 else f"rows {last_seq + 1} to {head_seq}"
        detail = f"{gap} missing: the chain's head is row {head_seq}, the log ends at row {last_seq}"
        return Break(seq=last_seq + 1, reason="missing", detail=detail)
    if head_seq < last_seq:
        detail = f"row {head_seq + 1} stands beyond the chain's head (row {head_seq}): it was not appended by Legato"
        return Break(seq=head_seq + 1, reason="head", detail=detail)
    if head_seq == 0:
        return None if head.hash == GENESIS else Break(seq=0, reason="head", detail="the empty log's head was changed")
    key = keys.get(head.key_id or "")
    if (
        head.hash != last_hash
        or key is None
        or not hmac.compare_digest(_head_mac(key, head_seq, head.hash), head.mac or "")
    ):
        return Break(seq=head_seq, reason="head", detail=f"the chain's head (row {head_seq}) was changed")
    return None


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=int(row.seq),
        at=float(row.at),
        actor=row.actor,
        actor_kind=row.actor_kind,
        source=row.source,
        action=row.action,
        target_kind=row.target_kind,
        target_id=row.target_id,
        details=row.details,
        outcome=row.outcome,
        code=row.code,
        key_id=row.key_id,
        prev_hash=row.prev_hash,
        hash=row.hash,
        tenant_id=row.tenant_id,
    )


def _where(where: AuditFilter) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for name in ("actor", "target_kind", "target_id", "outcome"):
        value = getattr(where, name)
        if value is not None:
            clauses.append(f"{name} = :{name}")
            params[name] = value
    if where.action is not None:
        if where.action.endswith(".*"):
            prefix = where.action[:-1]  # keep the dot: "task.*" matches task.complete, not tasks
            clauses.append("substr(action, 1, :prefix_length) = :prefix")
            params.update(prefix=prefix, prefix_length=len(prefix))
        else:
            clauses.append("action = :action")
            params["action"] = where.action
    if where.tenant is not None:
        clauses.append("tenant_id = :tenant")
        params["tenant"] = where.tenant
    if where.visible is not None:
        names = [f":seen_{index}" for index in range(len(where.visible))]
        params.update({f"seen_{index}": tenant for index, tenant in enumerate(sorted(where.visible))})
        clauses.append(f"tenant_id IN ({', '.join([':shared', *names])})")
        params["shared"] = SHARED
    if where.since is not None:
        clauses.append("at >= :since")
        params["since"] = where.since
    if where.until is not None:
        clauses.append("at < :until")
        params["until"] = where.until
    return clauses, params


def _joined(clauses: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def _cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit() or len(cursor) > 19:
        raise InvalidInput(f"cursor {cursor!r} is not one this API gave out", details={"field": "cursor"})
    return int(cursor)


def _bounded(value: str | None) -> str | None:
    return None if value is None else str(value)[:MAX_FIELD]


def _file_key(path: Path, *, create: bool) -> bytes | None:
    """The key in `path`, made once (mode 0600) if it is missing and `create`.

    The key is written to a temporary file and linked into place, so two processes that
    start at once agree on one key and neither ever reads a half-written file.
    """
    if path.exists() or not create:
        return _read_key(path) if path.exists() else None
    key = secrets.token_bytes(32)
    scratch = path.with_name(f"{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(scratch, path)
        except FileExistsError:  # another process made it first: use theirs
            return _read_key(path)
    finally:
        scratch.unlink(missing_ok=True)
    return key


def _read_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyInvalid(f"the audit key file {path} does not hold a key (hex, 16 bytes or more)")
    return key


__all__ = [
    "GENESIS",
    "SHARED",
    "AuditEntry",
    "AuditFilter",
    "AuditLog",
    "AuditPage",
    "AuditRecord",
    "Break",
    "Verification",
    "canonical_details",
    "key_id",
    "parse_keys",
]
