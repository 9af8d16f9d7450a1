"""What people add to a user task: comments and attached files, kept in the database.

Attachments live beside the task in the same database (the same backups, the same
transactions), bounded in size by a setting (`LEGATO_TASK_ATTACHMENT_MAX_BYTES`, 10 MiB by
default) so that a table of files stays a table, not a disk. A file's name is what the
person uploaded, made harmless: no folders (`../../etc/passwd` is `passwd`), no control or
formatting characters (a right-to-left override hides an `.exe`), at most 255 characters
with the extension kept. Its content type is kept when it is one (`type/subtype`),
otherwise it is `application/octet-stream`; downloads are always served as attachments,
never shown inline, so an uploaded HTML page cannot run in the app's origin.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection, Row

from legato.errors import AttachmentNotFound, InvalidInput, PayloadTooLarge, TaskNotFound
from legato.store.codec import from_epoch, to_epoch
from legato.store.database import Database
from legato.store.tenants import Visible, may_see

DEFAULT_MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
MAX_ATTACHMENT_LIMIT: Final = 100 * 1024 * 1024
"""The highest limit the setting takes: files past it belong in a document store."""
MAX_COMMENT: Final = 10_000
MAX_NAME: Final = 255
MAX_ATTACHMENTS_PER_TASK: Final = 100
OCTET_STREAM: Final = "application/octet-stream"
_CONTENT_TYPE: Final = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Upload:
    """A file a person attaches: its name and content type as sent, and its bytes."""

    name: str
    content: bytes
    content_type: str | None = None


def safe_name(name: str | None) -> str:
    """A file name that names only a file: see the module's docstring."""
    raw = unicodedata.normalize("NFC", name or "")
    raw = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in raw if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ").strip()
    cleaned = cleaned.strip(". ") or "attachment"
    if len(cleaned) > MAX_NAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 16 and stem:
            cleaned = stem[: MAX_NAME - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:MAX_NAME]
    return cleaned


def safe_content_type(content_type: str | None) -> str:
    """`type/subtype` in lower case (parameters dropped), or application/octet-stream."""
    if not content_type:
        return OCTET_STREAM
    value = content_type.split(";", 1)[0].strip().lower()
    return value if _CONTENT_TYPE.fullmatch(value) else OCTET_STREAM


def check_comment(comment: str) -> str:
    if not isinstance(comment, str) or not comment.strip():
        raise InvalidInput("a comment needs text", details={"field": "text"})
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"a comment is at most {MAX_COMMENT} characters", details={"field": "text"})
    return comment


def check_upload(upload: Upload, limit: int) -> None:
    if len(upload.content) > limit:
        raise PayloadTooLarge(
            f"the attachment is {len(upload.content)} bytes; the limit is {limit} bytes "
            "(LEGATO_TASK_ATTACHMENT_MAX_BYTES)",
            details={"limit": limit},
        )


def insert_comment(conn: Connection, task: Row[Any], author: str | None, comment: str, now: datetime) -> int:
    row = conn.execute(
        text(
            "INSERT INTO task_comments (task_id, instance_id, author, at, text, tenant_id) "
            "VALUES (:task, :instance, :author, :at, :text, :tenant) RETURNING id"
        ),
        {
            "task": task.id,
            "instance": task.instance_id,
            "author": author,
            "at": to_epoch(now),
            "text": comment,
            "tenant": task.tenant_id,
        },
    ).one()
    return int(row.id)


def insert_attachment(
    conn: Connection, task: Row[Any], author: str | None, upload: Upload, now: datetime
) -> dict[str, Any]:
    """Store the file; its metadata (what the history records) comes back."""
    count = conn.execute(text("SELECT COUNT(*) FROM task_attachments WHERE task_id = :id"), {"id": task.id}).scalar()
    if int(count or 0) >= MAX_ATTACHMENTS_PER_TASK:
        raise InvalidInput(f"a task holds at most {MAX_ATTACHMENTS_PER_TASK} attachments", details={"field": "file"})
    name, content_type = safe_name(upload.name), safe_content_type(upload.content_type)
    digest = hashlib.sha256(upload.content).hexdigest()
    row = conn.execute(
        text(
            "INSERT INTO task_attachments (task_id, instance_id, name, content_type, size, sha256, content, "
            "created_at, created_by, tenant_id) VALUES (:task, :instance, :name, :type, :size, :sha, :content, "
            ":at, :author, :tenant) RETURNING id"
        ),
        {
            "task": task.id,
            "instance": task.instance_id,
            "name": name,
            "type": content_type,
            "size": len(upload.content),
            "sha": digest,
            "content": upload.content,
            "at": to_epoch(now),
            "author": author,
            "tenant": task.tenant_id,
        },
    ).one()
    return {"id": int(row.id), "name": name, "content_type": content_type, "size": len(upload.content)}


class TaskFiles:
    """Reading a task's comments and attachments (adding them is an action: task_actions.py)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def comments(self, task_id: str, visible: Visible = None) -> list[dict[str, Any]]:
        """A task's comments, oldest first."""
        with self.database.read() as conn:
            _visible_task(conn, task_id, visible)
            rows = conn.execute(
                text("SELECT id, author, at, text FROM task_comments WHERE task_id = :id ORDER BY id"), {"id": task_id}
            ).all()
        return [{"id": r.id, "author": r.author, "at": _iso(r.at), "text": r.text} for r in rows]

    def attachments(self, task_id: str, visible: Visible = None) -> list[dict[str, Any]]:
        """A task's attachments without their bytes, oldest first."""
        with self.database.read() as conn:
            _visible_task(conn, task_id, visible)
            rows = conn.execute(
                text(
                    "SELECT id, name, content_type, size, sha256, created_at, created_by FROM task_attachments "
                    "WHERE task_id = :id ORDER BY id"
                ),
                {"id": task_id},
            ).all()
        return [_attachment(r) for r in rows]

    def attachment(self, task_id: str, attachment_id: int, visible: Visible = None) -> tuple[dict[str, Any], bytes]:
        """One attachment's metadata and bytes."""
        with self.database.read() as conn:
            _visible_task(conn, task_id, visible)
            row = conn.execute(
                text(
                    "SELECT id, name, content_type, size, sha256, created_at, created_by, content "
                    "FROM task_attachments WHERE task_id = :task AND id = :id"
                ),
                {"task": task_id, "id": attachment_id},
            ).first()
        if row is None:
            raise AttachmentNotFound(
                f"user task {task_id!r} has no attachment {attachment_id}", details={"attachment_id": attachment_id}
            )
        return _attachment(row), bytes(row.content)


def _visible_task(conn: Connection, task_id: str, visible: Visible) -> None:
    row = conn.execute(text("SELECT tenant_id FROM user_tasks WHERE id = :id"), {"id": task_id}).first()
    if row is None or not may_see(visible, row.tenant_id):
        raise TaskNotFound(f"no user task {task_id!r}", details={"task_id": task_id})


def _attachment(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "created_at": _iso(row.created_at),
        "created_by": row.created_by,
    }


def _iso(seconds: float | None) -> str | None:
    moment = from_epoch(seconds)
    return None if moment is None else moment.isoformat()
