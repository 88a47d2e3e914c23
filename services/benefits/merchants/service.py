"""Merchants and their API credentials, managed by staff inside their org subtree."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from services.benefits.deps import Scope
from services.benefits.merchant_api.nonces import NonceStore
from services.benefits.merchants import repository
from services.benefits.merchants.errors import CredentialNotFound, InvalidOrg, MerchantNotFound
from services.benefits.merchants.models import Merchant, MerchantKey
from services.benefits.merchants.schemas import MerchantCreate
from services.common.crypto import PiiCipher
from services.common.db import utcnow
from services.common.errors import Forbidden
from services.common.http import OrgDirectory

logger = logging.getLogger("smartunion.benefits.merchants")


def secret_context(key_id: str) -> str:
    """AES-GCM associated data: a stored secret only decrypts under its own key id, so rows
    cannot be swapped between keys."""
    return f"merchant-key:{key_id}"


async def create_merchant(*, session: AsyncSession, data: MerchantCreate, scope: Scope,
                          orgs: OrgDirectory) -> Merchant:
    org_id = data.org_id or scope.principal.org_id
    path = None
    if org_id is not None:
        path = await orgs.path(org_id)
        if path is None:
            raise InvalidOrg
        if not scope.covers(path):
            raise Forbidden("只能在本组织及下级组织中创建商户")
    merchant = Merchant(org_id=org_id, org_path=path, name=data.name, category=data.category,
                        address=data.address, lat=data.lat, lng=data.lng, phone=data.phone,
                        created_by=scope.principal.account_id)
    await repository.add(session, merchant)
    logger.info("merchant created", extra={"fields": {"merchant_id": merchant.id}})
    return merchant


async def get_in_scope(*, session: AsyncSession, merchant_id: str, scope: Scope) -> Merchant:
    merchant = await repository.get(session, merchant_id)
    if merchant is None or not scope.covers(merchant.org_path):
        raise MerchantNotFound
    return merchant


async def create_credential(*, session: AsyncSession, merchant: Merchant, scope: Scope,
                            cipher: PiiCipher) -> tuple[MerchantKey, str]:
    key_id = f"mk_{secrets.token_hex(12)}"
    secret = f"sk_{secrets.token_urlsafe(32)}"
    key = MerchantKey(key_id=key_id, merchant_id=merchant.id, created_by=scope.principal.account_id,
                      secret_enc=cipher.encrypt(secret, context=secret_context(key_id)))
    await repository.add(session, key)
    logger.info("merchant key created", extra={"fields": {"merchant_id": merchant.id, "key_id": key_id}})
    return key, secret


async def revoke_credential(*, session: AsyncSession, merchant: Merchant, key_id: str, nonces: NonceStore) -> None:
    key = await repository.get_key(session, key_id)
    if key is None or key.merchant_id != merchant.id:
        raise CredentialNotFound
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
        # Before the request commits: with Redis the shared key state must say "revoked" first
        # (a failed commit then leaves the key refused, never a revoked key accepted).
        await nonces.mark_revoked(key_id)
        logger.info("merchant key revoked", extra={"fields": {"merchant_id": merchant.id, "key_id": key_id}})
