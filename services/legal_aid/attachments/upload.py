"""Reading one multipart `file` straight from the request stream into the store.

Nothing is buffered beyond one network chunk: the type is decided from the first bytes (415 and
stop reading when they are not PDF, PNG or JPEG — the declared type and the name are ignored)
and the size is counted as bytes arrive (413 and stop as soon as it passes the limit). The
common middleware additionally cuts the whole body at `attachment_body_limit`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from services.common.errors import ProblemError, Unprocessable
from services.legal_aid.attachments.storage import BlobWriter

# (magic prefix, content type, extension, extensions accepted as they are)
SIGNATURES: tuple[tuple[bytes, str, str, tuple[str, ...]], ...] = (
    (b"%PDF-", "application/pdf", "pdf", ("pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png", ("png",)),
    (b"\xff\xd8\xff", "image/jpeg", "jpg", ("jpg", "jpeg")),
)
SNIFF_BYTES = 8
MAX_PARTS = 8


class UnsupportedMediaType(ProblemError):
    status, code = 415, "unsupported_media_type"

    def __init__(self) -> None:
        super().__init__("只能上传 PDF、PNG 或 JPEG 文件")


class TooLarge(ProblemError):
    status, code = 413, "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"文件不能超过 {limit // (1024 * 1024)} MiB")


class FileMissing(Unprocessable):
    def __init__(self, msg: str = "a multipart/form-data body with one `file` part is required") -> None:
        super().__init__("请以 multipart/form-data 上传 file 字段",
                         extra={"errors": [{"loc": ["body", "file"], "msg": msg}]})


def sniff(head: bytes) -> tuple[str, str, tuple[str, ...]] | None:
    for magic, content_type, ext, accepted in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext, accepted
    return None


_UNSAFE = re.compile(r'[<>:"/\\|?*;\x00-\x1f\x7f]')
MAX_NAME = 120


def sanitise_filename(raw: str | None, ext: str, accepted: tuple[str, ...]) -> str:
    """A display name that is safe anywhere: no path, no control or bidi characters, no shell
    or header metacharacters, bounded length, and an extension matching the real content."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C* = control, format (U+202E right-to-left override, zero-width), unassigned…
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, current = name.rpartition(".")
    if not (dot and stem and current.lower() in accepted):
        stem = name
        current = ext
    stem = stem[: MAX_NAME - len(current) - 1].strip(" .") or "attachment"
    return f"{stem}.{current.lower()}"


def content_disposition(filename: str) -> str:
    """RFC 6266 / RFC 5987: an ASCII fallback plus the UTF-8 name percent-encoded."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass
class _State:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: bytearray = field(default_factory=bytearray)
    field_value: bytearray = field(default_factory=bytearray)
    parts: int = 0
    in_file: bool = False
    file_seen: bool = False
    file_done: bool = False
    filename: str | None = None
    pending: list[bytes] = field(default_factory=list)


@dataclass
class Received:
    filename: str
    content_type: str
    size: int


async def receive_file(content_type: str | None, stream: AsyncIterator[bytes], writer: BlobWriter, *,
                       max_bytes: int) -> Received:
    """Parse the body, writing the `file` part into `writer`. The caller aborts the writer on
    any exception and commits it on success."""
    ctype, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise FileMissing
    state = _State()

    def on_part_begin() -> None:
        state.parts += 1
        state.headers = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.field_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.field_value += data[start:end]

    def on_header_end() -> None:
        state.headers[bytes(state.field_name).lower()] = bytes(state.field_value)
        state.field_name.clear()
        state.field_value.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state.headers.get(b"content-disposition", b""))
        is_file = disp.get(b"name") == b"file" and b"filename" in disp
        state.in_file = is_file and not state.file_seen
        if state.in_file:
            state.file_seen = True
            state.filename = disp[b"filename"].decode("utf-8", errors="replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.in_file:
            state.pending.append(bytes(data[start:end]))

    def on_part_end() -> None:
        if state.in_file:
            state.in_file = False
            state.file_done = True

    parser = MultipartParser(boundary, {  # type: ignore[arg-type]
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data, "on_part_end": on_part_end,
    })

    head = bytearray()
    kind: tuple[str, str, tuple[str, ...]] | None = None
    size = 0

    async def drain(final: bool) -> None:
        nonlocal kind, size
        chunks, state.pending = state.pending, []
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(max_bytes)
            if kind is None:
                head.extend(chunk)
                if len(head) < SNIFF_BYTES and not final:
                    continue
                kind = sniff(bytes(head))
                if kind is None:
                    raise UnsupportedMediaType
                await writer.write(bytes(head))
                head.clear()
            else:
                await writer.write(chunk)
        if final and kind is None:
            if not head or (kind := sniff(bytes(head))) is None:
                raise UnsupportedMediaType
            await writer.write(bytes(head))

    try:
        async for chunk in stream:
            if chunk:
                parser.write(chunk)
            if state.parts > MAX_PARTS:
                raise FileMissing("too many parts")
            await drain(final=False)
            if state.file_done:
                break  # the rest of the body is framing or fields we do not use
        else:
            parser.finalize()
    except MultipartParseError:
        raise FileMissing("malformed multipart body") from None
    if not state.file_done:
        raise FileMissing
    await drain(final=True)
    assert kind is not None
    content, ext, accepted = kind
    return Received(filename=sanitise_filename(state.filename, ext, accepted), content_type=content, size=size)
