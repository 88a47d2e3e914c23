"""Every table of the identity service, imported in one place for Alembic."""

from services.identity.accounts.models import Account, OutboxEvent, Revocation, WechatIdentity
from services.identity.database import Base
from services.identity.notifications.models import Notification, WechatSubscription
from services.identity.passwords.models import LoginFailure
from services.identity.sms.models import SmsCode
from services.identity.tokens.models import RefreshToken

metadata = Base.metadata

__all__ = [
           "Account",
           "LoginFailure",
           "Notification",
           "OutboxEvent",
           "RefreshToken",
           "Revocation",
           "SmsCode",
           "WechatIdentity",
           "WechatSubscription",
           "metadata",
]
