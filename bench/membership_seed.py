"""Bulk-load members with cards into the membership database, the way a provincial migration
would: batched `executemany` on SQLite, `COPY` on PostgreSQL — never the ORM row by row.

    python -m bench.membership_seed --members 1000000 [--sqlite PATH | --postgres URL] [--data-dir DIR]

The schema comes from the real migrations. Names and ID numbers are made up (valid check
characters), encrypted with the data dir's PII key exactly as the service does, with the keyed
hash in the unique column. Card numbers carry a Luhn digit.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.common.config import database_url_for_service
from services.common.crypto import PiiCipher
from services.common.masking import mask_id_number, mask_name
from services.common.migrations import upgrade
from services.membership.applications.idcard import check_character
from services.membership.members.cards import luhn_digit

BATCH = 20_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅"
MEMBER_COLS = ("id", "account_id", "status", "org_id", "org_path", "real_name_enc", "real_name_masked",
               "id_number_enc", "id_number_hash", "id_number_masked", "application_id", "status_reason",
               "joined_at", "updated_at")
CARD_COLS = ("id", "member_id", "card_no", "status", "issued_at")
ORG_COLS = ("id", "name", "parent_id", "path", "depth", "created_by", "created_at")


def _hex_id(prefix: int, n: int) -> str:
    return f"{prefix:012x}{n:020x}"


def org_rows(workplaces: int) -> list[tuple[Any, ...]]:
    """全国 → 1 province → 4 cities → `workplaces` workplace unions spread over the cities."""
    now = datetime.now(UTC)
    base = int(time.time() * 1000)
    rows: list[tuple[Any, ...]] = []

    def add(name: str, parent: tuple[Any, ...] | None) -> tuple[Any, ...]:
        oid = _hex_id(base, len(rows) + 1)
        path = (parent[3] if parent else "/") + oid + "/"
        row = (oid, name, parent[0] if parent else None, path, (parent[4] + 1) if parent else 0, None, now)
        rows.append(row)
        return row

    national = add("中华全国总工会(bench)", None)
    province = add("广东省总工会", national)
    cities = [add(f"第{i + 1}市总工会", province) for i in range(4)]
    for i in range(workplaces):
        add(f"第{i + 1}企业工会", cities[i % len(cities)])
    return rows


def member_batches(n: int, orgs: list[tuple[Any, ...]], pii: PiiCipher) -> Iterator[tuple[list[Any], list[Any]]]:
    workplaces = [o for o in orgs if o[4] == 3]
    now = datetime.now(UTC)
    base = int(time.time() * 1000)
    born0 = date(1960, 1, 1)
    for start in range(0, n, BATCH):
        members, cards = [], []
        for i in range(start, min(n, start + BATCH)):
            org = workplaces[i % len(workplaces)]
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 600) % len(GIVEN)]
            first17 = f"440106{born0 + timedelta(days=i // 1000):%Y%m%d}{i % 1000:03d}"
            number = first17 + check_character(first17)
            mid = _hex_id(base, i + 1)
            members.append((mid, _hex_id(base + 1, i + 1), "active", org[0], org[3],
                            pii.encrypt(name, context="membership.real_name"), mask_name(name),
                            pii.encrypt(number, context="membership.id_number"),
                            pii.lookup_hash(f"id_number:{number}"), mask_id_number(number), None, None, now, now))
            body = "8" + f"{i:014d}"
            cards.append((_hex_id(base + 2, i + 1), mid, body + luhn_digit(body), "active", now))
        yield members, cards


def _sqlite_value(v: Any) -> Any:
    # The service's UtcDateTime stores naive UTC text on SQLite.
    return v.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v


def seed_sqlite(path: Path, n: int, pii: PiiCipher, workplaces: int = 200) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade("membership", f"sqlite+aiosqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")

    def insert(table: str, cols: tuple[str, ...], rows: list[Any]) -> None:
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        conn.executemany(sql, [tuple(_sqlite_value(v) for v in r) for r in rows])

    orgs = org_rows(workplaces)
    conn.execute("BEGIN")
    insert("orgs", ORG_COLS, orgs)
    for members, cards in member_batches(n, orgs, pii):
        insert("members", MEMBER_COLS, members)
        insert("cards", CARD_COLS, cards)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def seed_postgres(url: str, n: int, pii: PiiCipher, workplaces: int = 200) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    from tests.databases import _drop_database

    await _drop_database(url)
    await asyncio.to_thread(upgrade, "membership", url)
    u = make_url(url)
    conn = await asyncpg.connect(user=u.username, password=u.password, host=u.host, port=u.port or 5432,
                                 database=u.database)
    try:
        orgs = org_rows(workplaces)
        async with conn.transaction():
            await conn.copy_records_to_table("orgs", records=orgs, columns=ORG_COLS)
            for members, cards in member_batches(n, orgs, pii):
                await conn.copy_records_to_table("members", records=members, columns=MEMBER_COLS)
                await conn.copy_records_to_table("cards", records=cards, columns=CARD_COLS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def postgres_url(server: str, name: str) -> str:
    """postgresql://host/ → postgresql+asyncpg://host/<name>_membership."""
    return database_url_for_service(server.rstrip("/") + "/" + name, "membership")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sqlite", type=Path, default=Path("bench/results/membership-bench.db"))
    parser.add_argument("--postgres", help="server URL, e.g. postgresql://postgres@127.0.0.1:5432/")
    parser.add_argument("--data-dir", type=Path, default=Path("bench/results/data"))
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    pii = PiiCipher.from_data_dir(args.data_dir / "pii-membership.keys")
    t0 = time.perf_counter()
    if args.postgres:
        url = postgres_url(args.postgres, f"bench_{args.members}")
        asyncio.run(seed_postgres(url, args.members, pii))
        where = url
    else:
        seed_sqlite(args.sqlite, args.members, pii)
        where = str(args.sqlite)
    elapsed = time.perf_counter() - t0
    print(f"seeded {args.members:,} members with cards into {where} in {elapsed:.1f} s "
          f"({args.members / elapsed:,.0f} rows/s)", flush=True)


if __name__ == "__main__":
    main()
