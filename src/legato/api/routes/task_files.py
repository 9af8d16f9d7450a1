"""Comments and files on a user task: what people add while they work on it.

Adding needs `tasks:comment` and being one of the task's people (its assignee, owner or a
candidate) or an operator (store/task_actions.py); reading needs `tasks:read`. A file is a
multipart upload in a field named `file`, at most `LEGATO_TASK_ATTACHMENT_MAX_BYTES`; it
comes back as an attachment (never shown inline), with its content type and a name made
harmless (store/task_files.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from legato.api.deps import LegatoDep, VisibleDep
from legato.api.problems import problem_responses
from legato.api.routes.tasks import task_actor
from legato.api.schemas import AddComment, Attachment, AttachmentList, Comment, CommentList
from legato.api.security import PrincipalDep
from legato.errors import InvalidInput, PayloadTooLarge

router = APIRouter(tags=["tasks"])


@router.get(
    "/tasks/{task_id}/comments",
    response_model=CommentList,
    summary="A task's comments, oldest first",
    responses=problem_responses(404),
)
def list_comments(task_id: str, legato: LegatoDep, visible: VisibleDep) -> dict[str, Any]:
    return {"items": legato.task_comments(task_id, visible=visible)}


@router.post(
    "/tasks/{task_id}/comments",
    response_model=Comment,
    status_code=201,
    summary="Comment on an open task",
    description="The task's assignee, owner or a candidate, or an operator: 403 TASK_NOT_CANDIDATE otherwise.",
    responses=problem_responses(403, 404, 409),
)
def add_comment(
    task_id: str, body: AddComment, legato: LegatoDep, principal: PrincipalDep, visible: VisibleDep
) -> dict[str, Any]:
    return legato.comment_task(task_id, body.text, user=task_actor(principal), visible=visible)


@router.get(
    "/tasks/{task_id}/attachments",
    response_model=AttachmentList,
    summary="A task's attachments, without their bytes",
    responses=problem_responses(404),
)
def list_attachments(task_id: str, legato: LegatoDep, visible: VisibleDep) -> dict[str, Any]:
    return {"items": legato.task_attachments(task_id, visible=visible)}


@router.post(
    "/tasks/{task_id}/attachments",
    response_model=Attachment,
    status_code=201,
    summary="Attach a file to an open task (multipart, field 'file')",
    description="The task's assignee, owner or a candidate, or an operator. 413 PAYLOAD_TOO_LARGE past "
    "LEGATO_TASK_ATTACHMENT_MAX_BYTES.",
    responses=problem_responses(403, 404, 409, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def add_attachment(
    task_id: str, request: Request, legato: LegatoDep, principal: PrincipalDep, visible: VisibleDep
) -> dict[str, Any]:
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InvalidInput("attach a file as a multipart upload in a field named 'file'", details={"field": "file"})
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("attach a file as a multipart upload in a field named 'file'", details={"field": "file"})
    limit = legato.max_attachment_bytes
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge(
            f"the attachment is larger than the limit of {limit} bytes (LEGATO_TASK_ATTACHMENT_MAX_BYTES)",
            details={"limit": limit},
        )
    return await run_in_threadpool(
        legato.attach_to_task,
        task_id,
        upload.filename or "",
        content,
        content_type=upload.content_type,
        user=task_actor(principal),
        visible=visible,
    )


@router.get(
    "/tasks/{task_id}/attachments/{attachment_id}",
    summary="Download an attachment",
    description="The file's bytes with its content type, always as an attachment (never shown inline).",
    responses={200: {"content": {"application/octet-stream": {}}}, **problem_responses(404)},
    response_class=Response,
)
def download_attachment(task_id: str, attachment_id: int, legato: LegatoDep, visible: VisibleDep) -> Response:
    meta, content = legato.task_attachment(task_id, attachment_id, visible=visible)
    return Response(content=content, media_type=meta["content_type"], headers=download_headers(meta["name"]))


def download_headers(name: str) -> dict[str, str]:
    """An attachment's headers: its name both as plain ASCII and as RFC 5987 UTF-8, never
    run or shown by the browser in the app's origin."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "attachment"
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    }
