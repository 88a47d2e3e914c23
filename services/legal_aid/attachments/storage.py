"""Where attachment bytes live, behind a small interface: the data dir by default; an
S3-compatible store can implement the same three calls for production (several replicas need
a shared store).

Objects are named by a random key, never by anything the client sent, and written to a
temporary name first so that a half-received upload is never visible under a real key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio

CHUNK = 64 * 1024


class BlobWriter(Protocol):
    key: str

    async def write(self, data: bytes) -> None: ...

    async def commit(self) -> None: ...

    async def abort(self) -> None: ...


class AttachmentStore(Protocol):
    async def open_writer(self) -> BlobWriter: ...

    def read(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


class LocalWriter:
    def __init__(self, key: str, final: Path, temp: Path, handle: anyio.AsyncFile[bytes]) -> None:
        self.key = key
        self._final = final
        self._temp = temp
        self._handle = handle
        self._closed = False

    async def write(self, data: bytes) -> None:
        await self._handle.write(data)

    async def commit(self) -> None:
        await self._handle.flush()
        await anyio.to_thread.run_sync(os.fsync, self._handle.wrapped.fileno())
        await self._handle.aclose()
        self._closed = True
        await anyio.Path(self._temp).rename(self._final)

    async def abort(self) -> None:
        if not self._closed:
            await self._handle.aclose()
            self._closed = True
        await anyio.Path(self._temp).unlink(missing_ok=True)


class LocalAttachmentStore:
    """Files under `<data dir>/attachments/<2 hex>/<32 hex>`, mode 0600."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True, mode=0o700)
        # Uploads cut by a crash leave a .part behind; a day is far beyond any live upload.
        stale = time.time() - 24 * 3600
        for part in (root / "tmp").glob("*.part"):
            with contextlib.suppress(OSError):
                if part.stat().st_mtime < stale:
                    part.unlink()

    def _path(self, key: str) -> Path:
        if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    async def open_writer(self) -> LocalWriter:
        key = secrets.token_hex(16)
        final = self._path(key)
        await anyio.Path(final.parent).mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = self.root / "tmp" / f"{key}.part"
        fd = await anyio.to_thread.run_sync(lambda: os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        handle = anyio.wrap_file(os.fdopen(fd, "wb"))
        return LocalWriter(key, final, temp, handle)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await anyio.Path(self._path(key)).exists()
