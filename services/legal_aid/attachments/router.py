from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit
from services.legal_aid.attachments import service
from services.legal_aid.attachments.schemas import AttachmentList, AttachmentRead
from services.legal_aid.attachments.upload import content_disposition
from services.legal_aid.deps import NowDep, PiiDep, SettingsDep, StoreDep
from services.legal_aid.tickets.access import ViewerDep

router = APIRouter(tags=["legal aid"])

UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}}},
}


@router.post("/api/v1/legal/tickets/{ticket_id}/attachments", status_code=201, response_model=AttachmentRead,
             openapi_extra={"requestBody": UPLOAD_BODY})
async def upload(ticket_id: str, request: Request, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
                 store: StoreDep, settings: SettingsDep, now: NowDep) -> AttachmentRead:
    """Attach a PDF, PNG or JPEG (recognised by its bytes, ≤ 10 MiB) as multipart field `file`.
    415 `unsupported_media_type`, 413 `too_large`."""
    return await service.upload(session=session, ticket_id=ticket_id, viewer=viewer, pii=pii, store=store,
                                content_type=request.headers.get("content-type"), stream=request.stream(),
                                max_bytes=settings.attachment_max_bytes, now=now)


@router.get("/api/v1/legal/tickets/{ticket_id}/attachments", response_model=AttachmentList)
async def list_attachments(ticket_id: str, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
                           limit: Limit = 20, cursor: Cursor = None) -> AttachmentList:
    """The ticket's attachments (metadata), for whoever may see the ticket."""
    return await service.list_attachments(session=session, ticket_id=ticket_id, viewer=viewer, pii=pii,
                                          cursor=cursor, limit=limit)


@router.get("/api/v1/legal/attachments/{attachment_id}", response_class=StreamingResponse,
            responses={200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}})
async def download(attachment_id: str, viewer: ViewerDep, session: SessionDep, pii: PiiDep,
                   store: StoreDep) -> StreamingResponse:
    """The bytes, to whoever may see the ticket, as a download that browsers will not render
    inline or re-interpret."""
    row = await service.get_for_download(session=session, attachment_id=attachment_id, viewer=viewer, store=store)
    info = service.to_read(row, pii)
    assert row.storage_key is not None
    headers = {
        "Content-Disposition": content_disposition(info.filename),
        "Content-Length": str(row.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(store.read(row.storage_key), media_type=row.content_type, headers=headers)
