"""Personal data: after the whole flow (accounts, applications with ID numbers, members, tickets,
attachments, redemptions, job applications), no ID number and no phone used appears in plaintext
anywhere the stack keeps data — every database file (WAL included) on SQLite; on PostgreSQL every
row of every table of every service's database (dumped as text, as `pg_dump` would) and every key
and value the stack wrote to Redis; and on both, the attachment store and the logs — and every
answer masks them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from services.common.config import SERVICE_NAMES
from tests.security.world import World


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "keys"]


def _encodings(value: str) -> list[bytes]:
    # Plain UTF-8 and UTF-16 (as some drivers store text), and the hex PostgreSQL prints for bytea.
    raw = [value.encode(), value.encode("utf-16-le")]
    return raw + [b"\\x" + r.hex().encode() for r in raw] + [r.hex().encode() for r in raw]


def _scan(data: bytes, where: str, values: list[str], found: list[str]) -> None:
    for value in values:
        if any(encoded in data for encoded in _encodings(value)):
            found.append(f"{where}: {value[:3]}…")


async def _dump_tables(url: str) -> dict[str, bytes]:
    """Every row of every table of one database as text (each row as JSON, bytea as hex)."""
    engine = create_async_engine(url, poolclass=NullPool)
    dumps = {}
    try:
        async with engine.connect() as conn:
            tables = (await conn.execute(text(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                "'information_schema')"))).all()
            for schema, table in tables:
                rows = await conn.execute(text(f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t'))
                dumps[f"{schema}.{table}"] = "\n".join(r[0] for r in rows).encode()
    finally:
        await engine.dispose()
    return dumps


def _redis_dump(world: World) -> dict[str, bytes]:
    """Every key of the stack's namespace (all its Redis keys: the gateway's rate limits, benefits'
    nonces and key states, services' counters, the event streams), with its value whatever its type."""
    from redis import Redis

    assert world.backend.redis_url and world.backend.redis_namespace
    out: dict[str, bytes] = {}
    with Redis.from_url(world.backend.redis_url) as r:
        for key in r.scan_iter(match=f"{world.backend.redis_namespace}:*", count=1000):
            kind = r.type(key).decode()
            value: object
            if kind == "string":
                value = r.get(key)
            elif kind == "hash":
                value = r.hgetall(key)
            elif kind == "list":
                value = r.lrange(key, 0, -1)
            elif kind == "set":
                value = r.smembers(key)
            elif kind == "zset":
                value = r.zrange(key, 0, -1, withscores=True)
            elif kind == "stream":
                value = r.xrange(key)
            else:
                value = b""
            out[key.decode(errors="replace")] = key + b"\n" + repr(value).encode()
    return out


def test_no_plaintext_id_numbers_or_phones_at_rest(world: World) -> None:
    # One more round of the flow right before the scan, so its writes are in the WAL files too.
    headers, _, _ = world.new_member()
    world.ok(world.gw.post("/api/v1/legal/tickets", headers=headers, json=world.ticket_body()), 201)
    world.ok(world.gw.post(f"/api/v1/jobs/{world.ids['job']}/applications", headers=headers,
                           json={"message": "应聘"}), 201)
    secrets_used = sorted({*world.phones_used, *world.id_numbers_used})
    assert len(world.id_numbers_used) >= 5 and len(world.phones_used) >= 5
    found: list[str] = []
    files = _files(world.stack.data_dir)
    kinds = {p.suffix for p in files}
    assert ".log" in kinds and any("attachments" in p.parts for p in files), kinds
    for path in files:
        _scan(path.read_bytes(), str(path.relative_to(world.stack.data_dir)), secrets_used, found)
    if world.backend.name == "sqlite":
        assert ".db" in kinds, kinds
    else:
        assert not {".db", ".db-wal"} & kinds, "a PostgreSQL stack must keep no SQLite file"
        rows = 0
        for service in SERVICE_NAMES:
            dumps = asyncio.run(_dump_tables(world.backend.service_database_url(service)))
            assert dumps, f"no table in {service}'s database"
            for table, data in dumps.items():
                rows += data.count(b"\n") + bool(data)
                _scan(data, f"{service}: {table}", secrets_used, found)
        # The scan saw the data: ciphertexts of everything the flow wrote (dozens of rows).
        assert rows > 100, rows
        dump = _redis_dump(world)
        # The stack's own keys are there (event streams, rate-limit counters): the scan saw data.
        assert any(k.startswith(world.backend.redis_namespace + ":") for k in dump), sorted(dump)[:20]
        for key, data in dump.items():
            _scan(data, f"redis {key}", secrets_used, found)
    assert not found, found


def test_every_answer_masks_them(world: World) -> None:
    leaks = [line for line, text in world.answers for value in (*world.phones_used, *world.id_numbers_used)
             if value in text]
    assert not leaks, leaks[:10]
    assert len(world.answers) > 40
