"""Every table of the benefits service, imported in one place for Alembic."""

from services.benefits.database import Base
from services.benefits.merchant_api.models import IdempotencyRecord, UsedNonce
from services.benefits.merchants.models import Merchant, MerchantKey
from services.benefits.offers.models import Offer
from services.benefits.redemptions.models import Redemption, RedemptionCounter

metadata = Base.metadata

__all__ = ["IdempotencyRecord", "Merchant", "MerchantKey", "Offer", "Redemption", "RedemptionCounter",
           "UsedNonce", "metadata"]
