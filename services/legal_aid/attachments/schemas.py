from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AttachmentRead(BaseModel):
    id: str
    ticket_id: str
    filename: str
    content_type: str
    size: int
    uploader_id: str
    created_at: datetime


class AttachmentList(BaseModel):
    items: list[AttachmentRead]
    next_cursor: str | None
