from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.accounts.models import Account, Revocation, WechatIdentity


async def get(session: AsyncSession, account_id: str) -> Account | None:
    return await session.get(Account, account_id)


async def get_active(session: AsyncSession, account_id: str, *, for_update: bool = False) -> Account | None:
    """`for_update` before closing: on PostgreSQL concurrent DELETE /me calls would otherwise all
    see the account active and each close it (and emit account.closed) again."""
    account = await session.get(Account, account_id, with_for_update=for_update or None)
    return account if account is not None and account.status == "active" else None


async def by_phone_hash(session: AsyncSession, phone_hash: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.phone_hash == phone_hash))


async def by_username(session: AsyncSession, username: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.username == username))


async def add(session: AsyncSession, account: Account) -> Account:
    session.add(account)
    await session.flush()
    return account


async def wechat_identity(session: AsyncSession, openid: str) -> WechatIdentity | None:
    return await session.get(WechatIdentity, openid)


async def wechat_identities_of(session: AsyncSession, account_id: str) -> list[WechatIdentity]:
    return list(await session.scalars(select(WechatIdentity).where(WechatIdentity.account_id == account_id)))


async def delete_wechat_identities(session: AsyncSession, account_id: str) -> None:
    await session.execute(delete(WechatIdentity).where(WechatIdentity.account_id == account_id))


async def add_revocation(session: AsyncSession, account_id: str, at: float) -> None:
    session.add(Revocation(account_id=account_id, revoked_at=at))
    await session.flush()


async def revocations_after(session: AsyncSession, seq: int, limit: int = 1000) -> list[Revocation]:
    rows = await session.scalars(select(Revocation).where(Revocation.seq > seq).order_by(Revocation.seq).limit(limit))
    return list(rows)


async def last_revocation_seq(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(Revocation.seq), 0))) or 0)
