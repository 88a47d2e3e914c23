from __future__ import annotations

from fastapi import APIRouter, Response

from services.benefits.deps import CipherDep, NoncesDep, OrgsDep, ScopeDep
from services.benefits.merchants import repository, service
from services.benefits.merchants.models import Merchant
from services.benefits.merchants.schemas import (
    CredentialCreated,
    CredentialList,
    CredentialRead,
    MerchantCreate,
    MerchantList,
    MerchantRead,
)
from services.common.db import SessionDep
from services.common.pagination import Cursor, Limit, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1/benefits/merchants", tags=["merchants"])


def merchant_read(m: Merchant) -> MerchantRead:
    return MerchantRead(id=m.id, org_id=m.org_id, name=m.name, category=m.category, address=m.address,
                        lat=m.lat, lng=m.lng, phone=m.phone, created_at=m.created_at)


@router.post("", status_code=201, response_model=MerchantRead)
async def create_merchant(body: MerchantCreate, scope: ScopeDep, orgs: OrgsDep, session: SessionDep) -> MerchantRead:
    """Create a partner merchant in the creator's org (staff, admin)."""
    merchant = await service.create_merchant(session=session, data=body, scope=scope, orgs=orgs)
    return merchant_read(merchant)


@router.get("", response_model=MerchantList)
async def list_merchants(scope: ScopeDep, session: SessionDep, limit: Limit = 20,
                         cursor: Cursor = None) -> MerchantList:
    """Merchants in the caller's subtree, newest first."""
    after = decode_cursor(cursor)
    before = str(after[0]) if after else None
    rows = await repository.list_in_scope(session, root_path=scope.root_path, everywhere=scope.everywhere,
                                          before=before, limit=limit + 1)
    nxt = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return MerchantList(items=[merchant_read(m) for m in rows[:limit]], next_cursor=nxt)


@router.get("/{merchant_id}", response_model=MerchantRead)
async def get_merchant(merchant_id: str, scope: ScopeDep, session: SessionDep) -> MerchantRead:
    """One merchant in the caller's subtree."""
    return merchant_read(await service.get_in_scope(session=session, merchant_id=merchant_id, scope=scope))


@router.post("/{merchant_id}/credentials", status_code=201, response_model=CredentialCreated)
async def create_credential(merchant_id: str, scope: ScopeDep, cipher: CipherDep,
                            session: SessionDep) -> CredentialCreated:
    """A new API key for the merchant's POS; the secret is shown only in this answer."""
    merchant = await service.get_in_scope(session=session, merchant_id=merchant_id, scope=scope)
    key, secret = await service.create_credential(session=session, merchant=merchant, scope=scope, cipher=cipher)
    return CredentialCreated(key_id=key.key_id, secret=secret, merchant_id=merchant.id, created_at=key.created_at)


@router.get("/{merchant_id}/credentials", response_model=CredentialList)
async def list_credentials(merchant_id: str, scope: ScopeDep, session: SessionDep) -> CredentialList:
    """The merchant's keys (never their secrets)."""
    merchant = await service.get_in_scope(session=session, merchant_id=merchant_id, scope=scope)
    keys = await repository.keys_of(session, merchant.id)
    return CredentialList(items=[CredentialRead(key_id=k.key_id, merchant_id=k.merchant_id, created_at=k.created_at,
                                                revoked_at=k.revoked_at) for k in keys])


@router.delete("/{merchant_id}/credentials/{key_id}", status_code=204, response_class=Response)
async def revoke_credential(merchant_id: str, key_id: str, scope: ScopeDep, session: SessionDep,
                            nonces: NoncesDep) -> Response:
    """Revoke a key; the next request signed with it is refused, on every replica."""
    merchant = await service.get_in_scope(session=session, merchant_id=merchant_id, scope=scope)
    await service.revoke_credential(session=session, merchant=merchant, key_id=key_id, nonces=nonces)
    return Response(status_code=204)
