"""Attachments: uploaded by whoever may see the ticket, served only to them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.crypto import PiiCipher
from services.common.errors import NotFound
from services.common.ids import new_id
from services.common.logging import log_event
from services.common.pagination import decode_cursor, encode_cursor
from services.legal_aid.attachments import repository
from services.legal_aid.attachments.models import Attachment
from services.legal_aid.attachments.schemas import AttachmentList, AttachmentRead
from services.legal_aid.attachments.storage import AttachmentStore
from services.legal_aid.attachments.upload import receive_file
from services.legal_aid.tickets import service as tickets
from services.legal_aid.tickets.access import Viewer
from services.legal_aid.tickets.errors import TicketClosed, TicketNotFound

logger = logging.getLogger("smartunion.legal_aid.attachments")


def _context(ticket_id: str, attachment_id: str) -> str:
    return f"legal:{ticket_id}:attachment:{attachment_id}"


def to_read(row: Attachment, pii: PiiCipher) -> AttachmentRead:
    return AttachmentRead(id=row.id, ticket_id=row.ticket_id,
                          filename=pii.decrypt(row.filename_enc, context=_context(row.ticket_id, row.id)),
                          content_type=row.content_type, size=row.size, uploader_id=row.uploader_id,
                          created_at=row.created_at)


async def upload(*, session: AsyncSession, ticket_id: str, viewer: Viewer, pii: PiiCipher, store: AttachmentStore,
                 content_type: str | None, stream: AsyncIterator[bytes], max_bytes: int,
                 now: datetime) -> AttachmentRead:
    ticket = await tickets.get_visible(session, ticket_id, viewer)
    if ticket.status in ("closed", "rejected"):
        raise TicketClosed
    # End the transaction before reading the body: on SQLite it holds the write lock, and a slow
    # phone upload must not stall every other writer.
    await session.commit()
    writer = await store.open_writer()
    try:
        received = await receive_file(content_type, stream, writer, max_bytes=max_bytes)
        await writer.commit()
    except BaseException:
        await writer.abort()
        raise
    try:
        ticket = await tickets.get_visible(session, ticket_id, viewer)
        attachment_id = new_id()
        row = Attachment(id=attachment_id, ticket_id=ticket.id, uploader_id=viewer.account_id,
                         storage_key=writer.key, content_type=received.content_type, size=received.size,
                         filename_enc=pii.encrypt(received.filename, context=_context(ticket.id, attachment_id)),
                         created_at=now)
        await repository.add(session, row)
        ticket.updated_at = now
        await session.commit()
    except BaseException:
        await store.delete(writer.key)
        raise
    log_event(logger, "attachment stored", ticket_id=ticket.id, attachment_id=attachment_id,
              content_type=received.content_type, size=received.size)
    return to_read(row, pii)


async def get_for_download(*, session: AsyncSession, attachment_id: str, viewer: Viewer,
                           store: AttachmentStore) -> Attachment:
    row = await repository.get(session, attachment_id)
    if row is None or row.deleted_at is not None or row.storage_key is None:
        raise NotFound("附件不存在")
    try:
        await tickets.get_visible(session, row.ticket_id, viewer)
    except TicketNotFound:
        # The same answer as for an unknown id: a different one would confirm the attachment exists.
        raise NotFound("附件不存在") from None
    if not await store.exists(row.storage_key):
        logger.warning("attachment bytes missing", extra={"fields": {"attachment_id": row.id}})
        raise NotFound("附件不存在")
    return row


async def list_attachments(*, session: AsyncSession, ticket_id: str, viewer: Viewer, pii: PiiCipher,
                           cursor: str | None, limit: int) -> AttachmentList:
    ticket = await tickets.get_visible(session, ticket_id, viewer)
    after = decode_cursor(cursor)
    rows = await repository.of_ticket(session, ticket.id, after=str(after[0]) if after else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return AttachmentList(items=[to_read(r, pii) for r in rows],
                          next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)


async def delete_by_uploader(*, session: AsyncSession, store: AttachmentStore, ticket_id: str, uploader_id: str,
                             now: datetime) -> int:
    """Account deletion: the files a person uploaded go; the row stays as a tombstone (the ticket
    trail shows that something was attached, not what)."""
    count = 0
    for row in await repository.by_uploader_on(session, ticket_id, uploader_id):
        if row.storage_key is not None:
            await store.delete(row.storage_key)
        if row.deleted_at is None:
            count += 1
        row.storage_key = None
        row.deleted_at = row.deleted_at or now
        row.filename_enc = ""  # the name often carries the person's name
    return count
